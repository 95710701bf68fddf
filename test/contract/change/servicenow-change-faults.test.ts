/**
 * Faults on the way to ServiceNow's Change Management API: what Temporal retries, what it does
 * not, and that no retry ever opens a second change or moves a change twice.
 */
import { ApplicationFailure } from '@temporalio/common';
import { correlationId, createServiceNowChange, createServiceNowClient } from '../../../activities/adapters/servicenow';
import type { ChangeControl } from '../../../activities/interfaces';
import { startServiceNowSimulator, type ServiceNowSimulator, type SimRecord } from '../../../simulators/servicenow';
import { basicSecrets, expectNoSecrets, failureOf, remediation, retryLoop, timeOutFirst } from '../ticketing/helpers';
import { PASSWORD, USER, changeAdapter, changeConfig, decide, openInput } from './helpers';

const CREATE = /^POST \/api\/sn_chg_rest\/change\/normal$/;

describe('ServiceNow Change adapter under faults', () => {
  let sim: ServiceNowSimulator;
  let snow: ChangeControl;

  beforeAll(async () => {
    sim = await startServiceNowSimulator({ username: USER, password: PASSWORD, groups: ['Change Management'] });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.server.clearFaults();
    snow = changeAdapter(sim);
  });

  const changesOf = (key: string): SimRecord[] => [...sim.changes.values()].filter((c) => c.values.correlation_id === correlationId(key));
  const creates = (since: number) => sim.server.served((q) => q.method === 'POST' && q.path === '/api/sn_chg_rest/change/normal' && q.at >= since);

  it('retries a 429 after ServiceNow\'s Retry-After and opens one change', async () => {
    const r = remediation();
    sim.server.setFaults({ queue: [{ kind: 'rateLimit', retryAfterSeconds: 1 }], match: CREATE });
    const out = await retryLoop(() => snow.openChange(openInput(r)));
    const first = out.errors[0] as ApplicationFailure;
    expect(first).toMatchObject({ nonRetryable: false, nextRetryDelay: 1000 });
    expect(out.attempts).toBe(2);
    expect(changesOf(r.key('contain'))).toHaveLength(1);
    expect(changesOf(r.key('contain'))[0].values.state).toBe('-4');
  });

  it('retries a 503 and opens one change', async () => {
    const r = remediation();
    sim.server.setFaults({ queue: [{ kind: 'status', status: 503 }, { kind: 'status', status: 502 }], match: CREATE });
    const out = await retryLoop(() => snow.openChange(openInput(r)));
    expect(out.attempts).toBe(3);
    expect(out.errors.every((e) => (e as ApplicationFailure).nonRetryable === false)).toBe(true);
    expect(changesOf(r.key('contain'))).toHaveLength(1);
  });

  it('does not retry a 400 and carries ServiceNow\'s message', async () => {
    const r = remediation();
    sim.server.setFaults({ queue: [{ kind: 'status', status: 400, body: { error: { message: 'Invalid value for field risk', detail: 'risk must be 2-4' }, status: 'failure' } }], match: CREATE });
    const err = await failureOf(retryLoop(() => snow.openChange(openInput(r))).then((o) => o.result));
    expect(err).toMatchObject({ nonRetryable: true, type: 'servicenow.ClientError' });
    expect(err.message).toContain('Invalid value for field risk');
    expect(changesOf(r.key('contain'))).toHaveLength(0);
  });

  it('opens exactly one change when the answer to the create is lost after ServiceNow created it', async () => {
    const r = remediation();
    const client = createServiceNowClient(changeConfig(sim));
    // The create is served after 700 ms; the client gives up on it after 300 ms.
    timeOutFirst(client, 'post', '/api/sn_chg_rest/change/normal', 300);
    const quick = createServiceNowChange(changeConfig(sim), { client });
    const since = Date.now();
    sim.server.setFaults({ queue: [{ kind: 'slow', ms: 700 }], match: CREATE });
    const out = await retryLoop(() => quick.openChange(openInput(r)), { delayMs: 800 });
    expect(out.attempts).toBe(2);
    expect((out.errors[0] as ApplicationFailure).nonRetryable).toBe(false);
    expect(creates(since)).toHaveLength(1);
    const [chg] = changesOf(r.key('contain'));
    expect(changesOf(r.key('contain'))).toHaveLength(1);
    // The retry found the change and still asked for its approval, which the lost attempt never did.
    expect(out.result).toMatchObject({ changeId: chg.sys_id, existing: true });
    expect(chg.values).toMatchObject({ state: '-4', approval: 'requested' });
  });

  it('resumes closing where a failed attempt stopped, moving each state once', async () => {
    const r = remediation();
    const ref = await snow.openChange(openInput(r));
    await decide(sim, ref.number, 'approve', { as: 'alice' });
    await decide(sim, ref.number, 'approve', { as: 'bob' });
    await snow.markImplementing({ ...r, idempotencyKey: r.key('contain:start'), changeId: ref.changeId });
    const since = Date.now();
    // Implement → Review goes through (a fault of 0 ms is no fault); Review → Closed meets a 500 once.
    sim.server.setFaults({ queue: [{ kind: 'slow', ms: 0 }, { kind: 'status', status: 500 }], match: /^PATCH \/api\/sn_chg_rest\/change\// });
    const close = { ...r, idempotencyKey: r.key('contain:close'), changeId: ref.changeId, outcome: 'successful' as const, notes: 'contained' };
    const out = await retryLoop(() => snow.closeChange(close));
    expect(out.attempts).toBe(2);
    expect((out.errors[0] as ApplicationFailure).nonRetryable).toBe(false);
    expect(out.result).toMatchObject({ state: { label: 'Closed' }, closeCode: 'successful' });
    expect(sim.server.served((q) => q.method === 'PATCH' && q.at >= since).map((q) => (q.body as { state: string }).state)).toEqual(['0', '3']);
  });

  it('treats wrong credentials as a non-retryable 401 without leaking them', async () => {
    const wrong = 'not-the-password-123';
    const bad = changeAdapter(sim, { SERVICENOW_PASSWORD: wrong });
    const err = await failureOf(bad.openChange(openInput(remediation())));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('401');
    expectNoSecrets(err, [...basicSecrets(USER, wrong), PASSWORD]);
  });
});
