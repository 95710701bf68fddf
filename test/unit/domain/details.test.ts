import { capDetails, DEFAULT_MAX_DETAILS_BYTES, jsonBytes, mergeDetails, TRUNCATED_KEY, utf8Length, type Details } from '../../../domain/details';
import { detectionSchema, detectionSchemaWith } from '../../../domain/detection';

const CAP = DEFAULT_MAX_DETAILS_BYTES;

const native = (details: Details) => ({
  source: 'edr',
  rule: 'Trojan.Generic',
  title: 'Malware on web-1',
  severity: 'high',
  asset: { id: 'web-1', type: 'host' },
  details,
});

describe('native details over the limit are refused', () => {
  it('a detection carrying 1 MiB of details is invalid, the error naming details, its size and the limit', () => {
    const r = detectionSchema.safeParse(native({ evidence: 'x'.repeat(1024 * 1024) }));
    expect(r.success).toBe(false);
    expect(r.error!.issues).toEqual([
      expect.objectContaining({ path: ['details'], message: `${1024 * 1024 + 15} bytes of JSON, more than the ${CAP}-byte limit (link to large evidence instead of embedding it)` }),
    ]);
  });

  it('details just within the limit are accepted as sent', () => {
    const details = { evidence: 'x'.repeat(CAP - 15) };
    expect(jsonBytes(details)).toBe(CAP);
    expect(detectionSchema.parse(native(details)).details).toEqual(details);
  });

  it('a configured limit applies instead of the default, and unknown fields stay refused', () => {
    const small = detectionSchemaWith({ maxDetailsBytes: 4096 });
    expect(small.safeParse(native({ evidence: 'x'.repeat(5000) })).error?.issues[0].path).toEqual(['details']);
    expect(small.safeParse({ ...native({}), admin: true }).success).toBe(false);
  });

  it('counts bytes, not characters: 6,000 three-byte characters are over a 16 KiB limit', () => {
    const details = { note: '€'.repeat(6000) };
    expect(jsonBytes(details)).toBe(Buffer.byteLength(JSON.stringify(details)));
    expect(detectionSchema.safeParse(native(details)).success).toBe(false);
  });

  it('counts UTF-8 exactly for astral characters and escapes', () => {
    for (const s of ['😀 ok', 'a\u0000b"\\', '\ud800 lone', 'ｄｒｗ']) expect(utf8Length(JSON.stringify(s))).toBe(Buffer.byteLength(JSON.stringify(s)));
  });
});

describe('merged details across repeats stay within the cap', () => {
  it('five repeats of 800 KB each (3.9 MiB merged before) keep the first facts and name what was dropped', () => {
    let details: Details = { package: 'openssl', fixedVersion: '3.0.13' };
    const truncations: boolean[] = [];
    for (let i = 1; i <= 5; i++) {
      const r = mergeDetails(details, { [`blob${i}`]: 'b'.repeat(800 * 1024), seen: i }, CAP);
      details = r.details;
      truncations.push(r.truncated);
    }
    expect(jsonBytes(details)).toBeLessThanOrEqual(CAP);
    expect(details).toEqual({ package: 'openssl', fixedVersion: '3.0.13', seen: 5, [TRUNCATED_KEY]: ['blob1', 'blob2', 'blob3', 'blob4', 'blob5'] });
    expect(truncations).toEqual([true, true, true, true, true]);
  });

  it('a repeat within the cap merges as before: its values win, nothing is marked', () => {
    const r = mergeDetails({ bucket: 'logs', region: 'eu-west-1' }, { bucket: 'logs-2', cve: 'CVE-2024-1' }, CAP);
    expect(r).toEqual({ details: { bucket: 'logs-2', region: 'eu-west-1', cve: 'CVE-2024-1' }, truncated: false });
  });

  it('drops the largest values first and keeps the small ones', () => {
    const r = capDetails({ a: 'a'.repeat(3000), b: 'b'.repeat(9000), c: 'c'.repeat(6000), d: 1 }, CAP);
    expect(Object.keys(r.details)).toEqual(['a', 'c', 'd', TRUNCATED_KEY]);
    expect(r.details[TRUNCATED_KEY]).toEqual(['b']);
    expect(jsonBytes(r.details)).toBeLessThanOrEqual(CAP);
  });

  it('a hundred oversized repeats leave a bounded marker that says more were dropped than listed', () => {
    let details: Details = { package: 'openssl' };
    for (let i = 0; i < 100; i++) details = mergeDetails(details, { [`k${String(i).padStart(3, '0')}`]: 'v'.repeat(20_000) }, CAP).details;
    expect(details.package).toBe('openssl');
    expect(details[TRUNCATED_KEY]).toEqual(['k000', 'k001', 'k002', 'k003', 'k004', 'k005', 'k006', 'k007', '…']);
    expect(jsonBytes(details)).toBeLessThanOrEqual(CAP);
  });

  it('thousands of small keys are capped in one pass, the same way every time', () => {
    const many = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`key-${i}`, i]));
    const started = Date.now();
    const first = mergeDetails({ package: 'openssl' }, many, CAP);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(jsonBytes(first.details)).toBeLessThanOrEqual(CAP);
    expect(first.details.package).toBe('openssl');
    expect(mergeDetails({ package: 'openssl' }, many, CAP)).toEqual(first);
  });

  it('a repeat that swells an existing value past the cap leaves the value the remediation had', () => {
    const r = mergeDetails({ repository: 'acme/infra', manifest: 'go.mod' }, { repository: 'r'.repeat(20_000), cve: 'CVE-2024-1' }, CAP);
    expect(r).toEqual({ details: { repository: 'acme/infra', manifest: 'go.mod', cve: 'CVE-2024-1', [TRUNCATED_KEY]: ['repository'] }, truncated: true });
  });

  it('keeps the names an earlier truncation listed, from either side', () => {
    const r = mergeDetails({ a: 1, [TRUNCATED_KEY]: ['old'] }, { b: 2, [TRUNCATED_KEY]: ['tool'] }, CAP);
    expect(r).toEqual({ details: { a: 1, b: 2, [TRUNCATED_KEY]: ['old', 'tool'] }, truncated: false });
  });
});
