/**
 * Eager workflow start: an API whose process runs the workflow worker starts remediations on that
 * worker directly (the server writes the first workflow task as started in the start's own
 * transaction and hands it back in the answer); an API alone starts them through the server's
 * queue, where the worker's poll picks the task up. Both finish the same way.
 */
import { temporal } from '@temporalio/proto';
import { DEFAULT_POLICY, malwareDetection, startHarness, type Harness } from '../helpers/harness';
import { asset, submit, waitFor } from '../helpers/scenario';

const EventType = temporal.api.enums.v1.EventType;
let h: Harness;
let apiAlone: Harness;

beforeAll(async () => {
  h = await startHarness({ policyDir: DEFAULT_POLICY });
  apiAlone = await startHarness({ policyDir: DEFAULT_POLICY, workers: false, taskQueue: h.cfg.taskQueue });
});

afterAll(async () => {
  await apiAlone?.close();
  await h?.close();
});

/** How the first workflow task of a remediation reached a worker, as its history shows it. */
async function firstTask(id: string): Promise<{ gapMs: number; historySizeBytes: number; pollerBuildId?: string }> {
  const events = (await h.app.service.handle(id).fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)!;
  const started = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)!;
  const ms = (e: temporal.api.history.v1.IHistoryEvent) => Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;
  const a = started.workflowTaskStartedEventAttributes!;
  // A task dispatched through matching carries the history size and the polling worker's version; an eager one neither.
  return { gapMs: ms(started) - ms(scheduled), historySizeBytes: Number(a.historySizeBytes ?? 0), ...(a.workerVersion?.buildId ? { pollerBuildId: a.workerVersion.buildId } : {}) };
}

test('an API with the workflow worker in its process starts remediations eagerly; an API alone through the queue; both remediate', async () => {
  const eager = await submit(h, malwareDetection(asset('eager-start'), 95));
  const queued = await submit(apiAlone, malwareDetection(asset('queued-start'), 95));
  await waitFor(h, eager, (s) => s.status === 'remediated', 'the eager start remediated');
  await waitFor(h, queued, (s) => s.status === 'remediated', 'the queued start remediated');
  const [e, q] = [await firstTask(eager), await firstTask(queued)];
  expect({ historySizeBytes: e.historySizeBytes, pollerBuildId: e.pollerBuildId, sameTransaction: e.gapMs < 1 }).toEqual({ historySizeBytes: 0, pollerBuildId: undefined, sameTransaction: true });
  expect(q.historySizeBytes).toBeGreaterThan(0);
  expect(q.pollerBuildId).toMatch(/^drw@/);
});
