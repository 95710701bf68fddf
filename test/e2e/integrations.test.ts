/**
 * The real vendor adapters against the embedded simulators (what `npm start` runs), with a
 * fault mix on every simulator: 5xx, 429 with Retry-After, answers slower than the adapters'
 * timeouts, hangs and connection resets, plus requests that are carried out but whose answer
 * is lost. Every remediation must still finish, and the simulators themselves must have
 * exactly one Jira issue, one containment (and one release) per host and one pull request
 * per remediation: retries are safe because the adapters are idempotent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { remediationLabel } from '../../activities/adapters/jira';
import { buildSystems, preflightSystems } from '../../activities/registry';
import { startEmbeddedSimulators, type EmbeddedSimulators } from '../../simulators/embedded';
import type { SimulatorServer } from '../../simulators/base';
import { startHarness, type Harness } from '../helpers/harness';
import { approve, detection, RUN, step, submit, waitFor } from '../helpers/scenario';
import { adapterSystems, FAULT_KINDS, faultMix, injectFaults, policyWithRetries, type FaultTally } from '../helpers/sims';

/**
 * Remediations at once. Pull requests are serialized by the IaC adapter's work-tree lock (one
 * git clone per repository, 2-5 s per change on a small CI machine), which bounds N for a file
 * that should finish in about a minute.
 */
const N = 6;
/**
 * Every adapter's per-request timeout. "Slow" answers come 300 ms after it: the vendor has
 * acted, the adapter has given up, and the activity's retry (1 s after the failure) finds
 * what the lost answer would have said.
 */
const ADAPTER_TIMEOUT_MS = 1000;
const SLOW_MS = ADAPTER_TIMEOUT_MS + 300;
const HANG_MS = ADAPTER_TIMEOUT_MS * 2;
const PLAYBOOK = 'critical-vuln-internet-prod';

const hosts = Array.from({ length: N }, (_, i) => ({ name: `itest-${RUN}-${i + 1}`, deviceId: `itest${RUN}${String(i + 1).padStart(6, '0')}` }));

let dataDir: string;
let policyDir: string;
let sims: EmbeddedSimulators;
let h: Harness;
const tallies: Record<string, FaultTally> = {};

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-integrations-'));
  // No vendor configured: every kind is played by a simulator, as with `npm start`.
  sims = await startEmbeddedSimulators(dataDir, {}, { autoMergeAfterMs: 0, cabApprover: 'CAB Manager' });
  const { jira, servicenow, crowdstrike, slack, github } = sims.simulators;
  if (!jira || !servicenow || !crowdstrike || !slack || !github) throw new Error(`not every simulator started: ${Object.keys(sims.simulators).join(', ')}`);
  for (const host of hosts) {
    servicenow.seedHost({ name: host.name, usedFor: 'Production', serviceCriticality: '1 - most critical', firewallStatus: 'Internet', owned_by: 'Web Team' });
    crowdstrike.seedDevice({ deviceId: host.deviceId, hostname: host.name });
  }

  const timeouts = Object.fromEntries(['JIRA', 'SERVICENOW', 'FALCON', 'SLACK', 'GITHUB'].map((v) => [`${v}_TIMEOUT_MS`, String(ADAPTER_TIMEOUT_MS)]));
  const systems = buildSystems({ ...sims.env, ...timeouts });
  expect(systems.providers).toEqual({ ticketing: 'jira', cmdb: 'servicenow', iac: 'github', endpoint: 'crowdstrike', notify: 'slack', runbook: 'awx', identity: 'okta', change: 'servicenow', policyEngine: 'none', source: 'github,securityhub' });
  // As npm start and workers do at start (before the vendors turn flaky here): the CMDB's configured fields are checked once.
  await preflightSystems(systems);

  const mix = (seed: number) => faultMix({ rate: 0.05, seed, slowMs: SLOW_MS, hangMs: HANG_MS });
  const servers: [string, SimulatorServer, RegExp | undefined][] = [
    ['jira', jira.server, /^POST \/rest\/api\/3\/issue$/],
    ['servicenow', servicenow.server, undefined],
    ['crowdstrike', crowdstrike, /^POST \/devices\/entities\/devices-actions\/v2$/],
    ['slack', slack, undefined],
    ['github', github.server, /^POST \/repos\/[^/]+\/[^/]+\/pulls$/],
  ];
  servers.forEach(([name, server, creates], i) => {
    // The first two creates (issue, containment action, pull request) happen at the vendor, but their answers are lost.
    tallies[name] = injectFaults(server, mix(11 + i), creates ? { match: creates, count: 2, ms: SLOW_MS } : undefined);
  });

  // Flaky vendors on purpose: more attempts than the default 5, with short backoff (never under 1 s, see SLOW_MS).
  policyDir = policyWithRetries({ maximumAttempts: 30, initialInterval: '1s', backoffCoefficient: 1.5, maximumInterval: '2s' });
  h = await startHarness({
    policyDir,
    // Verification polls every 300 ms; approvals (4h) and SLAs (24h) stay far away.
    timeScale: 0.01,
    override: adapterSystems(systems),
  });
});

afterAll(async () => {
  await h?.close();
  await sims?.close();
  for (const dir of [dataDir, policyDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

test(`${N} critical vulnerabilities under vendor faults: all remediated, one issue, one containment and one pull request each`, async () => {
  const { jira, crowdstrike, slack, github } = sims.simulators as Required<EmbeddedSimulators['simulators']>;
  const ids = await Promise.all(
    hosts.map((host) =>
      submit(
        h,
        detection({
          source: 'trivy',
          rule: 'CVE-2021-23337',
          title: `lodash command injection on ${host.name}`,
          severity: 'critical',
          category: 'vulnerability',
          asset: { id: host.name },
          details: { repository: 'acme/infra', package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'app/package.json' },
        }),
      ),
    ),
  );
  expect(new Set(ids).size).toBe(N);

  // Containment waits for secops; approve each as soon as it asks (the CMDB said: production, internet-facing).
  await Promise.all(
    ids.map(async (id) => {
      await waitFor(h, id, (s) => s.plan.playbook === PLAYBOOK && step(s, `${PLAYBOOK}.contain`).status === 'awaiting_approval', `${id}: contain awaiting approval`, 60_000);
      const r = await approve(h, id, `${PLAYBOOK}.contain`, { approver: 'alice', groups: ['secops'], reason: 'confirmed exposure' });
      expect(r.status).toBe(200);
    }),
  );

  const done = await Promise.all(ids.map((id) => waitFor(h, id, (s) => s.status === 'remediated', `${id}: remediated`, 100_000)));

  for (const s of done) {
    expect(s.plan.playbook).toBe(PLAYBOOK);
    expect(s.plan.steps.map((x: any) => [x.id.replace(`${PLAYBOOK}.`, ''), x.status])).toEqual([
      ['ticket', 'done'],
      ['notify', 'done'],
      ['contain', 'done'],
      ['patch', 'done'],
      ['verify', 'done'],
      ['release', 'done'],
    ]);
    expect(s.ticket.system).toBe('jira');
    // The pull request pushed the change previewed before planning went on: repository, file and diff on the step.
    expect(step(s, `${PLAYBOOK}.patch`).target).toMatchObject({ kind: 'repository', id: 'acme/infra', name: 'app/package.json', change: { files: ['app/package.json'], diff: expect.stringContaining('4.17.21'), digest: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  }

  // The faults really happened: every kind on every simulator, and answers to creates were lost.
  for (const [name, t] of Object.entries(tallies)) {
    for (const kind of FAULT_KINDS) expect([name, kind, t.byKind[kind] > 0]).toEqual([name, kind, true]);
  }
  expect(tallies.jira.lostAnswers).toEqual(['POST /rest/api/3/issue', 'POST /rest/api/3/issue']);
  expect(tallies.crowdstrike.lostAnswers).toHaveLength(2);
  expect(tallies.github.lostAnswers).toHaveLength(2);

  // Jira: exactly one issue per remediation (found by its label), and each one closed.
  const issues = [...jira.issues.values()];
  expect(issues.map((i) => `${i.key} ${i.labels[0]}`)).toHaveLength(N);
  for (const s of done) {
    const mine = issues.filter((i) => i.labels.includes(remediationLabel(s.instance ?? s.id)));
    expect([s.id, mine.map((i) => i.key)]).toEqual([s.id, [s.ticket.ticketId]]);
    expect([mine[0].key, mine[0].status.name]).toEqual([mine[0].key, 'Done']);
  }
  expect(jira.server.served((r) => r.method === 'POST' && r.path === '/rest/api/3/issue')).toHaveLength(N);

  // CrowdStrike: one contain and one lift per host, every host back to normal.
  for (const host of hosts) {
    const forHost = (action: string) => crowdstrike.actionRequests(action).filter((r) => (r.body as { ids: string[] }).ids[0] === host.deviceId);
    expect([host.name, forHost('contain').length, forHost('lift_containment').length]).toEqual([host.name, 1, 1]);
    expect(crowdstrike.devices.get(host.deviceId)?.status).toBe('normal');
  }

  // GitHub: one pull request per remediation (the one its patch step reports), merged.
  const pulls = github.pulls('acme/infra');
  expect(pulls.map((p) => `#${p.number} ${p.head.ref}`)).toHaveLength(N);
  expect(new Set(pulls.map((p) => p.head.ref)).size).toBe(N);
  expect(pulls.every((p) => p.merged)).toBe(true);
  expect(done.map((s) => step(s, `${PLAYBOOK}.patch`).result.number).sort((a: number, b: number) => a - b)).toEqual(pulls.map((p) => p.number).sort((a, b) => a - b));

  // Slack: every remediation told secops (at least once: webhooks have no idempotency key).
  for (const host of hosts) expect(slack.messagesFor('secops').some((m) => JSON.stringify(m).includes(host.name))).toBe(true);
}, 150_000);
