/**
 * Which change-management system a worker uses, and the in-process stand-in: it opens changes
 * that wait, approving nothing by itself unless a CAB member's decision (or a configured
 * approver) is given.
 */
import { createChangeActivities } from '../../../activities';
import { createInProcessSystems } from '../../../activities/inprocess';
import { buildSystems } from '../../../activities/registry';
import { failureOf, remediation } from '../ticketing/helpers';

const servicenow = { SERVICENOW_INSTANCE_URL: 'https://example.service-now.com', SERVICENOW_USERNAME: 'drw', SERVICENOW_PASSWORD: 'pw' };
const change = (key: (s: string) => string, remediationId: string, type: 'normal' | 'standard' | 'emergency' = 'normal') => ({
  remediationId,
  idempotencyKey: key('contain'),
  type,
  shortDescription: 'Contain web-01',
  description: 'isolate web-01',
  digest: 'sha256:1',
});

describe('choosing the change-management system', () => {
  it('uses ServiceNow Change when ServiceNow is configured, the stand-in only where allowed, and none otherwise', () => {
    expect(buildSystems(servicenow).providers.change).toBe('servicenow');
    expect(buildSystems({ ...servicenow, DRW_CHANGE: 'inprocess' }).providers.change).toBe('inprocess');
    expect(buildSystems({ DRW_ALLOW_INPROCESS: '1' }).providers.change).toBe('inprocess');
    const none = buildSystems({});
    expect(none.providers.change).toBe('none');
    expect(none.unprovided.change).toMatch(/no change provider is configured on this worker: set DRW_CHANGE \(servicenow\)/);
    expect(() => buildSystems({ ...servicenow, SERVICENOW_STANDARD_CHANGE_TEMPLATE: 'Contain hosts' })).toThrow(/SERVICENOW_STANDARD_CHANGE_TEMPLATE: must be the sys_id/);
  });

  it('a worker without a change system refuses the change activities, saying what to configure', async () => {
    const acts = createChangeActivities({});
    const err = await failureOf(acts.getChange({ changeId: 'x' }));
    expect(err).toMatchObject({ type: 'change.NotConfigured', nonRetryable: true });
    expect(err.message).toContain('DRW_CHANGE');
  });
});

describe('the in-process change stand-in', () => {
  it('approves nothing by itself: a normal change waits until a CAB member decides', async () => {
    const systems = createInProcessSystems();
    const acts = createChangeActivities(systems);
    const r = remediation();
    const ref = await acts.openChange(change(r.key, r.remediationId));
    expect(await acts.openChange(change(r.key, r.remediationId))).toMatchObject({ changeId: ref.changeId, existing: true });
    expect(await acts.getChange(ref)).toMatchObject({ state: { label: 'Authorize', value: -3 }, approval: 'requested', implementable: false });
    expect(await failureOf(acts.markChangeImplementing({ ...r, idempotencyKey: r.key('start'), changeId: ref.changeId }))).toMatchObject({ type: 'ChangeNotImplementable' });
    systems.decideChange(ref.changeId, 'approve', 'alice');
    expect(await acts.getChange(ref)).toMatchObject({ state: { label: 'Scheduled' }, implementable: true, approvedBy: ['alice'] });
    await acts.markChangeImplementing({ ...r, idempotencyKey: r.key('start'), changeId: ref.changeId });
    expect(await acts.closeChange({ ...r, idempotencyKey: r.key('close'), changeId: ref.changeId, outcome: 'successful', notes: 'done' })).toMatchObject({ closed: true, closeCode: 'successful' });
  });

  it('with a configured approver, and for standard changes, the change is implementable at once; a rejected one is not', async () => {
    const approving = createChangeActivities(createInProcessSystems({ changeApprover: 'demo-cab' }));
    const r = remediation();
    expect(await approving.getChange(await approving.openChange(change(r.key, r.remediationId, 'emergency')))).toMatchObject({ implementable: true, approvedBy: ['demo-cab'] });
    const plain = createInProcessSystems();
    const acts = createChangeActivities(plain);
    expect(await acts.getChange(await acts.openChange(change(r.key, r.remediationId, 'standard')))).toMatchObject({ state: { label: 'Scheduled' }, approval: 'approved' });
    const other = remediation();
    const ref = await acts.openChange(change(other.key, other.remediationId));
    plain.decideChange(ref.changeId, 'reject', 'bob');
    expect(await acts.getChange(ref)).toMatchObject({ state: { label: 'New' }, approval: 'rejected', rejectedBy: ['bob'], implementable: false });
    expect(await acts.cancelChange({ ...other, idempotencyKey: other.key('cancel'), changeId: ref.changeId, reason: 're-plan' })).toMatchObject({ state: { label: 'Canceled' }, closed: true });
  });
});
