/**
 * Per-vendor rate limits: each integration has its own task queue, and DRW_RATE_LIMIT_<KIND>
 * becomes that queue's activities-per-second limit (maxTaskQueueActivitiesPerSecond, enforced
 * by the Temporal server). A burst of detections must reach the vendor no faster than that:
 * measured on the create timestamps the Jira simulator recorded, not on our own clock. A
 * control run without the limit shows that the same burst does exceed the bounds.
 *
 * What the server enforces is a token bucket per task queue partition: rate L / partitions,
 * burst max(1, ceil(rate)). On one partition that is rate L with a burst of L (one second's
 * worth), so in any window of T seconds the vendor sees at most L·T + L calls, give or take
 * one for the jitter between dispatch and the HTTP call (the adapter searches before it
 * creates): up to 2L + 1 in one second, not L + 1. With the default 4
 * partitions the limit is split four ways and bursts reach 4 calls at once even at L = 2 while
 * the average holds, so a vendor queue that must honour a quota should have one partition
 * (dynamic config matching.numTaskqueueReadPartitions / WritePartitions = 1), as this file's
 * own dev server has.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createJiraTicketing, loadJiraConfig, remediationLabel } from '../../activities/adapters/jira';
import { SA } from '../../signals/search-attributes';
import { startJiraSimulator, type JiraSimulator } from '../../simulators/jira';
import { ROOT, startHarness, type Harness } from '../helpers/harness';
import { detection, RUN, step, submit, waitFor } from '../helpers/scenario';

const BURST = 12;
const LIMIT = 2;

/** The most timestamps that fall in any window [t, t + windowMs). */
function maxInWindow(timestamps: number[], windowMs = 1000): number {
  const ts = [...timestamps].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < ts.length; i++) {
    while (ts[i] - ts[j] >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

let server: TestWorkflowEnvironment;

beforeAll(async () => {
  const cli = process.env.DRW_TEMPORAL_CLI ?? execFileSync(path.join(ROOT, 'temporal-dev.sh'), ['path'], { encoding: 'utf8' }).trim();
  server = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      ip: '127.0.0.1',
      namespace: 'default',
      searchAttributes: Object.values(SA),
      extraArgs: [
        '--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1',
        '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1',
        '--log-level', 'error',
      ],
    },
  });
});

afterAll(async () => {
  await server?.teardown();
});

async function burst(label: string, env: Record<string, string>): Promise<{ jira: JiraSimulator; ids: string[]; creates: number[] }> {
  const jira = await startJiraSimulator({ email: 'drw@example.com', apiToken: 'rate-limit-token', projects: ['SEC'] });
  let h: Harness | undefined;
  try {
    const config = loadJiraConfig({ JIRA_BASE_URL: jira.url, JIRA_EMAIL: 'drw@example.com', JIRA_API_TOKEN: 'rate-limit-token', JIRA_PROJECT_KEY: 'SEC' })!;
    h = await startHarness({ env: { TEMPORAL_ADDRESS: server.address, ...env }, override: { ticketing: createJiraTicketing(config) } });
    const hh = h;
    const ids = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        submit(hh, detection({ source: 'scanner', rule: 'CVE-2024-0001', severity: 'high', category: 'vulnerability', asset: { id: `rl-${label}-${RUN}-${i + 1}` } })),
      ),
    );
    // Every remediation gets its ticket, however long the limit makes that take.
    const states = await Promise.all(ids.map((id) => waitFor(hh, id, (s) => s.ticket !== undefined, `${id}: ticket opened`, 40_000)));
    for (const s of states) expect(step(s, 'vulnerability.ticket').status).toBe('done');
    const creates = jira.server.served((r) => r.method === 'POST' && r.path === '/rest/api/3/issue').map((r) => r.at);
    // Tickets are labelled by the remediation's instance (its id and first run).
    return { jira, ids: states.map((s) => s.instance ?? s.id), creates };
  } finally {
    await h?.close();
    await jira.close();
  }
}

test(`DRW_RATE_LIMIT_TICKETING=${LIMIT}: a burst of ${BURST} detections reaches Jira at ${LIMIT}/s plus the server's burst, and every ticket is created`, async () => {
  const { jira, ids, creates } = await burst('limited', { DRW_RATE_LIMIT_TICKETING: String(LIMIT) });

  // All tickets, one per remediation.
  expect(creates).toHaveLength(BURST);
  const issues = [...jira.issues.values()];
  expect(issues.map((i) => `${i.key} ${i.labels[0]}`)).toHaveLength(BURST);
  for (const id of ids) expect([id, issues.filter((i) => i.labels.includes(remediationLabel(id))).length]).toEqual([id, 1]);

  // In any window of T seconds: at most LIMIT·T, plus the bucket's burst of LIMIT, plus one for jitter.
  const rel = [...creates].sort((a, b) => a - b).map((t) => t - Math.min(...creates));
  const over = [1, 2, 3]
    .map((seconds) => ({ seconds, seen: maxInWindow(creates, seconds * 1000), bound: LIMIT * seconds + LIMIT + 1 }))
    .filter((w) => w.seen > w.bound)
    .map((w) => `${w.seen} creates in ${w.seconds}s > ${w.bound} (creates at +ms ${rel.join(', ')})`);
  expect(over).toEqual([]);
  // After at most a burst of 2·LIMIT, no more than LIMIT per second: the burst took seconds to reach Jira.
  const span = Math.max(...creates) - Math.min(...creates);
  expect(span).toBeGreaterThanOrEqual(((BURST - 2 * LIMIT) / LIMIT) * 1000);
}, 60_000);

test('control: without DRW_RATE_LIMIT_TICKETING the same burst exceeds that rate at Jira', async () => {
  const { creates } = await burst('unlimited', {});
  expect(creates).toHaveLength(BURST);
  // The same burst reaches Jira far faster than the limited run's bounds allow.
  expect(maxInWindow(creates, 1000)).toBeGreaterThan(2 * LIMIT + 1);
  expect(Math.max(...creates) - Math.min(...creates)).toBeLessThan(((BURST - 2 * LIMIT) / LIMIT) * 1000);
}, 60_000);
