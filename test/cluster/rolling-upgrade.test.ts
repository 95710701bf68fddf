/**
 * A rolling upgrade on the Temporal server backed by PostgreSQL (deploy/local-cluster): an earlier
 * build of drw (DRW_UPGRADE_FROM, by default the last commit before the remediation core went in
 * behind patched('remediation-core')) runs the workflow worker and the integration worker;
 * remediations begin on it and are left waiting for an approval, paused, or in the middle of their
 * verification. Then this checkout's build takes over in the order the README gives: its
 * integration worker joins and the old one stops while it is opening a pull request; its workflow
 * worker joins (both builds poll side by side while a denial arrives) and the old one stops. The
 * new build finishes every remediation the old one began, on the pre-core code path, while a
 * remediation begun after the upgrade runs on the core. Every history is checked for failed
 * workflow tasks (a nondeterminism error would show there) and for which build ran its tasks.
 *
 * The API process is this checkout's throughout (it only starts and signals workflows). No
 * remediation begins while both builds poll: with patched() alone, a run begun on the new code and
 * handed to an old worker fails its workflow tasks there (a nondeterminism error at the core's
 * patch marker) until a new worker takes it, which the second test shows; Worker Versioning is
 * what routes runs by build (README, Running in production: Upgrades).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { freePort } from '../../bench/devserver';
import { CORE_PATCH, PLANNING_CHECKS_MARKERS } from '../../workflows/memo';
import { signAssertion, signingKeyFromFile } from '../../governance/signer';
import { approveSignal } from '../../signals';
import { approve, asset, deny, detection, operator, RUN, statusIs, step, submit, waitFor, type ApiTarget } from '../helpers/scenario';
import { connect, eventually, report, ROOT, startVendors, tmpDir, WorkerProcess, type Vendors } from '../faults/helpers';
import { oldBuild, resolveCommit } from './setup/old-build';

/** The last commit before patched('remediation-core') (df09db6): runs it begins take the pre-core path. */
const FROM = process.env.DRW_UPGRADE_FROM ?? '4d1826b';
const EventType = temporal.api.enums.v1.EventType;

const host = (name: string) => asset(`up-${name}`);
const A = { approveLater: host('approve'), denyOverlap: host('deny'), verifying: host('verify'), paused: host('paused'), inFlight: host('inflight'), after: host('after'), handedBack: host('back') };
const QUEUE = `upgrade-${RUN}`;
const CONTAIN = 'edr-malware.contain';
/** How long GitHub takes to answer the pull request that is in flight when the old integration worker stops. */
const SLOW_PR_MS = 20_000;

let dir: string;
/** The API's approval signing key (a file of this run, so the test can sign a raw signal as the API would). */
const keyFile = () => path.join(dir, 'approval-signing-key.pem');
let vendors: Vendors;
let client: Client;
let connection: Connection;
let api: ApiTarget;
let apiProcess: WorkerProcess;
let oldRoot: string;
/** [workflow worker, integration worker] of each build; every process the file started, to stop. */
let oldWorkers: WorkerProcess[] = [];
let newWorkers: WorkerProcess[] = [];
const processes: WorkerProcess[] = [];
let env: Record<string, string>;
/** Pull requests of these assets stay open until the test lets them merge; others merge after 2 s. */
const held = new Set<string>();
let merger: NodeJS.Timeout;

/** A worker process of the build in `root`: the workflow worker, or integrations of the given kinds (with the vendors' settings). */
function workerOf(root: string, name: string, roles = 'workflows'): WorkerProcess {
  const w = new WorkerProcess({ ...env, ...(roles === 'workflows' ? {} : vendors.env), DRW_WORKER_ROLES: roles }, path.join(dir, `${name}.log`), {
    script: path.join(root, 'dist', 'workers', 'main.js'),
    readyLine: 'drw worker started',
  });
  processes.push(w);
  return w;
}

async function pollerPids(): Promise<string[]> {
  const r = await client.workflowService.describeTaskQueue({
    namespace: process.env.TEMPORAL_NAMESPACE,
    taskQueue: { name: QUEUE },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return [...new Set((r.pollers ?? []).map((p) => p.identity!.split('@')[0]))].sort();
}

/** What a remediation's history says about the upgrade: failed tasks, the core's marker, who ran its tasks. */
async function historyOf(id: string): Promise<{ failedTasks: number; failedPids: string[]; failureCause?: string; failureMessage?: string; corePatch: boolean; taskPids: string[]; pullRequest?: { attempt: number; pid: string } }> {
  const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
  const failures = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).map((e) => e.workflowTaskFailedEventAttributes!);
  const text = (p?: temporal.api.common.v1.IPayloads | null) => (p?.payloads ?? []).map((x) => Buffer.from(x.data ?? []).toString('utf8')).join('');
  return {
    failedTasks: failures.length,
    failedPids: failures.map((f) => f.identity!.split('@')[0]),
    ...(failures[0] ? { failureCause: temporal.api.enums.v1.WorkflowTaskFailedCause[failures[0].cause!], failureMessage: failures[0].failure?.message ?? '' } : {}),
    // Begun on the core: its marker, or (since the planning checks) theirs instead.
    corePatch: events.some((e) => e.markerRecordedEventAttributes && Object.values(e.markerRecordedEventAttributes.details ?? {}).some((d) => [CORE_PATCH, ...PLANNING_CHECKS_MARKERS].some((p) => text(d).includes(p)))),
    taskPids: events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED).map((e) => e.workflowTaskStartedEventAttributes!.identity!.split('@')[0]),
    // The started event of an activity is written when it ends, with the attempt that ended it and who ran that attempt.
    ...(() => {
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'openPullRequest');
      const started = scheduled && events.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(scheduled.eventId));
      return started ? { pullRequest: { attempt: started.activityTaskStartedEventAttributes!.attempt!, pid: started.activityTaskStartedEventAttributes!.identity!.split('@')[0] } } : {};
    })(),
  };
}

const pullsOf = (a: string) => vendors.github.pulls().filter((p) => p.title.includes(a)).map((p) => p.merged);
const pid = (w: WorkerProcess) => String(w.child!.pid);
const actions = (action: 'contain' | 'lift_containment', a: string) => vendors.falcon.actionRequests(action).filter((r) => ((r.body as { ids?: string[] })?.ids ?? [])[0] === vendors.deviceOf(a)).length;
const vulnerability = (a: string, environment: string, internetFacing = false) =>
  detection({
    source: 'trivy',
    rule: internetFacing ? 'CVE-2024-6387' : 'CVE-2021-23337',
    severity: internetFacing ? 'critical' : 'high',
    category: 'vulnerability',
    asset: { id: a, environment, internetFacing },
    details: { repository: 'acme/infra', package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'app/package.json' },
  });
const malware = (a: string, riskScore: number) => detection({ source: 'crowdstrike', rule: 'Trojan.Upgrade', severity: 'high', category: 'malware', riskScore, asset: { id: a, environment: 'production' } });

beforeAll(async () => {
  oldRoot = oldBuild(FROM);
  dir = tmpDir('upgrade');
  // The policy directory is the deployment's, not the build's: both builds load the same one (the old build's defaults).
  const policyDir = mkdtempSync(path.join(dir, 'policy-'));
  cpSync(path.join(oldRoot, 'policies', 'default'), policyDir, { recursive: true });
  vendors = await startVendors({ dir, assets: Object.values(A), autoMergeMs: Number.POSITIVE_INFINITY });
  merger = setInterval(() => {
    for (const p of vendors.github.pulls()) {
      if (p.state === 'open' && !p.merged && Date.now() - Date.parse(p.created_at) >= 2000 && ![...held].some((a) => p.title.includes(a))) vendors.github.markMerged(p.repository, p.number);
    }
  }, 200);
  ({ client, connection } = await connect());
  env = {
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!,
    TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE!,
    DRW_TASK_QUEUE: QUEUE,
    DRW_POLICY_DIR: policyDir,
    // A policy hour is 6 min: approvals outlast the upgrade on a busy machine; verification polls every second.
    DRW_TIME_SCALE: '0.1',
    DRW_LOG_LEVEL: 'info',
    // The old build has no payload compression: this build starts without compressing (README, Upgrades), reading what is.
    DRW_PAYLOAD_COMPRESSION: 'off',
  };
  const port = await freePort();
  apiProcess = new WorkerProcess({ ...env, DRW_API_PORT: String(port), DRW_LOG_LEVEL: 'warn', DRW_APPROVAL_SIGNING_KEY_FILE: keyFile() }, path.join(dir, 'api.log'), {
    script: path.join(ROOT, 'dist', 'cli', 'start.js'),
    args: ['--api-only'],
    readyLine: 'drw is running',
  });
  await apiProcess.start();
  api = { api: `http://127.0.0.1:${port}` };
  // The kinds the old build knows (identity came later); the new build adds its own.
  oldWorkers = [workerOf(oldRoot, 'old-workflows'), workerOf(oldRoot, 'old-integrations', 'policy,cmdb,ticketing,iac,endpoint,notify,runbook,verify')];
  for (const w of oldWorkers) await w.start();
});

afterAll(async () => {
  clearInterval(merger);
  for (const p of [...processes, apiProcess]) await p?.stop();
  await vendors?.close();
  await connection?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(`remediations begun on the build of ${FROM} (before the remediation core) finish on this build after a rolling upgrade, with no failed workflow task`, async () => {
  const t0 = Date.now();
  expect(resolveCommit(FROM)).not.toBe(resolveCommit('HEAD'));

  // 1. Only the old build runs: four remediations begin and stop where an upgrade would find them.
  held.add(A.verifying);
  const ids = {
    approveLater: await submit(api, malware(A.approveLater, 60)),
    denyOverlap: await submit(api, malware(A.denyOverlap, 55)),
    verifying: await submit(api, vulnerability(A.verifying, 'production', true)),
    paused: await submit(api, malware(A.paused, 60)),
  };
  for (const id of [ids.approveLater, ids.denyOverlap, ids.paused]) await waitFor(api, id, statusIs('awaiting_approval'), `${id} awaiting approval on the old build`, 120_000);
  expect((await operator(api, ids.paused, 'pause', 'oscar', 'change freeze')).status).toBe(202);
  await waitFor(api, ids.paused, statusIs('paused'), 'paused on the old build');
  await waitFor(api, ids.verifying, statusIs('awaiting_approval'), 'critical vulnerability awaiting approval on the old build', 120_000);
  expect((await approve(api, ids.verifying, 'critical-vuln-internet-prod.contain', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  await waitFor(api, ids.verifying, statusIs('verifying'), 'contained, pull request open, verifying on the old build', 120_000);
  expect(await pollerPids()).toEqual([pid(oldWorkers[0])]);

  // 2. Integration workers first: the new one joins while the old one is opening a pull request
  // (GitHub answers it slowly), and the old one stops with that call in flight.
  newWorkers = [workerOf(ROOT, 'new-workflows'), workerOf(ROOT, 'new-integrations', 'policy,cmdb,ticketing,iac,endpoint,notify,runbook,identity,verify')];
  vendors.github.server.setFaults({ match: /^POST \/repos\/acme\/infra\/pulls$/, queue: [{ kind: 'slow', ms: SLOW_PR_MS }] });
  const inFlight = await submit(api, vulnerability(A.inFlight, 'staging'));
  const opening = await eventually('the old build opening the pull request', 120_000, async () => vendors.github.server.requests.find((r) => r.method === 'POST' && JSON.stringify(r.body ?? '').includes(A.inFlight)));
  await newWorkers[1].start();
  const integrationPids = { old: pid(oldWorkers[1]), new: pid(newWorkers[1]) };
  const stoppedAfterMs = Date.now() - opening.at;
  await oldWorkers[1].stop();
  expect(stoppedAfterMs).toBeLessThan(SLOW_PR_MS);

  // 3. Then the workflow workers: both builds poll while a denial arrives.
  await newWorkers[0].start();
  const both = [pid(oldWorkers[0]), pid(newWorkers[0])].sort();
  await eventually('both workflow workers polling', 30_000, async () => ((await pollerPids()).join() === both.join() ? true : undefined));
  expect((await deny(api, ids.denyOverlap, CONTAIN, { approver: 'alice', groups: ['secops'], reason: 'reimage tonight instead' })).status).toBe(200);
  // A run begun before the core keeps its rules: a denied containment was skipped and the run called remediated.
  const denied = await waitFor(api, ids.denyOverlap, statusIs('remediated'), 'denied while both builds poll: finished without containment', 120_000);
  expect(step(denied, CONTAIN).status).toBe('skipped');

  // 4. The old workflow worker stops (SIGTERM, as a rollout does); the new build finishes what the old one began.
  const oldPid = pid(oldWorkers[0]);
  await oldWorkers[0].stop();
  // (The server lists a stopped poller for minutes after; the process being gone is the fact.)
  expect(oldWorkers.map((w) => w.running())).toEqual([false, false]);
  expect((await approve(api, ids.approveLater, CONTAIN, { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  expect((await operator(api, ids.paused, 'resume', 'oscar', 'freeze over')).status).toBe(202);
  await waitFor(api, ids.paused, statusIs('awaiting_approval'), 'resumed on the new build: awaiting approval again');
  expect((await approve(api, ids.paused, CONTAIN, { approver: 'bob', groups: ['secops'] })).status).toBe(200);
  held.delete(A.verifying);
  // Begun on the new build: the planning checks apply (the old build's policy folder has no facts.yaml, so the
  // shipped defaults: a native risk score does not count), and its containment waits for secops.
  const after = await submit(api, malware(A.after, 95));
  const afterWaiting = await waitFor(api, after, statusIs('awaiting_approval'), 'begun after the upgrade: awaiting approval', 120_000);
  expect(afterWaiting.facts.riskScore).toMatchObject({ from: 'drw', detection: 95 });
  expect((await approve(api, after, CONTAIN, { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  const finals = {
    approveLater: await waitFor(api, ids.approveLater, statusIs('remediated'), 'approved after the upgrade: remediated', 120_000),
    verifying: await waitFor(api, ids.verifying, statusIs('remediated'), 'pull request merged after the upgrade: remediated', 120_000),
    paused: await waitFor(api, ids.paused, statusIs('remediated'), 'resumed and approved after the upgrade: remediated', 120_000),
    inFlight: await waitFor(api, inFlight, statusIs('remediated'), 'pull request opened across the upgrade: remediated', 120_000),
    after: await waitFor(api, after, statusIs('remediated'), 'begun after the upgrade: remediated', 120_000),
  };

  // The old build's create, sent before it stopped, is served by now (a late create must not make a second pull request).
  await new Promise((r) => setTimeout(r, Math.max(0, opening.at + SLOW_PR_MS + 1000 - Date.now())));
  // Outcomes: exactly the side effects each remediation called for, once.
  expect(finals.approveLater.approvals).toEqual([expect.objectContaining({ approver: 'alice', decision: 'approve' })]);
  expect(step(finals.after, CONTAIN).approval?.approvedBy).toEqual(['alice']);
  expect({
    contained: Object.fromEntries(Object.entries(A).filter(([k]) => k !== 'handedBack').map(([k, a]) => [k, actions('contain', a)])),
    lifted: actions('lift_containment', A.verifying),
    tickets: Object.fromEntries(Object.entries(A).filter(([k]) => k !== 'handedBack').map(([k, a]) => [k, [...vendors.jira.issues.values()].filter((i) => i.summary.includes(a)).length])),
    pulls: { verifying: pullsOf(A.verifying), inFlight: pullsOf(A.inFlight) },
  }).toEqual({
    contained: { approveLater: 1, denyOverlap: 0, verifying: 1, paused: 1, inFlight: 0, after: 1 },
    lifted: 1,
    tickets: { approveLater: 1, denyOverlap: 1, verifying: 1, paused: 1, inFlight: 1, after: 1 },
    pulls: { verifying: [true], inFlight: [true] },
  });

  // Histories: no failed workflow task anywhere; the old runs stayed off the core, began on the
  // old build and ended on the new one (but those free to finish while both builds polled).
  const overlap = new Set(['denyOverlap', 'inFlight']);
  const newPid = pid(newWorkers[0]);
  const histories = Object.fromEntries(await Promise.all(Object.entries({ ...ids, inFlight, after }).map(async ([k, id]) => [k, await historyOf(id)] as const)));
  const runs = Object.fromEntries(
    Object.entries(histories).map(([k, h]) => [k, { failedTasks: h.failedTasks, corePatch: h.corePatch, first: h.taskPids[0], last: overlap.has(k) ? 'either' : h.taskPids.at(-1), other: h.taskPids.filter((p) => p !== oldPid && p !== newPid).length }]),
  );
  const old = (last: string) => ({ failedTasks: 0, corePatch: false, first: oldPid, last, other: 0 });
  expect(runs).toEqual({ approveLater: old(newPid), denyOverlap: old('either'), verifying: old(newPid), paused: old(newPid), inFlight: old('either'), after: { failedTasks: 0, corePatch: true, first: newPid, last: newPid, other: 0 } });
  report('cluster rolling upgrade', {
    from: resolveCommit(FROM).slice(0, 7),
    remediations: Object.keys(histories).length,
    tasksOnOld: Object.values(histories).reduce((n, h) => n + h.taskPids.filter((p) => p === oldPid).length, 0),
    tasksOnNew: Object.values(histories).reduce((n, h) => n + h.taskPids.filter((p) => p === newPid).length, 0),
    pullRequestInFlight: `attempt ${histories.inFlight.pullRequest?.attempt} ended on the ${histories.inFlight.pullRequest?.pid === integrationPids.old ? 'old' : histories.inFlight.pullRequest?.pid === integrationPids.new ? 'new' : 'unknown'} build`,
    seconds: Math.round((Date.now() - t0) / 1000),
  });
});

test('a remediation begun on this build and handed to a workflow worker of the old build fails its workflow tasks there, and finishes once this build polls again', async () => {
  expect([oldWorkers[0].running(), newWorkers[0].running()]).toEqual([false, true]);
  const id = await submit(api, malware(A.handedBack, 60));
  const waiting = await waitFor(api, id, statusIs('awaiting_approval'), 'awaiting approval on this build', 120_000);
  // Only an old workflow worker polls when the approval arrives (a signal: an update would wait for an answer).
  await newWorkers[0].stop();
  const stray = workerOf(oldRoot, 'old-workflows-again');
  await stray.start();
  // Signed as the API signs it (the remediation trusts the API's key only).
  const digest = waiting.plan.steps.find((x: any) => x.id === CONTAIN).digest;
  const claims = { v: 1 as const, wf: id, step: CONTAIN, digest, decision: 'approve' as const, approver: 'alice', groups: ['secops'], reason: 'confirmed', iat: Date.now() };
  const assertion = signAssertion(signingKeyFromFile(keyFile()).key, claims);
  await client.workflow.getHandle(id).signal(approveSignal, { stepId: CONTAIN, approver: 'alice', groups: ['secops'], reason: 'confirmed', digest, assertion });
  const failed = await eventually('a failed workflow task on the old build', 120_000, async () => {
    const h = await historyOf(id);
    return h.failedTasks > 0 ? h : undefined;
  });
  expect(actions('contain', A.handedBack)).toBe(0);
  const back = workerOf(ROOT, 'new-workflows-again');
  await back.start();
  await stray.stop();
  await waitFor(api, id, statusIs('remediated'), 'remediated once this build polls again', 120_000);
  const h = await historyOf(id);
  expect({ contained: actions('contain', A.handedBack), corePatch: h.corePatch, cause: failed.failureCause, failedOn: [...new Set(failed.failedPids)], last: h.taskPids.at(-1) }).toEqual({
    contained: 1,
    corePatch: true,
    cause: 'WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR',
    failedOn: [pid(stray)],
    last: pid(back),
  });
  report('cluster new run on an old worker', { failedTasks: h.failedTasks, cause: failed.failureCause, message: failed.failureMessage?.slice(0, 120) });
});
