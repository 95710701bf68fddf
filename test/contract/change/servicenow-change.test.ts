/**
 * The ServiceNow Change adapter against the simulator's Change Management API: a change per
 * step, approved by people in ServiceNow, carried out and closed with its outcome, or canceled.
 */
import { correlationId } from '../../../activities/adapters/servicenow';
import type { ChangeControl } from '../../../activities/interfaces';
import { startServiceNowSimulator, type ServiceNowSimulator, type SimRecord } from '../../../simulators/servicenow';
import { failureOf, remediation } from '../ticketing/helpers';
import { PASSWORD, USER, changeAdapter, decide, openInput } from './helpers';

describe('ServiceNow Change adapter against the simulator', () => {
  let sim: ServiceNowSimulator;
  let snow: ChangeControl;
  let ciId: string;

  beforeAll(async () => {
    sim = await startServiceNowSimulator({ username: USER, password: PASSWORD, groups: ['Security Operations', 'Change Management'], change: { cabMembers: ['CAB Manager', 'alice'] } });
    ciId = sim.seedHost({ name: 'web-01', usedFor: 'Production' });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.server.clearFaults();
    snow = changeAdapter(sim);
  });

  const changesOf = (key: string): SimRecord[] => [...sim.changes.values()].filter((c) => c.values.correlation_id === correlationId(key));
  const patches = () => sim.server.served((q) => q.method === 'PATCH').length;

  it('opens a normal change that waits for assessment and the CAB, then runs and closes it with who approved', async () => {
    const r = remediation();
    const ref = await snow.openChange(openInput(r, { ci: { ciId, name: 'web-01' }, requestedWindow: { start: '2030-01-02T03:00:00Z', end: '2030-01-02T05:00:00Z' } }));
    const [chg] = changesOf(r.key('contain'));
    expect(ref).toEqual({ system: 'servicenow', changeId: chg.sys_id, number: expect.stringMatching(/^CHG\d{7}$/), url: `${sim.url}/change_request.do?sys_id=${chg.sys_id}`, existing: false });
    expect(chg.values).toMatchObject({ type: 'normal', state: '-4', approval: 'requested', cmdb_ci: ciId, correlation_display: 'drw', start_date: '2030-01-02 03:00:00', end_date: '2030-01-02 05:00:00' });
    expect(chg.values.assignment_group).toMatch(/^[0-9a-f]{32}$/);
    expect(chg.values.description).toContain('Change digest: sha256:4f1c0ffee');
    expect(chg.values.description).toContain(`Details: http://127.0.0.1:8080/v1/remediations/${r.remediationId}`);
    expect(chg.values.implementation_plan).toContain('isolate web-01');

    expect(await snow.getChange({ changeId: ref.changeId })).toEqual({
      changeId: ref.changeId,
      number: ref.number,
      type: 'normal',
      state: { label: 'Assess', value: -4 },
      implementable: false,
      approval: 'requested',
      plannedStart: '2030-01-02T03:00:00.000Z',
      plannedEnd: '2030-01-02T05:00:00.000Z',
      closed: false,
    });
    const early = await failureOf(snow.markImplementing({ ...r, idempotencyKey: r.key('contain:start'), changeId: ref.changeId }));
    expect(early).toMatchObject({ type: 'ChangeNotImplementable', nonRetryable: true });
    expect(early.message).toContain('is Assess (approval requested)');

    expect((await decide(sim, ref.number, 'approve', { as: 'alice' })).body).toMatchObject({ state_label: 'Authorize', approval: 'requested' });
    expect(await snow.getChange({ changeId: ref.changeId })).toMatchObject({ state: { label: 'Authorize', value: -3 }, implementable: false, approvedBy: ['alice'] });
    // The CAB schedules it into its own window.
    expect((await decide(sim, ref.number, 'approve', { as: 'CAB Manager', start: '2030-01-03 01:00:00', end: '2030-01-03 02:00:00' })).body).toMatchObject({ state_label: 'Scheduled', approval: 'approved' });
    expect(await snow.getChange({ changeId: ref.changeId })).toMatchObject({
      state: { label: 'Scheduled', value: -2 },
      implementable: true,
      approval: 'approved',
      approvedBy: ['alice', 'CAB Manager'],
      plannedStart: '2030-01-03T01:00:00.000Z',
      plannedEnd: '2030-01-03T02:00:00.000Z',
    });

    const start = { ...r, idempotencyKey: r.key('contain:start'), changeId: ref.changeId };
    expect(await snow.markImplementing(start)).toMatchObject({ state: { label: 'Implement', value: -1 }, implementable: true });
    const before = patches();
    await snow.markImplementing(start);
    expect(patches()).toBe(before);

    const close = { ...r, idempotencyKey: r.key('contain:close'), changeId: ref.changeId, outcome: 'successful' as const, notes: 'web-01 isolated; Falcon reports it contained.' };
    expect(await snow.closeChange(close)).toMatchObject({ state: { label: 'Closed', value: 3 }, closed: true, implementable: false, closeCode: 'successful' });
    expect(chg.values.close_notes).toContain('Falcon reports it contained.');
    const closed = patches();
    expect(await snow.closeChange(close)).toMatchObject({ closed: true, closeCode: 'successful' });
    expect(patches()).toBe(closed);
  });

  it('schedules a standard change from its template at once, and records an unsuccessful outcome', async () => {
    const r = remediation();
    const ref = await snow.openChange(openInput(r, { type: 'standard' }));
    expect(await snow.getChange({ changeId: ref.changeId })).toMatchObject({ type: 'standard', state: { label: 'Scheduled' }, implementable: true, approval: 'approved', closed: false });
    expect(sim.server.served((q) => q.method === 'POST' && q.path.startsWith('/api/sn_chg_rest/change/standard/'))).not.toHaveLength(0);
    // Closed straight from Scheduled: the adapter walks Implement and Review, as the model requires.
    const out = await snow.closeChange({ ...r, idempotencyKey: r.key('contain:close'), changeId: ref.changeId, outcome: 'unsuccessful', notes: 'Falcon refused the containment.' });
    expect(out).toMatchObject({ state: { label: 'Closed' }, closeCode: 'unsuccessful' });
  });

  it('sends an emergency change straight to the emergency CAB', async () => {
    const r = remediation();
    const ref = await snow.openChange(openInput(r, { type: 'emergency' }));
    expect(await snow.getChange({ changeId: ref.changeId })).toMatchObject({ type: 'emergency', state: { label: 'Authorize' }, approval: 'requested', implementable: false });
    await decide(sim, ref.number, 'approve', { as: 'alice' });
    expect(await snow.getChange({ changeId: ref.changeId })).toMatchObject({ state: { label: 'Scheduled' }, implementable: true, approvedBy: ['alice'] });
  });

  it('a change the CAB rejects goes back to New, is not asked again on a retry, and cannot be closed', async () => {
    const r = remediation();
    const ref = await snow.openChange(openInput(r));
    await decide(sim, ref.number, 'reject', { as: 'alice', comments: 'Not during quarter close.' });
    expect(await snow.getChange({ changeId: ref.changeId })).toMatchObject({ state: { label: 'New', value: -5 }, approval: 'rejected', rejectedBy: ['alice'], implementable: false, closed: false });
    const before = patches();
    expect(await snow.openChange(openInput(r))).toMatchObject({ changeId: ref.changeId, existing: true });
    expect(patches()).toBe(before);
    const err = await failureOf(snow.closeChange({ ...r, idempotencyKey: r.key('contain:close'), changeId: ref.changeId, outcome: 'successful', notes: 'x' }));
    expect(err).toMatchObject({ type: 'ChangeNotClosable', nonRetryable: true });
  });

  it('cancels a change a re-plan withdrew, once, and opens a new one if the step comes back', async () => {
    const r = remediation();
    const ref = await snow.openChange(openInput(r));
    const cancel = { ...r, idempotencyKey: r.key('contain:cancel'), changeId: ref.changeId, reason: 'Re-plan: the host was reimaged; containment is no longer needed.' };
    expect(await snow.cancelChange(cancel)).toMatchObject({ state: { label: 'Canceled', value: 4 }, closed: true });
    const [chg] = changesOf(r.key('contain'));
    expect(chg.journal.work_notes.map((n) => n.text).join()).toContain('the host was reimaged');
    // The pending approvals are withdrawn with it.
    const res = await fetch(`${sim.url}/api/now/table/sysapproval_approver?sysparm_query=sysapproval=${ref.changeId}&sysparm_fields=state`, {
      headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
    });
    expect(((await res.json()) as { result: { state: string }[] }).result.map((a) => a.state)).toEqual(['cancelled', 'cancelled']);
    const before = patches();
    await snow.cancelChange(cancel);
    expect(patches()).toBe(before);
    const again = await snow.openChange(openInput(r));
    expect(again).toMatchObject({ existing: false });
    expect(again.changeId).not.toBe(ref.changeId);
    expect(changesOf(r.key('contain'))).toHaveLength(2);
  });

  it('opens one change per step whatever the retries: a repeated call returns the same change', async () => {
    const r = remediation();
    const first = await snow.openChange(openInput(r));
    expect(await snow.openChange(openInput(r))).toEqual({ ...first, existing: true });
    expect(changesOf(r.key('contain'))).toHaveLength(1);
    const other = await snow.openChange(openInput(r, { idempotencyKey: r.key('patch') }));
    expect(other.changeId).not.toBe(first.changeId);
  });

  it('refuses a standard change when no template is configured, without creating anything', async () => {
    const r = remediation();
    const noTemplate = changeAdapter(sim, { SERVICENOW_STANDARD_CHANGE_TEMPLATE: undefined });
    const err = await failureOf(noTemplate.openChange(openInput(r, { type: 'standard' })));
    expect(err).toMatchObject({ type: 'servicenow.BadConfig', nonRetryable: true });
    expect(err.message).toContain('SERVICENOW_STANDARD_CHANGE_TEMPLATE');
    expect(changesOf(r.key('contain'))).toHaveLength(0);
  });

  it('reports an unknown change and a change id that is no sys_id as non-retryable', async () => {
    expect(await failureOf(snow.getChange({ changeId: 'f'.repeat(32) }))).toMatchObject({ nonRetryable: true, type: 'servicenow.ClientError' });
    expect(await failureOf(snow.getChange({ changeId: 'CHG0030001^ORstate=3' }))).toMatchObject({ nonRetryable: true, type: 'servicenow.BadInput' });
  });
});
