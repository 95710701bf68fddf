import axios from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createJiraClient, createJiraTicketing, loadJiraConfig, remediationLabel, type JiraConfig } from '../../../activities/adapters/jira';
import type { OpenTicketInput, Ticketing } from '../../../activities/interfaces';
import { startJiraSimulator, type JiraSimulator } from '../../../simulators/jira';
import { basicSecrets, expectNoSecrets, failureOf, remediation, retryLoop, timeOutFirst } from './helpers';

const EMAIL = 'drw-bot@example.com';
const TOKEN = 'ATATT3xFfGF0-super-secret-jira-token';

function configFor(sim: JiraSimulator, extra: Record<string, string> = {}): JiraConfig {
  return loadJiraConfig({
    JIRA_BASE_URL: sim.url,
    JIRA_EMAIL: EMAIL,
    JIRA_API_TOKEN: TOKEN,
    JIRA_PROJECT_KEY: 'SEC',
    // Generous: a loaded CI machine must not time out the ordinary calls; the timeout tests use `quick` or timeOutFirst.
    JIRA_TIMEOUT_MS: '5000',
    ...extra,
  })!;
}

function openInput(remediationId: string, idempotencyKey: string, over: Partial<OpenTicketInput> = {}): OpenTicketInput {
  return {
    remediationId,
    idempotencyKey,
    title: 'Public S3 bucket acme-logs',
    description: 'Bucket acme-logs allows public reads.\n\ndrw will block public access.',
    severity: 'high',
    priority: 'high',
    labels: ['security', 'cloud posture'],
    assetId: 'arn:aws:s3:::acme-logs',
    link: 'https://drw.example.com/remediations/x',
    ...over,
  };
}

describe('Jira Cloud adapter against the simulator', () => {
  let sim: JiraSimulator;
  let jira: Ticketing;
  /** The same adapter with a 300 ms timeout, for the tests of answers that never come. */
  let quick: Ticketing;

  beforeAll(async () => {
    sim = await startJiraSimulator({ email: EMAIL, apiToken: TOKEN, projects: ['SEC'] });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.server.clearFaults();
    jira = createJiraTicketing(configFor(sim));
    quick = createJiraTicketing(configFor(sim, { JIRA_TIMEOUT_MS: '300' }));
  });

  const created = (label: string) => [...sim.issues.values()].filter((i) => i.labels.includes(label));
  const creates = (since: number) => sim.server.served((r) => r.method === 'POST' && r.path === '/rest/api/3/issue' && r.at >= since);

  it('opens, comments, closes and reads an issue', async () => {
    const r = remediation();
    const ref = await jira.openTicket(openInput(r.remediationId, r.key('open')));
    expect(ref).toEqual({ system: 'jira', ticketId: expect.stringMatching(/^SEC-\d+$/), url: `${sim.url}/browse/${ref.ticketId}`, existing: false });

    const issue = sim.issues.get(ref.ticketId)!;
    expect(issue.labels).toEqual([remediationLabel(r.remediationId), 'security', 'cloud_posture']);
    expect(issue.priority).toBe('High');
    expect(issue.issuetype).toBe('Task');
    expect(JSON.stringify(issue.description)).toContain('Bucket acme-logs allows public reads.');
    expect(JSON.stringify(issue.description)).toContain(`[drw-ref:${r.key('open')}]`);

    await jira.updateTicket({ ...r, idempotencyKey: r.key('update'), ticketId: ref.ticketId, comment: 'Isolation requested.', priority: 'highest' });
    await jira.updateTicket({ ...r, idempotencyKey: r.key('update'), ticketId: ref.ticketId, comment: 'Isolation requested.', priority: 'highest' });
    expect(issue.comments).toHaveLength(1);
    expect(issue.priority).toBe('Highest');

    expect(await jira.getTicketState({ ticketId: ref.ticketId })).toEqual({ ticketId: ref.ticketId, status: 'To Do', closed: false });
    await jira.closeTicket({ ...r, idempotencyKey: r.key('close'), ticketId: ref.ticketId, resolution: 'remediated', comment: 'Public access blocked.' });
    expect(await jira.getTicketState({ ticketId: ref.ticketId })).toEqual({ ticketId: ref.ticketId, status: 'Done', closed: true, updatedBy: 'drw', resolution: 'Done' });
    expect(issue.comments).toHaveLength(2);

    // A retried close neither comments again nor transitions again.
    const before = sim.server.requests.length;
    await jira.closeTicket({ ...r, idempotencyKey: r.key('close'), ticketId: ref.ticketId, resolution: 'remediated', comment: 'Public access blocked.' });
    expect(issue.comments).toHaveLength(2);
    expect(sim.server.requests.slice(before).some((q) => q.method === 'POST')).toBe(false);
  });

  it('returns the same issue when openTicket is retried with the same idempotency key', async () => {
    const r = remediation();
    const first = await jira.openTicket(openInput(r.remediationId, r.key('open')));
    const second = await jira.openTicket(openInput(r.remediationId, r.key('open')));
    expect(second).toEqual(first);
    expect(created(remediationLabel(r.remediationId))).toHaveLength(1);

    // Another step of the same remediation finds the issue and says it already existed.
    const other = await jira.openTicket(openInput(r.remediationId, r.key('reopen')));
    expect(other).toMatchObject({ ticketId: first.ticketId, existing: true });
    expect(created(remediationLabel(r.remediationId))).toHaveLength(1);
  });

  it('creates exactly one issue when the first attempt times out after Jira created it', async () => {
    const r = remediation();
    const since = Date.now();
    // The create is served after 700 ms; the client gives up on it after 300 ms.
    sim.server.setFaults({ queue: [{ kind: 'slow', ms: 700 }], match: /^POST \/rest\/api\/3\/issue$/ });
    const client = createJiraClient(configFor(sim));
    timeOutFirst(client, 'post', '/rest/api/3/issue', 300);
    const jira = createJiraTicketing(configFor(sim), { client });
    const out = await retryLoop(() => jira.openTicket(openInput(r.remediationId, r.key('open'))), { delayMs: 800 });
    expect(out.attempts).toBe(2);
    expect(out.errors[0]).toBeInstanceOf(ApplicationFailure);
    expect((out.errors[0] as ApplicationFailure).nonRetryable).toBe(false);
    expect(created(remediationLabel(r.remediationId))).toHaveLength(1);
    expect(creates(since)).toHaveLength(1);
    expect(out.result).toMatchObject({ ticketId: created(remediationLabel(r.remediationId))[0].key, existing: false });
  });

  it('turns a 400 into a non-retryable failure carrying Jira\'s message', async () => {
    const r = remediation();
    const err = await failureOf(jira.openTicket(openInput(r.remediationId, r.key('open'), { title: '  ' })));
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('jira.ClientError');
    expect(err.message).toContain('You must specify a summary of the issue.');
  });

  it('reports a wrong project key with Jira\'s message, not retryable', async () => {
    const r = remediation();
    const other = createJiraTicketing(configFor(sim, { JIRA_PROJECT_KEY: 'NOPE' }));
    const err = await failureOf(other.openTicket(openInput(r.remediationId, r.key('open'))));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain("The value 'NOPE' does not exist for the field 'project'.");
  });

  it('turns a 429 into a retryable failure whose next retry delay is Retry-After', async () => {
    const r = remediation();
    sim.server.setFaults({ queue: [{ kind: 'rateLimit', retryAfterSeconds: 7 }] });
    const err = await failureOf(jira.openTicket(openInput(r.remediationId, r.key('open'))));
    expect(err.nonRetryable).toBe(false);
    expect(err.nextRetryDelay).toBe(7000);

    sim.server.setFaults({ queue: [{ kind: 'rateLimit', retryAfterSeconds: 7 }] });
    const out = await retryLoop(() => jira.openTicket(openInput(r.remediationId, r.key('open'))), { capMs: 20 });
    expect(out.attempts).toBe(2);
    expect(created(remediationLabel(r.remediationId))).toHaveLength(1);
  });

  it('turns a 500 into a retryable failure and recovers on retry', async () => {
    const r = remediation();
    sim.server.setFaults({ queue: [{ kind: 'status', status: 500 }, { kind: 'status', status: 503 }] });
    const out = await retryLoop(() => jira.openTicket(openInput(r.remediationId, r.key('open'))));
    expect(out.attempts).toBe(3);
    for (const e of out.errors) {
      expect(e).toBeInstanceOf(ApplicationFailure);
      expect((e as ApplicationFailure).nonRetryable).toBe(false);
      expect((e as ApplicationFailure).type).toBe('jira.ServerError');
    }
    expect(created(remediationLabel(r.remediationId))).toHaveLength(1);
  });

  it('treats wrong credentials as a non-retryable 401 without leaking them', async () => {
    const r = remediation();
    const wrongToken = 'ATATT-wrong-token-value-123';
    const bad = createJiraTicketing({ ...configFor(sim), apiToken: wrongToken });
    const err = await failureOf(bad.openTicket(openInput(r.remediationId, r.key('open'))));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('401');
    expect(err.message).toContain('Client must be authenticated to access this resource.');
    expectNoSecrets(err, [...basicSecrets(EMAIL, wrongToken), TOKEN]);
  });

  it('never puts the API token into failures (4xx, 5xx, timeout, reset)', async () => {
    const r = remediation();
    const secrets = basicSecrets(EMAIL, TOKEN);
    const faults = [
      { kind: 'status', status: 400, body: { errorMessages: ['Bad request'], errors: {} } },
      { kind: 'status', status: 502 },
      { kind: 'hang', ms: 1000 },
      { kind: 'reset' },
    ] as const;
    for (const fault of faults) {
      sim.server.setFaults({ queue: [fault] });
      expectNoSecrets(await failureOf(quick.openTicket(openInput(r.remediationId, r.key('open')))), secrets);
      sim.server.setFaults({ queue: [fault] });
      expectNoSecrets(await failureOf(quick.getTicketState({ ticketId: 'SEC-1' })), secrets);
    }
    sim.server.clearFaults();
    expectNoSecrets(await failureOf(jira.getTicketState({ ticketId: 'SEC-99999' })), secrets);
  });

  it('has a secret check that would catch a raw axios error', async () => {
    // Guards the guard: an unconverted axios error carries the Authorization header.
    const raw = await axios.get(`${sim.url}/rest/api/3/issue/SEC-99999`, { auth: { username: EMAIL, password: TOKEN } }).catch((e: unknown) => e);
    expect(() => expectNoSecrets(raw, basicSecrets(EMAIL, TOKEN))).toThrow();
  });

  it('answers 404 for an unknown issue as non-retryable', async () => {
    const err = await failureOf(jira.getTicketState({ ticketId: 'SEC-99999' }));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('Issue does not exist or you do not have permission to see it.');
  });

  it('refuses ticket ids that are not issue keys before calling Jira', async () => {
    const before = sim.server.requests.length;
    const err = await failureOf(jira.getTicketState({ ticketId: '../../myself' }));
    expect(err.nonRetryable).toBe(true);
    expect(sim.server.requests.length).toBe(before);
  });

  it('finds its earlier comment beyond the first page of comments', async () => {
    const r = remediation();
    const ref = await jira.openTicket(openInput(r.remediationId, r.key('open')));
    await jira.updateTicket({ ...r, idempotencyKey: r.key('note'), ticketId: ref.ticketId, comment: 'first' });
    const issue = sim.issues.get(ref.ticketId)!;
    for (let i = 0; i < 150; i++) {
      issue.comments.push({ id: `x${i}`, body: { type: 'doc', version: 1, content: [] }, created: new Date().toISOString() });
    }
    await jira.updateTicket({ ...r, idempotencyKey: r.key('note'), ticketId: ref.ticketId, comment: 'first' });
    expect(issue.comments).toHaveLength(151);
  });

  it('closes through the configured transition, or fails clearly when there is none', async () => {
    const r = remediation();
    const ref = await jira.openTicket(openInput(r.remediationId, r.key('open')));
    const wrong = createJiraTicketing(configFor(sim, { JIRA_DONE_TRANSITION: 'Ship it' }));
    const err = await failureOf(wrong.closeTicket({ ...r, idempotencyKey: r.key('close'), ticketId: ref.ticketId, resolution: 'resolved', comment: 'done' }));
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('jira.NoDoneTransition');

    const named = createJiraTicketing(configFor(sim, { JIRA_DONE_TRANSITION: 'done', JIRA_RESOLUTION: "Won't Do" }));
    await named.closeTicket({ ...r, idempotencyKey: r.key('close'), ticketId: ref.ticketId, resolution: 'false_positive', comment: 'not a finding' });
    expect(sim.issues.get(ref.ticketId)).toMatchObject({ status: { name: 'Done' }, resolution: "Won't Do" });
  });

  it('heartbeats when it runs inside an activity', async () => {
    const r = remediation();
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(() => jira.openTicket(openInput(r.remediationId, r.key('open'))));
    expect(beats).toEqual([{ label: remediationLabel(r.remediationId), at: expect.any(Number) }]);
  });

  it('leaves priority out when JIRA_PRIORITY_NAMES=none', async () => {
    const r = remediation();
    const noPrio = createJiraTicketing(configFor(sim, { JIRA_PRIORITY_NAMES: 'none' }));
    const since = Date.now();
    await noPrio.openTicket(openInput(r.remediationId, r.key('open')));
    const body = creates(since)[0].body as { fields: Record<string, unknown> };
    expect(body.fields.priority).toBeUndefined();
  });
});

describe('Jira adapter on a site without the enhanced search endpoint', () => {
  it('falls back to GET /rest/api/3/search and still creates one issue', async () => {
    const sim = await startJiraSimulator({ email: EMAIL, apiToken: TOKEN, legacySearchOnly: true });
    try {
      const jira = createJiraTicketing(configFor(sim));
      const r = remediation();
      const a = await jira.openTicket(openInput(r.remediationId, r.key('open')));
      const b = await jira.openTicket(openInput(r.remediationId, r.key('open')));
      expect(b.ticketId).toBe(a.ticketId);
      expect(sim.issues.size).toBe(1);
      expect(sim.server.served((q) => q.method === 'GET' && q.path === '/rest/api/3/search')).toHaveLength(2);
    } finally {
      await sim.close();
    }
  });
});

describe('loadJiraConfig', () => {
  const full = {
    JIRA_BASE_URL: 'https://acme.atlassian.net/',
    JIRA_EMAIL: EMAIL,
    JIRA_API_TOKEN: TOKEN,
    JIRA_PROJECT_KEY: 'SEC',
  };

  it('is undefined when Jira is not configured', () => {
    expect(loadJiraConfig({})).toBeUndefined();
    expect(loadJiraConfig({ JIRA_ISSUE_TYPE: 'Bug', JIRA_EMAIL: '' })).toBeUndefined();
  });

  it('applies defaults', () => {
    expect(loadJiraConfig(full)).toEqual({
      baseUrl: 'https://acme.atlassian.net',
      email: EMAIL,
      apiToken: TOKEN,
      projectKey: 'SEC',
      issueType: 'Task',
      doneTransition: undefined,
      resolution: undefined,
      reopenTransition: undefined,
      priorities: { highest: 'Highest', high: 'High', medium: 'Medium', low: 'Low' },
      searchLagMs: 10000,
      timeoutMs: 15000,
    });
  });

  it('names the missing or invalid variable without echoing secrets', () => {
    expect(() => loadJiraConfig({ ...full, JIRA_API_TOKEN: undefined })).toThrow(/JIRA_API_TOKEN: is required/);
    expect(() => loadJiraConfig({ ...full, JIRA_PROJECT_KEY: 'sec ops' })).toThrow(/JIRA_PROJECT_KEY/);
    expect(() => loadJiraConfig({ ...full, JIRA_BASE_URL: 'http://acme.atlassian.net' })).toThrow(/JIRA_BASE_URL: must use https/);
    let message = '';
    try {
      loadJiraConfig({ ...full, JIRA_BASE_URL: `https://${EMAIL}:${TOKEN}@acme.atlassian.net` });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('JIRA_BASE_URL: must not contain credentials');
    expect(message).not.toContain(TOKEN);
  });
});
