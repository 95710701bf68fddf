/**
 * A ticket's life after drw opens it: a person closes it in Jira, drw reads who and how, drw
 * reopens it with its evidence, and Jira tells drw through its webhook.
 */
import { createHmac } from 'node:crypto';
import { createJiraTicketing, loadJiraConfig, remediationLabel, remediationRefOfLabels } from '../../../activities/adapters/jira';
import type { Ticketing } from '../../../activities/interfaces';
import { SimulatorServer } from '../../../simulators/base';
import { startJiraSimulator, type JiraSimulator } from '../../../simulators/jira';
import { failureOf, remediation, retryLoop } from './helpers';

const EMAIL = 'drw-bot@example.com';
const TOKEN = 'ATATT3xFfGF0-lifecycle-jira-token';
const SECRET = 'jira-webhook-secret-for-the-lifecycle-tests';

describe('Jira ticket lifecycle against the simulator', () => {
  let sim: JiraSimulator;
  let receiver: SimulatorServer;
  let jira: Ticketing;
  const config = (extra: Record<string, string> = {}) =>
    loadJiraConfig({ JIRA_BASE_URL: sim.url, JIRA_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN, JIRA_PROJECT_KEY: 'SEC', JIRA_TIMEOUT_MS: '2000', JIRA_SEARCH_LAG_MS: '0', ...extra })!;

  beforeAll(async () => {
    sim = await startJiraSimulator({ email: EMAIL, apiToken: TOKEN, projects: ['SEC'] });
    receiver = new SimulatorServer('receiver').route('POST', '/hook', () => ({ status: 202, body: {} }));
    await receiver.start();
  });
  afterAll(async () => {
    await sim.close();
    await receiver.close();
  });
  beforeEach(() => {
    sim.server.clearFaults();
    sim.options.webhook = undefined;
    jira = createJiraTicketing(config());
  });

  async function openIssue() {
    const r = remediation();
    const ref = await jira.openTicket({ ...r, idempotencyKey: r.key('open'), title: 'Open security group', description: 'sg-1 allows 0.0.0.0/0', severity: 'high', priority: 'high', labels: ['drw'], assetId: 'sg-1' });
    return { r, key: ref.ticketId, issue: sim.issues.get(ref.ticketId)! };
  }
  async function asPerson(key: string, action: 'close' | 'reopen', body: Record<string, unknown>) {
    const res = await fetch(`${sim.url}/_admin/issues/${key}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const transitionPosts = (key: string) => sim.server.served((q) => q.method === 'POST' && q.path === `/rest/api/3/issue/${key}/transitions`).length;

  it('a person closes the issue: drw reads who closed it and with which resolution', async () => {
    const { key } = await openIssue();
    expect(await asPerson(key, 'close', { as: 'Alice Example', resolution: 'Fixed' })).toMatchObject({ status: 200, body: { status: 'Done', resolution: 'Fixed' } });
    expect(await jira.getTicketState({ ticketId: key })).toEqual({ ticketId: key, status: 'Done', closed: true, updatedBy: 'Alice Example', resolution: 'Fixed' });
  });

  it('drw reopens a closed issue with its evidence once, however often the call is retried', async () => {
    const { r, key, issue } = await openIssue();
    await asPerson(key, 'close', { as: 'alice' });
    const reopen = { ...r, idempotencyKey: r.key('reopen:1'), ticketId: key, comment: 'Verification failed: port 22 is still open to 0.0.0.0/0.' };
    await jira.reopenTicket(reopen);
    // In progress rather than to do: the work goes on.
    expect(issue.status).toMatchObject({ name: 'In Progress', statusCategory: { key: 'indeterminate' } });
    expect(issue.resolution).toBeUndefined();
    expect(issue.comments).toHaveLength(1);
    expect(JSON.stringify(issue.comments[0].body)).toContain('port 22 is still open');

    await jira.reopenTicket(reopen);
    expect(issue.comments).toHaveLength(1);
    expect(transitionPosts(key)).toBe(1);
    expect(await jira.getTicketState({ ticketId: key })).toEqual({ ticketId: key, status: 'In Progress', closed: false, updatedBy: 'drw' });
  });

  it('reopening an issue that is still open only adds the comment, once per idempotency key', async () => {
    const { r, key, issue } = await openIssue();
    const reopen = { ...r, idempotencyKey: r.key('reopen:1'), ticketId: key, comment: 'still failing' };
    await jira.reopenTicket(reopen);
    await jira.reopenTicket(reopen);
    await jira.reopenTicket({ ...reopen, idempotencyKey: r.key('reopen:2') });
    expect(issue.status.name).toBe('To Do');
    expect(issue.comments).toHaveLength(2);
    expect(transitionPosts(key)).toBe(0);
  });

  it('reopens through JIRA_REOPEN_TRANSITION, and fails clearly when the workflow has no such transition', async () => {
    const { r, key, issue } = await openIssue();
    await asPerson(key, 'close', { as: 'alice' });
    const missing = createJiraTicketing(config({ JIRA_REOPEN_TRANSITION: 'Reopen and escalate' }));
    const err = await failureOf(missing.reopenTicket({ ...r, idempotencyKey: r.key('reopen'), ticketId: key, comment: 'again' }));
    expect(err).toMatchObject({ nonRetryable: true, type: 'jira.NoReopenTransition' });
    expect(err.message).toContain('SEC-');
    expect(err.message).toContain('available: To Do, In Progress');

    await createJiraTicketing(config({ JIRA_REOPEN_TRANSITION: 'to do' })).reopenTicket({ ...r, idempotencyKey: r.key('reopen'), ticketId: key, comment: 'again' });
    expect(issue.status.name).toBe('To Do');
    expect(issue.comments).toHaveLength(1);
  });

  it('a reopen whose transition meets a 503 then a 429 is retried to one comment and one transition', async () => {
    const { r, key, issue } = await openIssue();
    await asPerson(key, 'close', { as: 'alice' });
    sim.server.setFaults({ queue: [{ kind: 'status', status: 503 }, { kind: 'rateLimit', retryAfterSeconds: 3 }], match: /^POST \/rest\/api\/3\/issue\/[^/]+\/transitions$/ });
    const out = await retryLoop(() => jira.reopenTicket({ ...r, idempotencyKey: r.key('reopen'), ticketId: key, comment: 'evidence' }), { capMs: 20 });
    expect(out.attempts).toBe(3);
    expect(out.errors.map((e) => (e as { type?: string }).type)).toEqual(['jira.ServerError', 'jira.RateLimited']);
    expect((out.errors[1] as { nextRetryDelay?: unknown }).nextRetryDelay).toBe(3000);
    expect(issue.comments).toHaveLength(1);
    expect(transitionPosts(key)).toBe(1);
    expect(issue.status.statusCategory.key).not.toBe('done');
  });

  it('reopening an issue Jira does not have is a non-retryable failure with Jira\'s message', async () => {
    const err = await failureOf(jira.reopenTicket({ remediationId: 'drw-x', idempotencyKey: 'drw-x:reopen', ticketId: 'SEC-99999', comment: 'x' }));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('Issue does not exist');
  });

  it('labels name a remediation instance readably, so a webhook can name the remediation', () => {
    const instance = 'drw-trivy-web-1-cve-2021-23337-0a1b2c3d4e5f6a7b~0198c5e2-7f1';
    const label = remediationLabel(instance);
    expect(label).toBe(`drw-${instance}`);
    expect(remediationRefOfLabels(['drw', 'drw-priority-high', label])).toBe(instance);
    expect(remediationRefOfLabels(['drw', 'drw-priority-high', 'security'])).toBeUndefined();
    // A hashed label (a ref that is not label-safe) names nothing a webhook could act on.
    expect(remediationRefOfLabels([remediationLabel('Drw-Upper~Case')])).toBeUndefined();
  });

  it('a person\'s close reaches the webhook as Jira Cloud sends it, signed with the webhook secret', async () => {
    sim.options.webhook = { url: `${receiver.baseUrl}/hook`, secret: SECRET };
    const { key, issue } = await openIssue();
    const since = Date.now();
    const answer = await asPerson(key, 'close', { as: 'Alice Example', resolution: 'Fixed' });
    expect(answer.body.webhook).toEqual({ url: `${receiver.baseUrl}/hook`, status: 202 });

    const [hook] = receiver.served((q) => q.at >= since);
    const expected = 'sha256=' + createHmac('sha256', SECRET).update(hook.rawBody).digest('hex');
    expect(hook.headers['x-hub-signature']).toBe(expected);
    expect(hook.body).toMatchObject({
      webhookEvent: 'jira:issue_updated',
      timestamp: expect.any(Number),
      user: { displayName: 'Alice Example', accountId: expect.any(String) },
      issue: { key, fields: { status: { name: 'Done', statusCategory: { key: 'done' } }, resolution: { name: 'Fixed' }, labels: issue.labels } },
      changelog: { items: [{ field: 'status', fromString: 'To Do', toString: 'Done' }, { field: 'resolution', toString: 'Fixed' }] },
    });
  });

  it('drw\'s own comment reaches the webhook without a changelog, and no secret means no signature', async () => {
    sim.options.webhook = { url: `${receiver.baseUrl}/hook` };
    const { r, key } = await openIssue();
    const since = Date.now();
    await jira.updateTicket({ ...r, idempotencyKey: r.key('note'), ticketId: key, comment: 'Containment requested.' });
    await sim.webhooksSettled();
    const [hook] = receiver.served((q) => q.at >= since);
    expect(hook.headers['x-hub-signature']).toBeUndefined();
    expect(hook.body).toMatchObject({ webhookEvent: 'jira:issue_updated', issue_event_type_name: 'issue_commented', user: { displayName: 'drw' }, issue: { key } });
    expect(hook.body).not.toHaveProperty('changelog');
  });
});
