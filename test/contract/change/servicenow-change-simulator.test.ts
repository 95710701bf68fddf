/**
 * The simulator's Change Management API keeps ServiceNow's state model: nobody skips the CAB or
 * a state, a close needs its code and notes, and changes survive a restart of npm start.
 */
import { startServiceNowSimulator, type ServiceNowSimulator } from '../../../simulators/servicenow';
import { PASSWORD, USER, decide } from './helpers';

const auth = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' };

async function call(sim: ServiceNowSimulator, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.url}${path}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('the ServiceNow simulator\'s change state model', () => {
  let sim: ServiceNowSimulator;
  beforeAll(async () => {
    sim = await startServiceNowSimulator({ username: USER, password: PASSWORD });
  });
  afterAll(() => sim.close());

  const normal = async () => (await call(sim, 'POST', '/api/sn_chg_rest/change/normal', { short_description: 'Patch web-01' })).body.result;

  it('answers every field with its value and display value, as the Change Management API does', async () => {
    const created = await normal();
    expect(created.state).toEqual({ value: '-5', display_value: 'New' });
    expect(created.type).toEqual({ value: 'normal', display_value: 'Normal' });
    expect(created.number.value).toMatch(/^CHG\d{7}$/);
    const read = await call(sim, 'GET', `/api/sn_chg_rest/change/${created.sys_id.value}`);
    expect(read.body.result.short_description).toEqual({ value: 'Patch web-01', display_value: 'Patch web-01' });
    expect((await call(sim, 'GET', `/api/sn_chg_rest/change/normal/${created.sys_id.value}`)).status).toBe(200);
    expect((await call(sim, 'GET', `/api/sn_chg_rest/change/emergency/${created.sys_id.value}`)).status).toBe(404);
  });

  it('an integration that tries to skip the CAB is refused; only the approvers move the change on', async () => {
    const id = (await normal()).sys_id.value;
    expect((await call(sim, 'PATCH', `/api/sn_chg_rest/change/${id}`, { state: '-2' })).status).toBe(403);
    expect((await call(sim, 'PATCH', `/api/sn_chg_rest/change/${id}`, { state: '-4' })).body.result.approval.value).toBe('requested');
    const skip = await call(sim, 'PATCH', `/api/sn_chg_rest/change/${id}`, { state: '-2' });
    expect(skip.status).toBe(403);
    expect(skip.body.error.detail).toBe('Invalid state transition from Assess to Scheduled: the change must be approved first');
    // Setting the approval field by hand does not approve anything either.
    await call(sim, 'PATCH', `/api/sn_chg_rest/change/${id}`, { approval: 'approved' });
    expect(sim.changes.get(id)!.values.approval).toBe('requested');
  });

  it('a scheduled change cannot jump to Closed, and Closed needs a close code and notes', async () => {
    const { sys_id, number } = await normal();
    await call(sim, 'PATCH', `/api/sn_chg_rest/change/${sys_id.value}`, { state: '-4' });
    await decide(sim, number.value, 'approve', { as: 'alice' });
    expect((await decide(sim, number.value, 'approve', { as: 'bob' })).body).toMatchObject({ state_label: 'Scheduled' });
    expect((await decide(sim, number.value, 'approve', { as: 'carol' })).status).toBe(409);
    expect((await call(sim, 'PATCH', `/api/sn_chg_rest/change/${sys_id.value}`, { state: '3', close_code: 'successful', close_notes: 'x' })).status).toBe(403);
    await call(sim, 'PATCH', `/api/sn_chg_rest/change/${sys_id.value}`, { state: '-1' });
    await call(sim, 'PATCH', `/api/sn_chg_rest/change/${sys_id.value}`, { state: '0' });
    const bare = await call(sim, 'PATCH', `/api/sn_chg_rest/change/${sys_id.value}`, { state: '3' });
    expect(bare.status).toBe(403);
    expect(bare.body.error.detail).toContain('Close code, Close notes');
    expect((await call(sim, 'PATCH', `/api/sn_chg_rest/change/${sys_id.value}`, { state: '3', close_code: 'successful', close_notes: 'done' })).body.result.state.display_value).toBe('Closed');
    expect((await call(sim, 'PATCH', `/api/sn_chg_rest/change/${sys_id.value}`, { state: '4' })).status).toBe(403);
  });

  it('lists changes by encoded query, as the adapter searches by correlation id', async () => {
    await call(sim, 'POST', '/api/sn_chg_rest/change/emergency', { short_description: 'Isolate db-01', correlation_id: 'drw:rem-list:contain' });
    const found = await call(sim, 'GET', '/api/sn_chg_rest/change?sysparm_query=correlation_id=drw:rem-list:contain');
    expect(found.body.result.map((c: any) => c.type.value)).toEqual(['emergency']);
    expect((await call(sim, 'GET', '/api/sn_chg_rest/change/normal?sysparm_query=correlation_id=drw:rem-list:contain')).body.result).toEqual([]);
  });

  it('keeps changes, approvals and the change numbers across a restart (npm start\'s state file)', async () => {
    const { sys_id, number } = await normal();
    await call(sim, 'PATCH', `/api/sn_chg_rest/change/${sys_id.value}`, { state: '-4' });
    await decide(sim, number.value, 'approve', { as: 'alice' });
    const saved = JSON.parse(JSON.stringify(sim.snapshot()));
    const next = await startServiceNowSimulator({ username: USER, password: PASSWORD });
    try {
      next.restore(saved);
      expect((await decide(next, number.value, 'approve', { as: 'bob' })).body).toMatchObject({ state_label: 'Scheduled', approval: 'approved' });
      const approvals = await call(next, 'GET', `/api/now/table/sysapproval_approver?sysparm_query=sysapproval=${sys_id.value}^state=approved&sysparm_display_value=true&sysparm_fields=approver`);
      expect(approvals.body.result.map((a: any) => a.approver.display_value ?? a.approver)).toEqual(['alice', 'bob']);
      const fresh = (await call(next, 'POST', '/api/sn_chg_rest/change/normal', { short_description: 'after restart' })).body.result;
      expect(Number(fresh.number.value.slice(3))).toBe(Number(number.value.slice(3)) + 1);
    } finally {
      await next.close();
    }
  });
});

test('a simulator told who plays the CAB approves each stage as it asks, and records that person', async () => {
  const sim = await startServiceNowSimulator({ username: USER, password: PASSWORD, change: { autoApproveAs: 'cab.bot' } });
  try {
    const { sys_id } = (await call(sim, 'POST', '/api/sn_chg_rest/change/normal', { short_description: 'Contain web-2' })).body.result;
    // Nothing is approved before the integration asks for it (New → Assess).
    expect(sim.changes.get(sys_id.value)!.values).toMatchObject({ state: '-5', approval: 'not requested' });
    const assessed = await call(sim, 'PATCH', `/api/sn_chg_rest/change/${sys_id.value}`, { state: '-4' });
    expect(assessed.body.result).toMatchObject({ state: { display_value: 'Scheduled' }, approval: { value: 'approved' } });
    const approvers = await call(sim, 'GET', `/api/now/table/sysapproval_approver?sysparm_query=sysapproval=${sys_id.value}^state=approved&sysparm_display_value=true`);
    expect(approvers.body.result.map((a: any) => a.approver?.display_value ?? a.approver)).toEqual(['cab.bot', 'cab.bot']);
  } finally {
    await sim.close();
  }
});
