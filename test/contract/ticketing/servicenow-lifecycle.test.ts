/**
 * An incident's life after drw opens it: a person resolves it in ServiceNow, drw reads who and
 * with which close code, drw reopens it with its evidence, and the state-change business rule
 * tells drw.
 */
import { correlationId, createServiceNowTicketing, loadServiceNowConfig, remediationRefOfCorrelation } from '../../../activities/adapters/servicenow';
import type { Ticketing } from '../../../activities/interfaces';
import { SimulatorServer } from '../../../simulators/base';
import { startServiceNowSimulator, type ServiceNowSimulator } from '../../../simulators/servicenow';
import { failureOf, remediation, retryLoop } from './helpers';

const USER = 'drw.integration';
const PASSWORD = 'Sn0w-lifecycle-secret-password!';
const CALLBACK_TOKEN = 'servicenow-callback-shared-secret-0123456789';

describe('ServiceNow incident lifecycle against the simulator', () => {
  let sim: ServiceNowSimulator;
  let receiver: SimulatorServer;
  let snow: Ticketing;

  beforeAll(async () => {
    sim = await startServiceNowSimulator({ username: USER, password: PASSWORD, groups: ['Security Operations'] });
    receiver = new SimulatorServer('receiver').route('POST', '/callback', () => ({ status: 202, body: {} }));
    await receiver.start();
  });
  afterAll(async () => {
    await sim.close();
    await receiver.close();
  });
  beforeEach(() => {
    sim.server.clearFaults();
    sim.options.callback = undefined;
    snow = createServiceNowTicketing(
      loadServiceNowConfig({ SERVICENOW_INSTANCE_URL: sim.url, SERVICENOW_USERNAME: USER, SERVICENOW_PASSWORD: PASSWORD, SERVICENOW_ASSIGNMENT_GROUP: 'Security Operations', SERVICENOW_TIMEOUT_MS: '5000' })!,
    );
  });

  async function openIncident() {
    const r = remediation();
    const ref = await snow.openTicket({ ...r, idempotencyKey: r.key('open'), title: 'Malware on laptop-42', description: 'trojan', severity: 'critical', priority: 'highest', labels: [], assetId: 'laptop-42' });
    const inc = [...sim.incidents.values()].find((i) => i.values.number === ref.ticketId)!;
    return { r, number: ref.ticketId, inc };
  }
  async function asPerson(number: string, action: 'resolve' | 'close' | 'reopen', body: Record<string, unknown>) {
    const res = await fetch(`${sim.url}/_admin/incidents/${number}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const patches = () => sim.server.served((q) => q.method === 'PATCH').length;

  it('a person resolves the incident: drw reads who resolved it and the close code', async () => {
    const { number } = await openIncident();
    expect(await asPerson(number, 'resolve', { as: 'bob.analyst', close_code: 'Workaround provided', close_notes: 'Reimaged by hand' })).toMatchObject({ status: 200, body: { state: '6', state_label: 'Resolved' } });
    expect(await snow.getTicketState({ ticketId: number })).toEqual({ ticketId: number, status: 'Resolved', closed: true, updatedBy: 'bob.analyst', resolution: 'Workaround provided' });
  });

  it('drw reopens a resolved incident to In Progress with one work note, however often the call is retried', async () => {
    const { r, number, inc } = await openIncident();
    await asPerson(number, 'resolve', { as: 'bob.analyst' });
    const reopen = { ...r, idempotencyKey: r.key('reopen:1'), ticketId: number, comment: 'Verification failed: the host still runs the trojan.' };
    await snow.reopenTicket(reopen);
    expect(inc.values).toMatchObject({ state: '2', active: 'true', reopen_count: '1', sys_updated_by: USER });
    expect(inc.journal.work_notes).toHaveLength(1);
    expect(inc.journal.work_notes[0].text).toContain('still runs the trojan');

    const before = patches();
    await snow.reopenTicket(reopen);
    expect(patches()).toBe(before);
    expect(await snow.getTicketState({ ticketId: number })).toEqual({ ticketId: number, status: 'In Progress', closed: false, updatedBy: USER });
  });

  it('reopening an incident that is still open only adds the work note, once per idempotency key', async () => {
    const { r, number, inc } = await openIncident();
    const reopen = { ...r, idempotencyKey: r.key('reopen:1'), ticketId: number, comment: 'still failing' };
    await snow.reopenTicket(reopen);
    await snow.reopenTicket(reopen);
    expect(inc.values.state).toBe('1');
    expect(inc.journal.work_notes).toHaveLength(1);
  });

  it('a reopen that meets a 500 then a 429 is retried to one work note', async () => {
    const { r, number, inc } = await openIncident();
    await asPerson(number, 'close', { as: 'bob.analyst' });
    sim.server.setFaults({ queue: [{ kind: 'status', status: 500 }, { kind: 'rateLimit', retryAfterSeconds: 2 }], match: /^PATCH / });
    const out = await retryLoop(() => snow.reopenTicket({ ...r, idempotencyKey: r.key('reopen'), ticketId: number, comment: 'evidence' }), { capMs: 20 });
    expect(out.attempts).toBe(3);
    expect(out.errors.map((e) => (e as { type?: string }).type)).toEqual(['servicenow.ServerError', 'servicenow.RateLimited']);
    expect(inc.values.state).toBe('2');
    expect(inc.journal.work_notes).toHaveLength(1);
  });

  it('reopening an unknown incident is a non-retryable failure', async () => {
    const err = await failureOf(snow.reopenTicket({ remediationId: 'drw-x', idempotencyKey: 'drw-x:reopen', ticketId: 'INC9999999', comment: 'x' }));
    expect(err).toMatchObject({ nonRetryable: true, type: 'servicenow.NotFound' });
  });

  it('correlation ids name a remediation instance readably, so a callback can name the remediation', () => {
    const instance = 'drw-trivy-web-1-cve-2021-23337-0a1b2c3d4e5f6a7b~0198c5e2-7f1';
    expect(correlationId(instance)).toBe(`drw:${instance}`);
    expect(remediationRefOfCorrelation(correlationId(instance))).toBe(instance);
    // Longer than the field: hashed, and then it names nothing a callback could act on.
    const long = `drw-${'a'.repeat(95)}~0198c5e2-7f1`;
    expect(correlationId(long).length).toBeLessThanOrEqual(100);
    expect(remediationRefOfCorrelation(correlationId(long))).toBeUndefined();
    expect(remediationRefOfCorrelation('')).toBeUndefined();
  });

  it('every state change, by a person or by drw, is sent by the business rule with its shared secret; a work note is not', async () => {
    sim.options.callback = { url: `${receiver.baseUrl}/callback`, token: CALLBACK_TOKEN };
    const { r, number, inc } = await openIncident();
    const since = Date.now();
    const answer = await asPerson(number, 'resolve', { as: 'bob.analyst', close_code: 'Solution provided' });
    expect(answer.body.callback).toEqual({ url: `${receiver.baseUrl}/callback`, status: 202 });
    await snow.updateTicket({ ...r, idempotencyKey: r.key('note'), ticketId: number, comment: 'noted' });
    await snow.reopenTicket({ ...r, idempotencyKey: r.key('reopen'), ticketId: number, comment: 'not fixed' });
    await sim.callbacksSettled();

    const calls = receiver.served((q) => q.at >= since);
    expect(calls.map((c) => c.headers.authorization)).toEqual([`Bearer ${CALLBACK_TOKEN}`, `Bearer ${CALLBACK_TOKEN}`]);
    expect(calls.map((c) => c.body)).toEqual([
      {
        table: 'incident',
        sys_id: inc.sys_id,
        number,
        state: '6',
        state_label: 'Resolved',
        previous_state: '1',
        close_code: 'Solution provided',
        correlation_id: correlationId(r.remediationId),
        sys_updated_by: 'bob.analyst',
        sys_updated_on: expect.any(String),
      },
      expect.objectContaining({ state: '2', state_label: 'In Progress', previous_state: '6', sys_updated_by: USER }),
    ]);
  });
});
