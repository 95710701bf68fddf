import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createJiraClient, createJiraTicketing, loadJiraConfig, remediationLabel, type JiraConfig } from '../../../activities/adapters/jira';
import type { OpenTicketInput } from '../../../activities/interfaces';
import { startJiraSimulator, type JiraSimulator } from '../../../simulators/jira';
import { failureOf, remediation, retryLoop, sleep, timeOutFirst } from './helpers';

/** The Jira adapter against a simulator as strict as Jira Cloud: screens without Priority, a lagging search. */

const EMAIL = 'drw-bot@example.com';
const TOKEN = 'ATATT3xFfGF0-strict-jira-token';
const LAG_MS = 1_500;
// The failed first attempt is expected; its SDK warning would only be noise.
const quiet = { logger: new DefaultLogger('ERROR') };

function configFor(sim: JiraSimulator, extra: Record<string, string> = {}): JiraConfig {
  return loadJiraConfig({
    JIRA_BASE_URL: sim.url,
    JIRA_EMAIL: EMAIL,
    JIRA_API_TOKEN: TOKEN,
    JIRA_PROJECT_KEY: 'SEC',
    // Generous: a loaded CI machine must not time out the ordinary calls; the lost answers come from timeOutFirst.
    JIRA_TIMEOUT_MS: '5000',
    JIRA_SEARCH_LAG_MS: String(LAG_MS * 2),
    ...extra,
  })!;
}

function openInput(remediationId: string, idempotencyKey: string): OpenTicketInput {
  return {
    remediationId,
    idempotencyKey,
    title: 'Open security group sg-0abc',
    description: 'Ingress from 0.0.0.0/0 on port 22.',
    severity: 'critical',
    priority: 'highest',
    labels: ['security'],
    assetId: 'sg-0abc',
  };
}

describe('Jira adapter on a project whose screens have no Priority field', () => {
  let sim: JiraSimulator;
  beforeAll(async () => {
    sim = await startJiraSimulator({ email: EMAIL, apiToken: TOKEN, projects: ['SEC', 'OPS'], projectsWithoutPriority: ['OPS'] });
  });
  afterAll(() => sim.close());

  it('opens the ticket without priority and carries it as a label and a line of the description', async () => {
    const jira = createJiraTicketing(configFor(sim, { JIRA_PROJECT_KEY: 'OPS' }));
    const r = remediation();
    const ref = await jira.openTicket(openInput(r.remediationId, r.key('open')));
    const issue = sim.issues.get(ref.ticketId)!;
    expect(issue.project).toBe('OPS');
    expect(issue.priority).toBeUndefined();
    expect(issue.labels).toEqual([remediationLabel(r.remediationId), 'drw-priority-highest', 'security']);
    expect(JSON.stringify(issue.description)).toContain('Priority: Highest');
    const creates = sim.server.served((q) => q.method === 'POST' && q.path === '/rest/api/3/issue');
    expect(creates.every((q) => (q.body as { fields: Record<string, unknown> }).fields.priority === undefined)).toBe(true);
  });

  it('raises the priority of such a ticket in a comment instead of the field', async () => {
    const jira = createJiraTicketing(configFor(sim, { JIRA_PROJECT_KEY: 'OPS' }));
    const r = remediation();
    const ref = await jira.openTicket(openInput(r.remediationId, r.key('open')));
    await jira.updateTicket({ ...r, idempotencyKey: r.key('raise'), ticketId: ref.ticketId, comment: 'Risk went up.', priority: 'high' });
    const issue = sim.issues.get(ref.ticketId)!;
    expect(JSON.stringify(issue.comments[0].body)).toContain('Priority: High');
    expect(sim.server.served((q) => q.method === 'PUT' && q.path === `/rest/api/3/issue/${ref.ticketId}`)).toHaveLength(0);
  });

  it('still sets the field on a project that has it', async () => {
    const jira = createJiraTicketing(configFor(sim));
    const r = remediation();
    const ref = await jira.openTicket(openInput(r.remediationId, r.key('open')));
    expect(sim.issues.get(ref.ticketId)).toMatchObject({ priority: 'Highest', labels: [remediationLabel(r.remediationId), 'security'] });
  });

  it('opens the ticket without priority when an admin removed Priority from the screen after drw read it', async () => {
    sim.options.projectsWithoutPriority = ['OPS'];
    const jira = createJiraTicketing(configFor(sim));
    const first = remediation();
    expect(sim.issues.get((await jira.openTicket(openInput(first.remediationId, first.key('open')))).ticketId)).toMatchObject({ priority: 'Highest' });
    sim.options.projectsWithoutPriority = ['OPS', 'SEC'];
    try {
      const r = remediation();
      const ref = await jira.openTicket(openInput(r.remediationId, r.key('open')));
      const issue = sim.issues.get(ref.ticketId)!;
      expect(issue.priority).toBeUndefined();
      expect(issue.labels).toEqual([remediationLabel(r.remediationId), 'drw-priority-highest', 'security']);
      expect(JSON.stringify(issue.description)).toContain('Priority: Highest');
      expect([...sim.issues.values()].filter((i) => i.labels.includes(remediationLabel(r.remediationId)))).toHaveLength(1);
    } finally {
      sim.options.projectsWithoutPriority = ['OPS'];
    }
  });

  it('refuses clearly, before creating anything, when the issue type is not in the project', async () => {
    const jira = createJiraTicketing(configFor(sim, { JIRA_ISSUE_TYPE: 'Incident' }));
    const r = remediation();
    const before = sim.issues.size;
    const err = await failureOf(jira.openTicket(openInput(r.remediationId, r.key('open'))));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('project SEC has no issue type "Incident" (available: Task, Bug, Story)');
    expect(sim.issues.size).toBe(before);
  });
});

describe('Jira adapter when the search lags behind creates', () => {
  let sim: JiraSimulator;
  beforeAll(async () => {
    sim = await startJiraSimulator({ email: EMAIL, apiToken: TOKEN, projects: ['SEC'], searchLagMs: LAG_MS });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.server.clearFaults());

  const created = (label: string) => [...sim.issues.values()].filter((i) => i.labels.includes(label));
  /** An adapter that gives up on its first create after 300 ms, and waits as long as usual for everything else. */
  const losingFirstCreateAnswer = () => {
    const client = createJiraClient(configFor(sim));
    timeOutFirst(client, 'post', '/rest/api/3/issue', 300);
    return createJiraTicketing(configFor(sim), { client });
  };

  it('the simulator search really misses a new issue for a while', async () => {
    const jira = createJiraTicketing(configFor(sim));
    const r = remediation();
    await jira.openTicket(openInput(r.remediationId, r.key('open')));
    const res = await fetch(`${sim.url}/rest/api/3/search/jql`, {
      method: 'POST',
      headers: { Authorization: 'Basic ' + Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64'), 'Content-Type': 'application/json' },
      body: JSON.stringify({ jql: `project = "SEC" AND labels = "${remediationLabel(r.remediationId)}"` }),
    });
    expect(((await res.json()) as { issues: unknown[] }).issues).toEqual([]);
  });

  it('a retry after a lost create answer waits for the search and creates one issue', async () => {
    const jira = losingFirstCreateAnswer();
    const r = remediation();
    // Jira creates the issue at 600 ms, after the client gave up (300 ms); the retry comes at 800 ms.
    sim.server.setFaults({ queue: [{ kind: 'slow', ms: 600 }], match: /^POST \/rest\/api\/3\/issue$/ });
    const out = await retryLoop(() => jira.openTicket(openInput(r.remediationId, r.key('open'))), { delayMs: 500 });
    expect(out.attempts).toBe(2);
    expect(out.errors[0]).toMatchObject({ type: 'jira.Unavailable' });
    expect(created(remediationLabel(r.remediationId))).toHaveLength(1);
    expect(out.result.ticketId).toBe(created(remediationLabel(r.remediationId))[0].key);
  });

  it('a retry on another worker waits too, from the previous attempt\'s heartbeat', async () => {
    const first = losingFirstCreateAnswer();
    const r = remediation();
    const label = remediationLabel(r.remediationId);
    sim.server.setFaults({ queue: [{ kind: 'slow', ms: 600 }], match: /^POST \/rest\/api\/3\/issue$/ });
    const firstAttempt = new MockActivityEnvironment(undefined, quiet);
    const beats: unknown[] = [];
    firstAttempt.on('heartbeat', (d: unknown) => beats.push(d));
    await failureOf(firstAttempt.run(() => first.openTicket(openInput(r.remediationId, r.key('open')))));
    await sleep(500);
    expect(created(label)).toHaveLength(1);

    // A fresh adapter (another process) gets the last heartbeat as Temporal hands it to the retry.
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: beats.at(-1) }, quiet);
    const ref: { ticketId: string } = await retry.run(() => createJiraTicketing(configFor(sim)).openTicket(openInput(r.remediationId, r.key('open'))));
    expect(created(label)).toHaveLength(1);
    expect(ref.ticketId).toBe(created(label)[0].key);
  });

  it('another step of the same remediation right after the create finds the issue through reconcileIssues', async () => {
    const jira = createJiraTicketing(configFor(sim));
    const r = remediation();
    const first = await jira.openTicket(openInput(r.remediationId, r.key('open')));
    const again = await jira.openTicket(openInput(r.remediationId, r.key('escalate')));
    expect(again).toMatchObject({ ticketId: first.ticketId, existing: true });
    expect(created(remediationLabel(r.remediationId))).toHaveLength(1);
    const search = sim.server.served((q) => q.path === '/rest/api/3/search/jql').at(-1)!;
    expect((search.body as { reconcileIssues?: number[] }).reconcileIssues).toEqual([Number(sim.issues.get(first.ticketId)!.id)]);
  });
});
