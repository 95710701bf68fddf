/**
 * drw as it runs in production, on a Temporal server backed by PostgreSQL (deploy/local-cluster):
 * the HTTP API alone (`node dist/cli/start.js --api-only`), two workflow workers and three
 * integration workers by kind (`node dist/workers/main.js` with DRW_WORKER_ROLES), each its own
 * process, configured with TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE only. Vendors are the fault
 * suite's simulators (Jira, CrowdStrike, Slack, GitHub with a real git repository).
 *
 * The subset of the end-to-end scenarios run here covers every default playbook
 * (critical-vuln-internet-prod, vulnerability, cloud-misconfiguration, edr-malware,
 * infrastructure-alert, triage) and every message a remediation accepts (approve and deny as
 * updates and as signals, riskScoreChanged, findingAdded, findingResolved, pause, resume, cancel,
 * falsePositive, policyUpdated); the last test SIGKILLs one of the two workflow workers mid-run.
 * Only the API, the approve/deny signals and policyUpdated (a client signal, as a policy
 * pipeline would send it) talk to drw.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { freePort } from '../../bench/devserver';
import { loadPolicyDir } from '../../planner/load';
import { FINAL_STATUSES } from '../../planner/types';
import { approveSignal, denySignal, policyUpdatedSignal } from '../../signals';
import { DEFAULT_POLICY, http } from '../helpers/harness';
import { approve, asset, deny, detection, getState, operator, RUN, statusIs, step, submit, waitFor, type ApiTarget } from '../helpers/scenario';
import { connect, report, ROOT, sideEffectCounts, startVendors, tmpDir, WorkerProcess, type Vendors } from '../faults/helpers';

const KILL_REMEDIATIONS = Number(process.env.CLUSTER_KILL_REMEDIATIONS ?? 8);
const host = (name: string) => asset(`cl-${name}`);
const killAssets = Array.from({ length: KILL_REMEDIATIONS }, (_, i) => host(`kill-${String(i).padStart(2, '0')}`));
const HOSTS = [...['crit', 'vuln', 'malware', 'node', 'deny', 'sig-a', 'sig-b', 'fp', 'policy'].map(host), ...killAssets];

let dir: string;
let policyDir: string;
let vendors: Vendors;
let client: Client;
let connection: Connection;
let api: ApiTarget;
let workerHealth: string;
const processes: WorkerProcess[] = [];
const workflowWorkers: WorkerProcess[] = [];
/** Pull requests of these assets stay open until the test merges them; others merge after 2 s. */
const held = new Set<string>();
let merger: NodeJS.Timeout;

beforeAll(async () => {
  dir = tmpDir('cluster');
  policyDir = mkdtempSync(path.join(dir, 'policy-'));
  cpSync(DEFAULT_POLICY, policyDir, { recursive: true });
  vendors = await startVendors({ dir, assets: HOSTS, autoMergeMs: Number.POSITIVE_INFINITY });
  merger = setInterval(() => {
    for (const p of vendors.github.pulls()) {
      if (p.state === 'open' && !p.merged && Date.now() - Date.parse(p.created_at) >= 2000 && ![...held].some((a) => p.title.includes(a))) vendors.github.markMerged(p.repository, p.number);
    }
  }, 200);
  ({ client, connection } = await connect());

  // What every process gets: where the cluster is, and drw's own settings (no vendor secrets).
  const base = {
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!,
    TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE!,
    DRW_TASK_QUEUE: `cluster-${RUN}`,
    DRW_POLICY_DIR: policyDir,
    // A policy hour is 3 min: approvals do not expire during a scenario; verification polls every 0.5 s.
    DRW_TIME_SCALE: '0.05',
    DRW_LOG_LEVEL: 'info',
    // The runbook and identity kinds have no simulator here: their in-process stand-ins, asked for (workers fail closed otherwise).
    DRW_ALLOW_INPROCESS: '1',
    // Nor has change control: the in-process CAB approves at once (test/e2e/change-control.test.ts waits for a real one).
    DRW_INPROCESS_CAB_APPROVER: 'CAB Manager',
  };
  const port = await freePort();
  const healthPort = await freePort();
  const log = (name: string) => path.join(dir, `${name}.log`);
  // Unsigned approvals count (the loopback default's explicit setting): one scenario decides by raw signals.
  const apiProcess = new WorkerProcess(
    { ...base, DRW_API_PORT: String(port), DRW_LOG_LEVEL: 'warn', DRW_UNSIGNED_APPROVALS: 'allow', DRW_APPROVAL_SIGNING_KEY_FILE: path.join(dir, 'approval-signing-key.pem') },
    log('api'),
    {
    script: path.join(ROOT, 'dist', 'cli', 'start.js'),
    args: ['--api-only'],
    readyLine: 'drw is running',
  });
  for (const n of [1, 2]) workflowWorkers.push(new WorkerProcess({ ...base, DRW_WORKER_ROLES: 'workflows' }, log(`workflows-${n}`)));
  const integrations = ['ticketing,notify', 'endpoint,iac', 'policy,cmdb,runbook,verify,change'].map(
    (roles, i) => new WorkerProcess({ ...base, ...vendors.env, DRW_WORKER_ROLES: roles, ...(i === 0 ? { DRW_HEALTH_PORT: String(healthPort) } : {}) }, log(roles.split(',')[0])),
  );
  processes.push(apiProcess, ...workflowWorkers, ...integrations);
  // One at a time: each worker bundles the workflow code or loads the policy, and the machine has 2 cores.
  for (const p of processes) await p.start();
  api = { api: `http://127.0.0.1:${port}` };
  workerHealth = `http://127.0.0.1:${healthPort}/healthz`;
});

afterAll(async () => {
  clearInterval(merger);
  for (const p of processes) await p.stop();
  await vendors?.close();
  await connection?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const issuesOf = (a: string) => [...vendors.jira.issues.values()].filter((i) => i.summary.includes(a));
const actions = (action: 'contain' | 'lift_containment', a: string) => vendors.falcon.actionRequests(action).filter((r) => ((r.body as { ids?: string[] })?.ids ?? [])[0] === vendors.deviceOf(a)).length;
const pullsOf = (a: string) => vendors.github.pulls().filter((p) => p.title.includes(a));
const malware = (a: string, riskScore: number) => detection({ source: 'crowdstrike', rule: 'Trojan.Cluster', severity: 'high', category: 'malware', riskScore, asset: { id: a, environment: 'production' } });
const criticalVuln = (a: string) =>
  detection({
    source: 'trivy',
    rule: 'CVE-2024-6387',
    severity: 'critical',
    category: 'vulnerability',
    asset: { id: a, environment: 'production', internetFacing: true },
    details: { repository: 'acme/infra', package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'app/package.json' },
  });
const CONTAIN = 'edr-malware.contain';

test('the API process runs no worker: its task queue is polled by two workflow-worker processes; API and worker answer /healthz', async () => {
  expect((await http('GET', `${api.api}/healthz`)).status).toBe(200);
  expect(await http('GET', workerHealth)).toMatchObject({ status: 200, body: { status: 'ok' } });
  const pollers = await client.workflowService.describeTaskQueue({
    namespace: process.env.TEMPORAL_NAMESPACE,
    taskQueue: { name: `cluster-${RUN}` },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const pids = new Set((pollers.pollers ?? []).map((p) => p.identity?.split('@')[0]));
  expect(pids).toEqual(new Set(workflowWorkers.map((w) => String(w.child!.pid))));
});

test('critical vulnerability on an internet-facing prod host: approved containment, PR merged, containment released', async () => {
  const a = host('crit');
  const id = await submit(api, criticalVuln(a));
  const waiting = await waitFor(api, id, statusIs('awaiting_approval'), 'awaiting approval');
  expect(waiting.plan.playbook).toBe('critical-vuln-internet-prod');
  expect((await approve(api, id, 'critical-vuln-internet-prod.contain', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  await waitFor(api, id, statusIs('remediated'), 'remediated', 120_000);
  expect({ tickets: issuesOf(a).length, contain: actions('contain', a), lift: actions('lift_containment', a), pulls: pullsOf(a).map((p) => p.merged) }).toEqual({ tickets: 1, contain: 1, lift: 1, pulls: [true] });
});

test('ordinary vulnerability: a ticket and a bump_package PR, verified merged, no containment', async () => {
  const a = host('vuln');
  const id = await submit(api, detection({ source: 'trivy', rule: 'CVE-2021-23337', severity: 'high', category: 'vulnerability', asset: { id: a, environment: 'staging' }, details: { repository: 'acme/infra', package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'app/package.json' } }));
  const done = await waitFor(api, id, statusIs('remediated'), 'remediated', 120_000);
  expect(done.plan.playbook).toBe('vulnerability');
  expect({ tickets: issuesOf(a).length, contain: actions('contain', a), pulls: pullsOf(a).length }).toEqual({ tickets: 1, contain: 0, pulls: 1 });
});

test('cloud misconfiguration outside production: two IaC pull requests without approval', async () => {
  const acct = host('acct');
  const id = await submit(api, detection({ source: 'securityhub', rule: 'S3.8-EC2.19', severity: 'high', category: 'misconfiguration', asset: { id: acct, type: 'cloud-account', environment: 'dev' }, details: { repository: 'acme/infra', bucket: 'acme-prod-logs', securityGroup: 'web' } }));
  const done = await waitFor(api, id, statusIs('remediated'), 'remediated', 120_000);
  expect(done.plan.playbook).toBe('cloud-misconfiguration');
  expect(pullsOf(acct).map((p) => p.merged)).toEqual([true, true]);
});

test('EDR malware at risk 60 waits for secops; riskScoreChanged to 97 contains without approval', async () => {
  const a = host('malware');
  const id = await submit(api, malware(a, 60));
  await waitFor(api, id, statusIs('awaiting_approval'), 'awaiting approval');
  expect(actions('contain', a)).toBe(0);
  expect((await http('POST', `${api.api}/v1/remediations/${id}/risk`, { riskScore: 97, reason: 'ransomware note found', by: 'analyst-1' })).status).toBe(202);
  const done = await waitFor(api, id, statusIs('remediated'), 'remediated');
  expect(done.plan.playbook).toBe('edr-malware');
  expect(step(done, CONTAIN).approval).toBeUndefined();
  expect(actions('contain', a)).toBe(1);
});

test('infrastructure alert: the runbook runs, and findingResolved from the source ends the remediation', async () => {
  const a = host('node');
  const det = detection({ source: 'alertmanager', rule: 'NginxDown', severity: 'high', category: 'infrastructure', asset: { id: a, environment: 'production' }, details: { runbook: 'restart-nginx', service: 'nginx' } });
  const id = await submit(api, det);
  const verifying = await waitFor(api, id, statusIs('verifying'), 'verifying (waiting for the alert to resolve)');
  expect(step(verifying, 'infrastructure-alert.runbook').status).toBe('done');
  expect((await http('POST', `${api.api}/v1/detections`, { ...det, status: 'resolved' })).body.remediations[0]).toEqual({ id, outcome: 'signalled' });
  const done = await waitFor(api, id, statusIs('resolved'), 'resolved');
  expect(done.resolution).toBe('resolved_at_source');
});

test('triage: a repeat is added to the open triage remediation (findingAdded), and cancel closes it', async () => {
  const mailbox = host('mailbox');
  const det = detection({ source: 'msgraph', rule: 'SuspiciousInboxRule', severity: 'medium', category: 'phishing', asset: { id: mailbox, type: 'mailbox' } });
  const id = await submit(api, det);
  const s = await waitFor(api, id, (x) => step(x, 'triage.ticket').status === 'done', 'triage ticket opened');
  expect(s.plan.playbook).toBe('triage');
  expect((await http('POST', `${api.api}/v1/detections`, { ...det, severity: 'high' })).body.remediations[0]).toEqual({ id, outcome: 'signalled' });
  await waitFor(api, id, (x) => x.findingCount === 2 && x.severity === 'high', 'two findings, severity high');
  expect((await operator(api, id, 'cancel', 'oscar', 'handled in the mail console')).status).toBe(202);
  await waitFor(api, id, statusIs('cancelled'), 'cancelled');
  expect(issuesOf(mailbox)).toHaveLength(1);
});

test('pause and resume, then a deny update: nothing runs while paused, and the denied containment is skipped', async () => {
  const a = host('deny');
  const id = await submit(api, malware(a, 55));
  await waitFor(api, id, statusIs('awaiting_approval'), 'awaiting approval');
  expect((await operator(api, id, 'pause', 'oscar', 'change freeze')).status).toBe(202);
  await waitFor(api, id, statusIs('paused'), 'paused');
  expect((await operator(api, id, 'resume', 'oscar', 'freeze over')).status).toBe(202);
  await waitFor(api, id, statusIs('awaiting_approval'), 'awaiting approval again');
  expect((await deny(api, id, CONTAIN, { approver: 'alice', groups: ['secops'], reason: 'reimage tonight instead' })).status).toBe(200);
  // Denied: nothing contained, nothing verified: handed to a person, not called remediated.
  const done = await waitFor(api, id, statusIs('escalated'), 'escalated without containment');
  expect(done.decisions.filter((d: any) => d.kind === 'operator').map((d: any) => d.summary)).toEqual(['paused by oscar: change freeze', 'resumed by oscar: freeze over']);
  expect(actions('contain', a)).toBe(0);
});

test('approve and deny as fire-and-forget signals decide two waiting containments', async () => {
  const [a, b] = [host('sig-a'), host('sig-b')];
  const [idA, idB] = [await submit(api, malware(a, 65)), await submit(api, malware(b, 65))];
  await waitFor(api, idA, statusIs('awaiting_approval'), 'A awaiting approval');
  await waitFor(api, idB, statusIs('awaiting_approval'), 'B awaiting approval');
  await client.workflow.getHandle(idA).signal(approveSignal, { stepId: CONTAIN, approver: 'alice', groups: ['secops'], reason: 'confirmed' });
  await client.workflow.getHandle(idB).signal(denySignal, { stepId: CONTAIN, approver: 'bob', groups: ['secops'], reason: 'false alarm likely' });
  const [doneA, doneB] = [await waitFor(api, idA, statusIs('remediated'), 'A remediated'), await waitFor(api, idB, statusIs('escalated'), 'B escalated: nothing contained')];
  expect(doneA.approvals).toEqual([expect.objectContaining({ approver: 'alice', decision: 'approve', via: 'signal' })]);
  expect(doneB.approvals).toEqual([expect.objectContaining({ approver: 'bob', decision: 'deny', via: 'signal' })]);
  expect([actions('contain', a), actions('contain', b)]).toEqual([1, 0]);
});

test('falsePositive while verifying: the containment is lifted and the remediation resolves as a false positive', async () => {
  const a = host('fp');
  held.add(a);
  const id = await submit(api, criticalVuln(a));
  await waitFor(api, id, statusIs('awaiting_approval'), 'awaiting approval');
  expect((await approve(api, id, 'critical-vuln-internet-prod.contain', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  await waitFor(api, id, statusIs('verifying'), 'verifying (pull request held open)');
  expect((await operator(api, id, 'false-positive', 'oscar', 'scanner misread the version')).status).toBe(202);
  const done = await waitFor(api, id, statusIs('resolved'), 'resolved');
  expect(done.resolution).toBe('false_positive');
  expect(step(done, 'critical-vuln-internet-prod.contain').status).toBe('compensated');
  expect([actions('contain', a), actions('lift_containment', a)]).toEqual([1, 1]);
});

test('policyUpdated: every worker process loads the edited policy, and the waiting containment runs without approval', async () => {
  const a = host('policy');
  const id = await submit(api, malware(a, 60));
  await waitFor(api, id, statusIs('awaiting_approval'), 'awaiting approval');
  const file = path.join(policyDir, '40-edr-malware.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('when: riskScore < 90', 'when: riskScore < 50'));
  const version = loadPolicyDir(policyDir).version;
  await client.workflow.getHandle(id).signal(policyUpdatedSignal, { version, by: 'policy-bot', reason: 'contain at once from risk 50' });
  const done = await waitFor(api, id, statusIs('remediated'), 'remediated under the new policy');
  expect(done.plan.policyVersion).toBe(version);
  expect(actions('contain', a)).toBe(1);
});

test(`one of two workflow workers is SIGKILLed mid-run: all ${KILL_REMEDIATIONS} remediations finish with no duplicate ticket, containment or pull request`, async () => {
  // Half vulnerabilities (ticket, pull request), half malware at risk 95 (ticket, containment without approval).
  const ids: string[] = [];
  for (const [i, a] of killAssets.entries()) {
    const det =
      i % 2 === 0
        ? detection({ source: 'trivy', rule: 'CVE-2021-23337', title: `Fault finding on ${a}`, severity: 'high', category: 'vulnerability', asset: { id: a, environment: 'staging' }, details: { repository: 'acme/infra', package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'app/package.json' } })
        : { ...malware(a, 95), title: `Fault finding on ${a}` };
    ids.push(await submit(api, det));
  }
  // Kill once work is under way on both workers' queue: some remediations have their ticket, not all are done.
  await waitFor(api, ids[0], (s) => Boolean(s.ticket), 'the first remediation has its ticket', 60_000);
  const victim = workflowWorkers[0];
  await victim.kill();
  const t0 = Date.now();
  const openAtKill = (await Promise.all(ids.map((id) => getState(api, id)))).filter((s) => !FINAL_STATUSES.has(s?.status)).length;
  const finals = await Promise.all(ids.map((id) => waitFor(api, id, (s) => FINAL_STATUSES.has(s.status), `${id} to finish`, 5 * 60_000)));
  const statuses = finals.reduce<Record<string, number>>((acc, s) => ((acc[s.status] = (acc[s.status] ?? 0) + 1), acc), {});
  const fx = vendors.sideEffects(killAssets);
  report('cluster worker-kill', { remediations: ids.length, openAtKill, statuses, ...sideEffectCounts(fx), secondsAfterKill: Math.round((Date.now() - t0) / 1000) });
  expect(victim.running()).toBe(false);
  expect(openAtKill).toBeGreaterThan(0);
  expect(statuses).toEqual({ remediated: KILL_REMEDIATIONS });
  expect({ dupTickets: fx.duplicateTickets, dupContainments: fx.duplicateContainments, dupPulls: fx.duplicatePullRequests }).toEqual({ dupTickets: [], dupContainments: [], dupPulls: [] });
  expect({ tickets: fx.tickets, containments: fx.containments, pullRequests: fx.pullRequests }).toEqual({ tickets: KILL_REMEDIATIONS, containments: KILL_REMEDIATIONS / 2, pullRequests: KILL_REMEDIATIONS / 2 });
});
