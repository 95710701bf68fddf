import { run, sampleJson, sha256, single } from './samples';

const NEW = 'defender/msgraph-docs-security-alert-v2-get-new.json';
const IN_PROGRESS = 'defender/msgraph-docs-security-alert-v2-update-inprogress.json';

describe('msgraph normalizer', () => {
  it('maps a new alert with device evidence', () => {
    const raw = sampleJson(NEW);
    const f = single('msgraph', NEW);
    expect(f).toMatchObject({
      source: 'defender',
      rule: 'e0da400f-affd-43ef-b1d5-afc2eb6f2756',
      title: 'Suspicious execution of hidden file',
      severity: 'low',
      category: 'defense-evasion',
      status: 'open',
      observedAt: '2021-05-02T14:19:01.326Z',
      asset: { id: 'tempDns', type: 'host', tags: ['Test Machine'] },
      dedupeKey: 'defender|da637578995287051192_756343937',
    });
    expect(f.details).toMatchObject({
      defenderMachineId: '73e7e2de709dff64ef64b1d0c30e67fab63279db',
      classification: 'unknown',
      incidentId: '28282',
      mitreTechniques: ['T1564.001'],
    });
    expect(f.rawRef).toEqual({ format: 'msgraph', sha256: sha256(raw), sourceId: raw.id, url: raw.alertWebUrl });
  });

  it('maps an inProgress update: still open, classification kept, tenant when there is no evidence', () => {
    const f = single('msgraph', IN_PROGRESS);
    expect(f).toMatchObject({
      status: 'open',
      severity: 'low',
      asset: { id: 'b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c', type: 'tenant' },
      details: { classification: 'truePositive', determination: 'malware', alertStatus: 'inProgress' },
    });
  });

  it('maps a resolved false positive, observed at resolvedDateTime', () => {
    const alert = { ...sampleJson(NEW), status: 'resolved', classification: 'falsePositive', resolvedDateTime: '2021-05-03T09:00:00Z' };
    const f = run('msgraph', alert).findings[0];
    expect(f).toMatchObject({ status: 'resolved', observedAt: '2021-05-03T09:00:00.000Z', details: { classification: 'falsePositive' } });
  });

  it('accepts a {"value": [...]} list and skips entries that are not alerts', () => {
    const r = run('msgraph', { '@odata.context': 'x', value: [sampleJson(NEW), sampleJson(IN_PROGRESS), { resource: 'security/alerts_v2/1' }] });
    expect(r.findings.map((f) => f.rawRef?.sourceId)).toEqual(['da637578995287051192_756343937', 'da637551227677560813_-961444813']);
    expect(r.skipped).toEqual([{ reason: 'not a security alert (change notification or other resource)', ref: 'value[2]' }]);
  });

  it('rejects JSON that is no alert', () => {
    expect(() => run('msgraph', { title: 'x' })).toThrow(/\$\.id is missing/);
  });
});
