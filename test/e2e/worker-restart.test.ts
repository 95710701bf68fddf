/**
 * A drw process stopped in the middle of a remediation (while a containment call is in
 * flight) and a new one started on the same task queues: the remediation resumes from its
 * history on the new workers and finishes, without repeating any completed side effect.
 * Both processes share one set of in-process systems (the "outside world"), wrapped so every
 * call is counted, including calls the systems would absorb idempotently.
 */
import { Context } from '@temporalio/activity';
import { createInProcessSystems } from '../../activities/inprocess';
import { startHarness, type Harness } from '../helpers/harness';
import { HistoryKeeper, eventTypes } from '../helpers/histories';
import { approve, asset, counting, refOf, detection, notificationsFor, statusIs, step, stepStatuses, submit, ticketsFor, waitFor } from '../helpers/scenario';

const keeper = new HistoryKeeper();
// The CAB approves at once: this scenario is about the worker, not change control.
const world = createInProcessSystems({ autoMergeAfterMs: 0, changeApprover: 'CAB Manager' });
let first: Harness | undefined;
let second: Harness | undefined;

afterAll(async () => {
  await first?.close();
  await second?.close();
});

const malware = (host: string, riskScore: number) =>
  detection({ source: 'crowdstrike', rule: 'Trojan.Restart', severity: 'high', category: 'malware', riskScore, asset: { id: host, environment: 'production' } });

test('a worker stopped mid-step and a new one on the same task queue: the remediation resumes and no completed side effect repeats', async () => {
  const slowHost = asset('wr-slow-1');
  const waitingHost = asset('wr-waiting-1');
  let isolateStarted!: () => void;
  const isolating = new Promise<void>((r) => (isolateStarted = r));
  // First process: containment of slowHost hangs (as a slow EDR API would) until the worker stops.
  const before = counting(world, async (name, input) => {
    if (name === 'endpoint.isolateHost' && input.assetId === slowHost) {
      isolateStarted();
      await Context.current().sleep(60_000); // cancelled by the worker's shutdown
    }
  });
  // 0.01: the approval of the second remediation does not expire (36 s) during the test.
  first = await startHarness({ override: before.systems, timeScale: 0.01 });
  const taskQueue = first.cfg.taskQueue;

  const slowId = await submit(first, malware(slowHost, 95));
  const waitingId = await submit(first, malware(waitingHost, 50));
  await isolating;
  const mid = await waitFor(first, slowId, (s) => step(s, 'edr-malware.contain').status === 'running', 'containment running');
  expect(step(mid, 'edr-malware.ticket').status).toBe('done');
  await waitFor(first, waitingId, statusIs('awaiting_approval'), 'second remediation awaiting approval');
  expect(world.record.isolateCalls).not.toContain(slowHost);

  await first.close();
  first = undefined;

  // Second process: same task queues, same outside world, no slowness.
  const after = counting(world);
  second = await startHarness({ taskQueue, override: after.systems, timeScale: 0.01 });
  expect(second.cfg.taskQueue).toBe(taskQueue);

  const done = await waitFor(second, slowId, statusIs('remediated'), 'remediated on the new worker', 45_000);
  expect(stepStatuses(done)).toEqual([
    ['edr-malware.ticket', 'done'],
    ['edr-malware.contain', 'done'],
    ['edr-malware.notify', 'done'],
    ['edr-malware.verify', 'done'],
  ]);
  // The interrupted call was retried on the new worker; the containment happened once.
  expect(before.count('endpoint.isolateHost', (i) => i.assetId === slowHost)).toBe(1);
  expect(after.count('endpoint.isolateHost', (i) => i.assetId === slowHost)).toBe(1);
  expect(world.record.isolateCalls.filter((a) => a === slowHost)).toHaveLength(1);
  expect(world.record.containments.get(slowHost)).toBe('contained');
  // What completed before the stop was not done again after it.
  expect(before.count('ticketing.openTicket', (i) => refOf(slowId, i.remediationId))).toBe(1);
  expect(after.count('ticketing.openTicket', (i) => refOf(slowId, i.remediationId))).toBe(0);
  expect(before.count('cmdb.lookupAsset', (i) => i.assetId === slowHost) + after.count('cmdb.lookupAsset', (i) => i.assetId === slowHost)).toBe(1);
  expect(ticketsFor(world, slowHost)).toEqual([expect.objectContaining({ status: 'closed:remediated' })]);
  expect(notificationsFor(world, slowId)).toHaveLength(1);
  expect(after.count('notify.notify', (i) => refOf(slowId, i.remediationId))).toBe(1);
  expect(done.decisions.filter((d: any) => d.summary === 'edr-malware.contain started (endpoint.isolate)')).toHaveLength(1);

  // The one that waited for an approval through the restart goes on when approved on the new process.
  expect((await approve(second, waitingId, 'edr-malware.contain', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  await waitFor(second, waitingId, statusIs('remediated'), 'second remediated');
  expect(before.count('ticketing.openTicket', (i) => refOf(waitingId, i.remediationId)) + after.count('ticketing.openTicket', (i) => refOf(waitingId, i.remediationId))).toBe(1);
  expect(world.record.isolateCalls.filter((a) => a === waitingHost)).toHaveLength(1);
  expect(ticketsFor(world, waitingHost)).toHaveLength(1);

  keeper.keep('worker-restart-mid-step', slowId);
  const { failures, histories } = await keeper.check(second);
  expect(failures).toEqual([]);
  // The interrupted attempt is not in the history: each activity was scheduled once, and
  // the containment (retried by the server) completed once.
  const types = eventTypes(histories[0].history);
  expect(types.filter((t) => t === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED').length).toBe(types.filter((t) => t === 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED').length);
  expect(types.filter((t) => t === 'EVENT_TYPE_ACTIVITY_TASK_FAILED')).toHaveLength(0);
  expect(types[types.length - 1]).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
});
