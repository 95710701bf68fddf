import { ApplicationFailure } from '@temporalio/common';
import {
  correlationId,
  createServiceNowClient,
  createServiceNowTicketing,
  loadServiceNowConfig,
  type ServiceNowConfig,
} from '../../../activities/adapters/servicenow';
import type { OpenTicketInput, Ticketing } from '../../../activities/interfaces';
import { startServiceNowSimulator, type ServiceNowSimulator, type SimRecord } from '../../../simulators/servicenow';
import { basicSecrets, expectNoSecrets, failureOf, remediation, retryLoop, timeOutFirst } from './helpers';

const USER = 'drw.integration';
const PASSWORD = 'Sn0w-super-secret-password!';
const TOKEN = 'oauth-bearer-secret-token-value';

function configFor(sim: ServiceNowSimulator, extra: Record<string, string | undefined> = {}): ServiceNowConfig {
  return loadServiceNowConfig({
    SERVICENOW_INSTANCE_URL: sim.url,
    SERVICENOW_USERNAME: USER,
    SERVICENOW_PASSWORD: PASSWORD,
    SERVICENOW_ASSIGNMENT_GROUP: 'Security Operations',
    // Generous: a loaded CI machine must not time out the ordinary calls; the timeout tests use `quick` or timeOutFirst.
    SERVICENOW_TIMEOUT_MS: '5000',
    ...extra,
  })!;
}

function openInput(remediationId: string, idempotencyKey: string, over: Partial<OpenTicketInput> = {}): OpenTicketInput {
  return {
    remediationId,
    idempotencyKey,
    title: 'Malware on laptop-42',
    description: 'EDR detected a trojan on laptop-42.',
    severity: 'critical',
    priority: 'highest',
    labels: ['malware'],
    assetId: 'laptop-42',
    ...over,
  };
}

describe('ServiceNow incident adapter against the simulator', () => {
  let sim: ServiceNowSimulator;
  let snow: Ticketing;
  /** The same adapter with a 300 ms timeout, for the tests of slow answers. */
  let quick: Ticketing;

  beforeAll(async () => {
    sim = await startServiceNowSimulator({ username: USER, password: PASSWORD, token: TOKEN, groups: ['Security Operations'] });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.server.clearFaults();
    snow = createServiceNowTicketing(configFor(sim));
    quick = createServiceNowTicketing(configFor(sim, { SERVICENOW_TIMEOUT_MS: '300' }));
  });

  const incidentsOf = (remediationId: string): SimRecord[] =>
    [...sim.incidents.values()].filter((i) => i.values.correlation_id === correlationId(remediationId));
  const creates = (since: number) => sim.server.served((r) => r.method === 'POST' && r.path === '/api/now/table/incident' && r.at >= since);

  it('opens, updates, resolves and reads an incident', async () => {
    const r = remediation();
    const ref = await snow.openTicket(openInput(r.remediationId, r.key('open')));
    expect(ref).toMatchObject({ system: 'servicenow', ticketId: expect.stringMatching(/^INC\d{7}$/), existing: false });

    const [inc] = incidentsOf(r.remediationId);
    expect(ref.url).toBe(`${sim.url}/incident.do?sys_id=${inc.sys_id}`);
    expect(inc.values).toMatchObject({
      short_description: 'Malware on laptop-42',
      correlation_display: 'drw',
      impact: '1',
      urgency: '1',
      priority: '1',
      state: '1',
    });
    expect(inc.values.description).toContain(`[drw-ref:${r.key('open')}]`);
    // The group name was resolved to its sys_id.
    expect(inc.values.assignment_group).toMatch(/^[0-9a-f]{32}$/);

    const update = { ...r, idempotencyKey: r.key('note'), ticketId: ref.ticketId, comment: 'Host isolated.', priority: 'medium' as const };
    await snow.updateTicket(update);
    await snow.updateTicket(update);
    expect(inc.journal.work_notes).toHaveLength(1);
    expect(inc.journal.work_notes[0].text).toContain('Host isolated.');
    expect(inc.values).toMatchObject({ impact: '2', urgency: '2', priority: '3' });

    expect(await snow.getTicketState({ ticketId: ref.ticketId })).toEqual({ ticketId: ref.ticketId, status: 'New', closed: false, updatedBy: USER });
    await snow.closeTicket({ ...r, idempotencyKey: r.key('close'), ticketId: ref.ticketId, resolution: 'remediated', comment: 'Reimaged.' });
    expect(inc.values).toMatchObject({ state: '6', close_code: 'Solution provided' });
    expect(inc.values.close_notes).toContain('Reimaged.');
    expect(inc.values.close_notes).toContain('Resolution: remediated');
    expect(await snow.getTicketState({ ticketId: ref.ticketId })).toEqual({ ticketId: ref.ticketId, status: 'Resolved', closed: true, updatedBy: USER, resolution: 'Solution provided' });

    const patches = () => sim.server.served((q) => q.method === 'PATCH').length;
    const before = patches();
    await snow.closeTicket({ ...r, idempotencyKey: r.key('close'), ticketId: ref.ticketId, resolution: 'remediated', comment: 'Reimaged.' });
    expect(patches()).toBe(before);

    // sys_ids work as ticket ids too.
    expect(await snow.getTicketState({ ticketId: inc.sys_id })).toMatchObject({ closed: true });
  });

  it('returns the same incident when openTicket is retried with the same idempotency key', async () => {
    const r = remediation();
    const first = await snow.openTicket(openInput(r.remediationId, r.key('open')));
    const second = await snow.openTicket(openInput(r.remediationId, r.key('open')));
    expect(second).toEqual(first);
    expect(incidentsOf(r.remediationId)).toHaveLength(1);
    expect(await snow.openTicket(openInput(r.remediationId, r.key('again')))).toMatchObject({ ticketId: first.ticketId, existing: true });
    expect(incidentsOf(r.remediationId)).toHaveLength(1);
  });

  it('hashes remediation ids that are not safe correlation ids', async () => {
    const id = 'Remediation/With Spaces^ORnumber!=x';
    expect(correlationId(id)).toMatch(/^drw:[a-z0-9_.:@-]+-[0-9a-f]{16}$/);
    expect(correlationId(id)).not.toContain('^');
    const a = await snow.openTicket(openInput(id, `${id}:open`));
    const b = await snow.openTicket(openInput(id, `${id}:open`));
    expect(b.ticketId).toBe(a.ticketId);
    expect(incidentsOf(id)).toHaveLength(1);
  });

  it('creates exactly one incident when the first attempt times out after ServiceNow created it', async () => {
    const r = remediation();
    const since = Date.now();
    // The create is served after 700 ms; the client gives up on it after 300 ms.
    sim.server.setFaults({ queue: [{ kind: 'slow', ms: 700 }], match: /^POST \/api\/now\/table\/incident$/ });
    const client = createServiceNowClient(configFor(sim));
    timeOutFirst(client, 'post', '/api/now/table/incident', 300);
    const snow = createServiceNowTicketing(configFor(sim), { client });
    const out = await retryLoop(() => snow.openTicket(openInput(r.remediationId, r.key('open'))), { delayMs: 800 });
    expect(out.attempts).toBe(2);
    expect((out.errors[0] as ApplicationFailure).nonRetryable).toBe(false);
    expect(incidentsOf(r.remediationId)).toHaveLength(1);
    expect(creates(since)).toHaveLength(1);
    expect(out.result).toMatchObject({ ticketId: incidentsOf(r.remediationId)[0].values.number, existing: false });
  });

  it('turns a 400 into a non-retryable failure carrying ServiceNow\'s message', async () => {
    const r = remediation();
    sim.server.setFaults({
      queue: [{ kind: 'status', status: 400, body: { error: { message: 'Invalid value for field impact', detail: 'impact must be 1-3' }, status: 'failure' } }],
    });
    const err = await failureOf(snow.openTicket(openInput(r.remediationId, r.key('open'))));
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('servicenow.ClientError');
    expect(err.message).toContain('Invalid value for field impact');
    expect(err.message).toContain('impact must be 1-3');
  });

  it('reports unknown incidents (by number or sys_id) as non-retryable', async () => {
    const err = await failureOf(snow.getTicketState({ ticketId: 'INC9999999' }));
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('servicenow.NotFound');
    const missing = await failureOf(snow.getTicketState({ ticketId: '0'.repeat(32) }));
    expect(missing.nonRetryable).toBe(true);
    expect(missing.message).toContain('No Record found');
  });

  it('turns a 429 into a retryable failure whose next retry delay is Retry-After', async () => {
    const r = remediation();
    sim.server.setFaults({ queue: [{ kind: 'rateLimit', retryAfterSeconds: 7 }] });
    const err = await failureOf(snow.openTicket(openInput(r.remediationId, r.key('open'))));
    expect(err.nonRetryable).toBe(false);
    expect(err.nextRetryDelay).toBe(7000);
    expect(err.type).toBe('servicenow.RateLimited');
  });

  it('turns a 500 into a retryable failure and recovers on retry', async () => {
    const r = remediation();
    sim.server.setFaults({ queue: [{ kind: 'status', status: 500 }, { kind: 'reset' }] });
    const out = await retryLoop(() => snow.openTicket(openInput(r.remediationId, r.key('open'))));
    expect(out.attempts).toBe(3);
    expect(out.errors.every((e) => e instanceof ApplicationFailure && !e.nonRetryable)).toBe(true);
    expect(incidentsOf(r.remediationId)).toHaveLength(1);
  });

  it('treats wrong credentials as a non-retryable 401 without leaking them', async () => {
    const r = remediation();
    const wrong = 'wrong-password-value-987';
    const bad = createServiceNowTicketing(configFor(sim, { SERVICENOW_PASSWORD: wrong }));
    const err = await failureOf(bad.openTicket(openInput(r.remediationId, r.key('open'))));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('401');
    expect(err.message).toContain('User Not Authenticated');
    expectNoSecrets(err, [...basicSecrets(USER, wrong), PASSWORD]);
  });

  it('authenticates with an OAuth bearer token and keeps it out of failures', async () => {
    const r = remediation();
    const bearer = createServiceNowTicketing(configFor(sim, { SERVICENOW_USERNAME: undefined, SERVICENOW_PASSWORD: undefined, SERVICENOW_TOKEN: TOKEN }));
    const ref = await bearer.openTicket(openInput(r.remediationId, r.key('open')));
    expect(ref.ticketId).toMatch(/^INC/);
    for (const fault of [{ kind: 'status', status: 503 }, { kind: 'hang', ms: 1000 }] as const) {
      sim.server.setFaults({ queue: [fault] });
      expectNoSecrets(await failureOf(bearer.getTicketState({ ticketId: ref.ticketId })), [TOKEN]);
    }
    const wrong = createServiceNowTicketing(configFor(sim, { SERVICENOW_USERNAME: undefined, SERVICENOW_PASSWORD: undefined, SERVICENOW_TOKEN: 'nope-token-xyz' }));
    expectNoSecrets(await failureOf(wrong.getTicketState({ ticketId: ref.ticketId })), ['nope-token-xyz']);
  });

  it('never puts the password into failures (4xx, 5xx, timeout)', async () => {
    const secrets = basicSecrets(USER, PASSWORD);
    for (const fault of [{ kind: 'status', status: 403 }, { kind: 'status', status: 500 }, { kind: 'hang', ms: 1000 }] as const) {
      sim.server.setFaults({ queue: [fault] });
      expectNoSecrets(await failureOf(quick.getTicketState({ ticketId: 'INC0000001' })), secrets);
    }
  });

  it('fails clearly when the assignment group does not exist', async () => {
    const r = remediation();
    const bad = createServiceNowTicketing(configFor(sim, { SERVICENOW_ASSIGNMENT_GROUP: 'No Such Group' }));
    const err = await failureOf(bad.openTicket(openInput(r.remediationId, r.key('open'))));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('No Such Group');
    expect(incidentsOf(r.remediationId)).toHaveLength(0);
  });
});

describe('loadServiceNowConfig', () => {
  const base = { SERVICENOW_INSTANCE_URL: 'https://acme.service-now.com', SERVICENOW_USERNAME: USER, SERVICENOW_PASSWORD: PASSWORD };

  it('is undefined when ServiceNow is not configured', () => {
    expect(loadServiceNowConfig({})).toBeUndefined();
    expect(loadServiceNowConfig({ SERVICENOW_CMDB_TABLE: 'cmdb_ci_server' })).toBeUndefined();
  });

  it('applies defaults', () => {
    expect(loadServiceNowConfig(base)).toEqual({
      instanceUrl: 'https://acme.service-now.com',
      auth: { kind: 'basic', username: USER, password: PASSWORD },
      assignmentGroup: undefined,
      closeCode: 'Solution provided',
      cmdbTable: 'cmdb_ci',
      internetFacingField: 'firewall_status',
      internetFacingTag: undefined,
      environmentField: 'used_for',
      criticalityFrom: 'services',
      criticalityField: 'busines_criticality',
      timeoutMs: 15000,
    });
  });

  it('names the missing or invalid variable without echoing secrets', () => {
    const message = (env: Record<string, string | undefined>) => {
      try {
        loadServiceNowConfig(env);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    expect(message({ ...base, SERVICENOW_PASSWORD: undefined })).toContain('SERVICENOW_PASSWORD: is required');
    expect(message({ SERVICENOW_USERNAME: USER, SERVICENOW_PASSWORD: PASSWORD })).toContain('SERVICENOW_INSTANCE_URL');
    expect(message({ ...base, SERVICENOW_TOKEN: TOKEN })).toContain('not both');
    expect(message({ ...base, SERVICENOW_CMDB_TABLE: 'cmdb_ci^ORname=x' })).toContain('SERVICENOW_CMDB_TABLE');
    const leaky = message({ ...base, SERVICENOW_INSTANCE_URL: `https://${USER}:${PASSWORD}@acme.service-now.com`, SERVICENOW_TIMEOUT_MS: PASSWORD });
    expect(leaky).toContain('SERVICENOW_INSTANCE_URL: must not contain credentials');
    expect(leaky).toContain('SERVICENOW_TIMEOUT_MS');
    expect(leaky).not.toContain(PASSWORD);
  });
});
