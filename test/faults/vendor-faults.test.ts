/**
 * Every vendor misbehaves: a random 30% of requests to Jira, CrowdStrike, Slack and GitHub
 * (OAuth, searches, creates, reads) answer 500/502/503, 429 with Retry-After, never answer
 * (5 s, longer than the adapters' 2 s timeouts), have their connection reset, or answer slowly;
 * on top, some creates are carried out but their answer is lost (GitHub's 502 after creating a
 * pull request, or no answer at all; Falcon answering a containment after the client gave up;
 * Jira creating an issue after the client gave up), and Jira's search shows a new issue only
 * 2 s after its creation, as its eventually consistent search may. Every remediation must finish through the real adapters, with exactly one ticket,
 * containment and pull request each. FAULTS_VENDOR_RATE and FAULTS_VENDOR_REMEDIATIONS tune it.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { buildSystems } from '../../activities/registry';
import { createInProcessSystems } from '../../activities/inprocess';
import { http, startHarness, type Harness } from '../helpers/harness';
import { injectFaults } from '../helpers/sims';
import type { Fault } from '../../simulators/base';
import { eventually, FAULT_POLICY, faultDetection, report, sideEffectCounts, startVendors, tmpDir, type Vendors } from './helpers';

const RUN = randomUUID().slice(0, 6);
const REMEDIATIONS = Number(process.env.FAULTS_VENDOR_REMEDIATIONS ?? 15);
const RATE = Number(process.env.FAULTS_VENDOR_RATE ?? 0.3);
const JIRA_SEARCH_LAG_MS = 2000;
const assets = Array.from({ length: REMEDIATIONS }, (_, i) => `vf-${RUN}-${String(i).padStart(3, '0')}`);

let dir: string;
let vendors: Vendors;
let h: Harness;

beforeAll(async () => {
  dir = tmpDir('vendor');
  // Client timeouts of 2 s (a hang lasts 5 s); the simulated reviewer merges 3 s after a pull request opens.
  vendors = await startVendors({ dir, assets, clientTimeoutMs: 2000, autoMergeMs: 3000, jiraSearchLagMs: JIRA_SEARCH_LAG_MS });
  const systems = buildSystems({ ...vendors.env }, createInProcessSystems());
  const { providers: _p, inprocess: _i, ...override } = systems;
  h = await startHarness({ policyDir: FAULT_POLICY, timeScale: 1, override });
});

afterAll(async () => {
  await h?.close();
  await vendors?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(`${REMEDIATIONS} remediations finish through vendors failing ${Math.round(RATE * 100)}% of requests (5xx, 429 + Retry-After, timeouts, lost answers), without duplicates`, async () => {
  const faults: Fault[] = [
    { kind: 'status', status: 500 },
    { kind: 'status', status: 502 },
    { kind: 'status', status: 503 },
    { kind: 'rateLimit', retryAfterSeconds: 1 },
    { kind: 'hang', ms: 5000 },
    { kind: 'reset' },
    { kind: 'slow', ms: 200 },
  ];
  vendors.setFaults({ random: { rate: RATE, seed: 42, faults } });
  // Jira carries out three creates only after the client (2 s) gave up; the retries meet a search that lags.
  const jiraLost = injectFaults(vendors.jira.server, { random: { rate: RATE, seed: 42, faults } }, { match: /^POST \/rest\/api\/3\/issue$/, count: 3, ms: 2500 });
  // Creates that happen but whose answer never arrives: the retry must find them, not redo them.
  vendors.github.loseNextCreateAnswer({ status: 502 });
  // The simulator holds one lost answer at a time: arm the second (no answer at all) half-way.
  const arm = setInterval(() => {
    if (vendors.github.pulls().length >= Math.ceil(REMEDIATIONS / 2)) {
      vendors.github.loseNextCreateAnswer({ hangMs: 5000 });
      clearInterval(arm);
    }
  }, 100);
  vendors.falcon.delayNextActionAnswer(5000);
  vendors.falcon.delayNextActionAnswer(5000);

  const t0 = Date.now();
  const ids: string[] = [];
  for (const a of assets) {
    const r = await http('POST', `${h.api}/v1/detections`, faultDetection(a));
    expect(r.status).toBe(202);
    ids.push(r.body.remediations[0].id);
  }
  const finals = await Promise.all(
    ids.map((id) =>
      eventually(`${id} to finish`, 10 * 60_000, async () => {
        const r = await http('GET', `${h.api}/v1/remediations/${id}`);
        return r.status === 200 && ['remediated', 'failed', 'cancelled', 'resolved', 'escalated'].includes(r.body.status) ? (r.body.status as string) : undefined;
      }, 1000),
    ),
  );
  clearInterval(arm);
  vendors.clearFaults();
  const statuses = finals.reduce<Record<string, number>>((acc, s) => ((acc[s] = (acc[s] ?? 0) + 1), acc), {});
  const fx = vendors.sideEffects(assets);
  // A remediation said remediated whose side effects the vendors do not show is a false outcome: there must be none.
  const falseOutcomes = vendors.falseOutcomes(assets.filter((_, i) => finals[i] === 'remediated'));
  const faulted = vendors.faulted();
  report('vendor-faults', {
    remediations: ids.length,
    faultRate: RATE,
    faultedRequests: faulted,
    jiraLostCreates: jiraLost.lostAnswers.length,
    jiraSearchLagMs: JIRA_SEARCH_LAG_MS,
    totalRequests: Object.fromEntries(vendors.servers.map((s) => [s.name, s.requests.length])),
    statuses,
    ...sideEffectCounts(fx),
    falseOutcomes: falseOutcomes.length,
    seconds: Math.round((Date.now() - t0) / 1000),
  });
  expect(falseOutcomes).toEqual([]);
  for (const a of fx.duplicatePullRequests) {
    const prs = vendors.github.pulls().filter((p) => p.title.endsWith(`Fault finding on ${a}`));
    const creates = vendors.github.server.requests.filter((r) => r.method === 'POST' && /\/pulls$/.test(r.path) && String((r.body as { title?: string })?.title ?? '').endsWith(a));
    report('vendor-faults duplicate pull requests', {
      asset: a,
      pulls: prs.map((p) => `#${p.number} ${p.head.ref} ${p.state}${p.merged ? ' merged' : ''} ${p.created_at}`).join(' | '),
      creates: creates.map((r) => `${new Date(r.at).toISOString()}${(r as { faulted?: boolean }).faulted ? ' (faulted)' : ''}`).join(' | '),
    });
  }
  expect(Object.values(faulted).every((n) => n > 0)).toBe(true);
  expect(statuses).toEqual({ remediated: REMEDIATIONS });
  expect(jiraLost.lostAnswers).toHaveLength(3);
  expect(fx.duplicateTickets).toEqual([]);
  expect(fx.duplicateContainments).toEqual([]);
  expect(fx.duplicatePullRequests).toEqual([]);
  expect(fx.tickets).toBe(REMEDIATIONS);
  expect(fx.containments).toBe(REMEDIATIONS);
  expect(fx.pullRequests).toBe(REMEDIATIONS);
});
