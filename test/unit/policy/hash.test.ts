import { canonicalJson, fingerprint } from '../../../planner/hash';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson('x')).toBe('"x"');
  });
});

describe('fingerprint', () => {
  const approval = { action: 'endpoint.isolate', params: { comment: 'contain web-01' }, approval: { groups: ['secops'], quorum: 1 } };

  it('is 16 hex digits and the same for equal data in any key order', () => {
    const fp = fingerprint(approval);
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint({ approval: { quorum: 1, groups: ['secops'] }, params: { comment: 'contain web-01' }, action: 'endpoint.isolate' })).toBe(fp);
    expect(fingerprint(structuredClone(approval))).toBe(fp);
  });

  it('changes with any change to what is approved', () => {
    const fp = fingerprint(approval);
    const variants = [
      { ...approval, action: 'endpoint.release' },
      { ...approval, params: { comment: 'contain web-02' } },
      { ...approval, approval: { groups: ['secops'], quorum: 2 } },
      { ...approval, approval: null },
    ];
    const fps = variants.map(fingerprint);
    for (const f of fps) expect(f).not.toBe(fp);
    expect(new Set(fps).size).toBe(fps.length);
  });
});
