import { run, sampleJson, sha256, single } from './samples';

const LEGACY = 'crowdstrike/sekoia-falcon-stream-DetectionSummaryEvent-legacy.json';
const EPP = 'crowdstrike/sekoia-falcon-stream-EppDetectionSummaryEvent.json';
const CLOSED = 'crowdstrike/sekoia-falcon-stream-UserActivityAuditEvent-detection_update-closed.json';

describe('falcon normalizer', () => {
  it('maps a legacy DetectionSummaryEvent (Severity 5 / Critical)', () => {
    const raw = sampleJson(LEGACY);
    const f = single('falcon', LEGACY);
    expect(f).toMatchObject({
      source: 'crowdstrike',
      rule: 'Overwatch Detection',
      severity: 'critical',
      category: 'malware',
      status: 'open',
      observedAt: '2022-07-07T06:15:38.000Z',
      asset: { id: 'example.com', type: 'host' },
      details: { fileName: 'explorer.exe', sha256: '01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b' },
    });
    // Legacy severity is 1-5, not a score.
    expect(f.riskScore).toBeUndefined();
    expect(f.rawRef?.sha256).toBe(sha256(raw));
  });

  it('maps an EppDetectionSummaryEvent with device id, risk score and console link', () => {
    const raw = sampleJson(EPP);
    const f = single('falcon', EPP);
    expect(f).toMatchObject({
      rule: 'NGAV',
      severity: 'low',
      riskScore: 30,
      category: 'malware',
      status: 'open',
      observedAt: '2024-06-10T15:21:11.000Z',
      asset: { id: 'example.com', type: 'host' },
      dedupeKey: `crowdstrike|detection:${raw.event.CompositeId}`,
      details: { crowdstrikeDeviceId: 'c8d1292a8a904216aa25ab728f4b45fd', tactic: 'Malware', technique: 'PUP' },
    });
    expect(f.rawRef).toMatchObject({ sourceId: raw.event.CompositeId, url: raw.event.FalconHostLink });
  });

  it('maps a detection_update to closed as a resolution of that detection', () => {
    const f = single('falcon', CLOSED);
    expect(f).toMatchObject({
      source: 'crowdstrike',
      status: 'resolved',
      observedAt: '2022-07-12T08:35:40.000Z',
      asset: { id: '5418788591a444d1b45c2b39d3b07b50', type: 'host' },
      dedupeKey: 'crowdstrike|detection:ldt:5418788591a444d1b45c2b39d3b07b50:21483381998',
      details: { crowdstrikeDeviceId: '5418788591a444d1b45c2b39d3b07b50', newState: 'closed' },
    });
  });

  it('gives a detection and its closing update the same dedupeKey', () => {
    const detection = sampleJson(LEGACY);
    detection.event.DetectId = 'ldt:5418788591a444d1b45c2b39d3b07b50:21483381998';
    const open = run('falcon', detection).findings[0];
    const closed = single('falcon', CLOSED);
    expect(open.dedupeKey).toBe(closed.dedupeKey);
    expect(open.details?.crowdstrikeDeviceId).toBe('5418788591a444d1b45c2b39d3b07b50');
  });

  it('skips updates that do not close, and non-detection events', () => {
    const inProgress = sampleJson(CLOSED);
    inProgress.event.AuditKeyValues[1].ValueString = 'in_progress';
    const auth = { metadata: { eventType: 'AuthActivityAuditEvent', eventCreationTime: 1 }, event: { OperationName: 'userAuthenticate' } };
    const r = run('falcon', [inProgress, auth]);
    expect(r.findings).toEqual([]);
    expect(r.skipped).toEqual([
      { reason: 'detection_update to state in_progress does not close the detection', ref: '[0]' },
      { reason: 'Falcon event type AuthActivityAuditEvent is not a detection', ref: '[1]' },
    ]);
  });

  it('rejects JSON that is no stream event', () => {
    expect(() => run('falcon', { event: {} })).toThrow(/\$\.metadata\.eventType is missing/);
  });
});
