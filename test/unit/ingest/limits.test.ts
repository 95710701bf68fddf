import { jsonBytes, TRUNCATED_KEY } from '../../../domain/details';
import { DEFAULT_INGEST_LIMITS, FORMAT_NAMES, IngestError, loadIngestLimits, normalize, type IngestLimits } from '../../../ingest';
import { allSampleFiles, FOLDER_FORMAT, RECEIVED_AT, sampleText } from './samples';

const LIMITS: IngestLimits = { maxFindings: 500, maxDetailsBytes: 16 * 1024 };
const ctx = (limits: IngestLimits = LIMITS) => ({ headers: {}, receivedAt: RECEIVED_AT, limits });

/** As many minimal alerts as fit in `bytes`: the attack body that yielded 21,622 findings. */
function alertFlood(bytes: number): { body: string; alerts: number } {
  const alerts: string[] = [];
  let size = '{"version":"4","alerts":[]}'.length;
  for (let i = 0; ; i++) {
    const a = `{"labels":{"alertname":"A","instance":"h${i}"}}`;
    if (size + a.length + 1 > bytes) break;
    alerts.push(a);
    size += a.length + 1;
  }
  return { body: `{"version":"4","alerts":[${alerts.join(',')}]}`, alerts: alerts.length };
}

function refusal(fn: () => unknown): IngestError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IngestError);
    return e as IngestError;
  }
  throw new Error('expected an IngestError');
}

describe('findings per request are capped', () => {
  it('a 1 MiB Alertmanager body of 21,000+ alerts is refused with 413 naming the count and the limit, before mapping them', () => {
    const { body, alerts } = alertFlood(1024 * 1024);
    expect(alerts).toBeGreaterThan(21_000);
    const started = Date.now();
    const err = refusal(() => normalize('alertmanager', body, ctx()));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(err.status).toBe(413);
    expect(err.message).toBe(`${alerts} findings in one payload, more than the limit of 500 (DRW_INGEST_MAX_FINDINGS): send them in smaller batches; nothing was started`);
  });

  it('a payload of exactly the limit is accepted whole', () => {
    const body = JSON.stringify({ version: '4', alerts: Array.from({ length: 500 }, (_, i) => ({ labels: { alertname: 'A', instance: `h${i}` } })) });
    expect(normalize('alertmanager', body, ctx()).findings).toHaveLength(500);
    expect(refusal(() => normalize('alertmanager', body, ctx({ ...LIMITS, maxFindings: 499 }))).status).toBe(413);
  });

  it('skipped elements do not count toward the limit', () => {
    const alerts = [...Array.from({ length: 600 }, () => ({ nolabels: true })), { labels: { alertname: 'A', instance: 'h' } }];
    const r = normalize('alertmanager', { version: '4', alerts }, ctx());
    expect(r.findings).toHaveLength(1);
    expect(r.skipped).toHaveLength(600);
  });
});

describe('details of tool findings are capped', () => {
  it('an alert whose labels make 40 KB of details keeps its finding and names the dropped labels under detailsTruncated', () => {
    const labels = { alertname: 'DiskFull', instance: 'db-1', ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`l${i}`, 'v'.repeat(1000)])) };
    const r = normalize('alertmanager', { version: '4', alerts: [{ labels, annotations: { summary: 'disk full' } }] }, ctx());
    expect(r.skipped).toEqual([]);
    const [f] = r.findings;
    expect(f.asset.id).toBe('db-1');
    expect(f.details).toMatchObject({ summary: 'disk full' });
    expect(f.details![TRUNCATED_KEY]).toEqual(['labels']);
    expect(f.details!.labels).toBeUndefined();
    expect(jsonBytes(f.details)).toBeLessThanOrEqual(LIMITS.maxDetailsBytes);
  });

  // The cap sits in normalize, after every format's mapping; a tiny limit shows each format goes through it.
  it.each(FORMAT_NAMES)('%s findings keep their place and shed detail values past a 256-byte limit', (format) => {
    const files = allSampleFiles().filter((rel) => FOLDER_FORMAT[rel.split('/')[0]] === format);
    let truncated = 0;
    for (const rel of files) {
      const full = normalize(format, sampleText(rel), ctx());
      const small = normalize(format, sampleText(rel), ctx({ ...LIMITS, maxDetailsBytes: 256 }));
      expect(small.findings.map((f) => f.rawRef?.sha256)).toEqual(full.findings.map((f) => f.rawRef?.sha256));
      small.findings.forEach((f, i) => {
        expect(jsonBytes(f.details ?? {})).toBeLessThanOrEqual(256);
        const over = jsonBytes(full.findings[i].details ?? {}) > 256;
        expect(f.details?.[TRUNCATED_KEY] !== undefined).toBe(over);
        if (over) truncated++;
      });
    }
    expect(truncated).toBeGreaterThan(0);
  });
});

describe('limits from the environment', () => {
  it('default to 500 findings and 16 KiB of details', () => {
    expect(loadIngestLimits({})).toEqual(DEFAULT_INGEST_LIMITS);
    expect(DEFAULT_INGEST_LIMITS).toEqual({ maxFindings: 500, maxDetailsBytes: 16_384 });
  });

  it('are read from DRW_INGEST_MAX_FINDINGS and DRW_MAX_DETAILS_BYTES', () => {
    expect(loadIngestLimits({ DRW_INGEST_MAX_FINDINGS: '50', DRW_MAX_DETAILS_BYTES: '8192' })).toEqual({ maxFindings: 50, maxDetailsBytes: 8192 });
  });

  it('out of range, the error names the variable', () => {
    expect(() => loadIngestLimits({ DRW_INGEST_MAX_FINDINGS: '0' })).toThrow(/^invalid ingest limits configuration: DRW_INGEST_MAX_FINDINGS: /);
    expect(() => loadIngestLimits({ DRW_MAX_DETAILS_BYTES: '1048576' })).toThrow(/^invalid ingest limits configuration: DRW_MAX_DETAILS_BYTES: /);
  });
});
