import { detectFormat, FORMAT_NAMES, FORMATS, IngestError, normalize, parseBody } from '../../../ingest';
import { RECEIVED_AT, sampleText } from './samples';

function ingestError(fn: () => unknown): IngestError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(IngestError);
    return err as IngestError;
  }
  throw new Error('expected an IngestError');
}

const ctx = { headers: {}, receivedAt: RECEIVED_AT };

describe('ingest registry', () => {
  it('exposes the route names', () => {
    expect(Object.keys(FORMATS).sort()).toEqual(['alertmanager', 'asff', 'falco', 'falcon', 'github', 'msgraph', 'ocsf', 'trivy', 'wazuh']);
  });

  it('answers 404 for an unknown format', () => {
    const err = ingestError(() => normalize('splunk', {}, ctx));
    expect(err.status).toBe(404);
    expect(err.message).toContain('unknown format "splunk"');
  });

  it('answers 400 for garbage: not JSON, empty, or a JSON scalar', () => {
    for (const body of ['{"alerts": [', '', 'hello', '42', 'null', Buffer.from('\x00\x01')]) {
      const err = ingestError(() => normalize('alertmanager', body, ctx));
      expect(err.status).toBe(400);
    }
    expect(ingestError(() => normalize('alertmanager', '{"alerts": [', ctx)).message).toMatch(/^body is not valid JSON/);
  });

  it('answers 422 naming the missing path when the JSON is another format', () => {
    const err = ingestError(() => normalize('trivy', sampleText('alertmanager/metalmatze-alertmanager-bot-firing.json'), ctx));
    expect(err.status).toBe(422);
    expect(err.message).toBe('not a trivy payload: $.SchemaVersion is missing (expected a Trivy JSON report, SchemaVersion 2)');
    expect(err.format).toBe('trivy');
  });

  it.each(FORMAT_NAMES)('%s answers 422 for an unrelated JSON object', (format) => {
    const err = ingestError(() => normalize(format, { hello: 'world' }, ctx));
    expect(err.status).toBe(422);
    expect(err.message).toMatch(new RegExp(`^not a ${format} payload: \\$`));
  });

  it('accepts a Buffer body and falls back to receivedAt when the payload has no time', () => {
    const body = Buffer.from(JSON.stringify({ rule: 'Terminal shell in container', priority: 'Notice', output: 'x', hostname: 'node-1' }));
    const [f] = normalize('falco', body, ctx).findings;
    expect(f.observedAt).toBe(RECEIVED_AT);
    expect(f.asset).toEqual({ id: 'node-1', type: 'host' });
  });

  it('reports elements it cannot map as skipped instead of failing the batch', () => {
    const r = normalize('falco', [{ rule: 'r', priority: 'Error', output: 'x' }, { rule: 'r', priority: 'Error', hostname: 'h' }], ctx);
    expect(r.findings).toHaveLength(1);
    expect(r.skipped).toEqual([{ reason: 'no asset could be identified', ref: '[0]' }]);
  });

  it('clips over-long values to the schema limits', () => {
    const long = 'x'.repeat(5000);
    const [f] = normalize('falco', { rule: long, priority: 'Error', hostname: long, output: long }, ctx).findings;
    expect(f.rule.length).toBeLessThanOrEqual(512);
    expect(f.asset.id.length).toBeLessThanOrEqual(512);
    expect(f.title.length).toBeLessThanOrEqual(1024);
    expect(f.dedupeKey!.length).toBeLessThanOrEqual(400);
  });
});

describe('parseBody', () => {
  it('parses JSON and newline-delimited JSON', () => {
    expect(parseBody('{"a":1}')).toEqual({ a: 1 });
    expect(parseBody('{"a":1}\n\n{"a":2}\n')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(parseBody('\uFEFF[1]')).toEqual([1]);
  });
});

describe('detectFormat', () => {
  it('recognises the GitHub header and returns undefined for unknown JSON', () => {
    expect(detectFormat({ zen: 'x' }, { 'X-GitHub-Event': 'ping' })).toBe('github');
    expect(detectFormat({ hello: 'world' })).toBeUndefined();
    expect(detectFormat('[1, 2]')).toBeUndefined();
  });

  it('answers 400 for garbage', () => {
    expect(ingestError(() => detectFormat('{nope')).status).toBe(400);
  });
});
