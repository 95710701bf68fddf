/**
 * Replays every history recorded from the scenario tests (test/histories/*.json) against
 * the current workflow code with Worker.runReplayHistories. A change to workflows/ that
 * would make running remediations nondeterministic (different commands, in a different
 * order, for the same history) fails here.
 *
 * The histories are recorded by the scenario tests themselves:
 *   DRW_RECORD_HISTORIES=1 npx jest test/e2e
 * Re-record only for an intended change, and only once every workflow started by the old
 * code has closed (or the change is behind `patched()`); review the diff like code.
 */
import { eventTypes, historyFiles, readHistory, replay, type NamedHistory } from '../helpers/histories';

const files = historyFiles();
const histories: NamedHistory[] = files.map(readHistory);

test('the recorded histories are there and cover the representative scenarios', () => {
  expect(files.length).toBeGreaterThanOrEqual(6);
  const types = histories.map((h) => ({ name: h.name, types: eventTypes(h.history) }));
  for (const h of types) {
    expect([h.name, h.types[0]]).toEqual([h.name, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED']);
    expect([h.name, h.types.length > 10]).toEqual([h.name, true]);
  }
  const any = (t: string) => types.filter((h) => h.types.includes(t)).map((h) => h.name);
  // continue-as-new, an accepted approval update, signals, a failed-over activity retry, completion.
  expect(any('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(1);
  expect(any('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED').length).toBeGreaterThanOrEqual(1);
  expect(any('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED').length).toBeGreaterThanOrEqual(1);
  expect(any('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED').length).toBeGreaterThanOrEqual(4);
});

test('every recorded history replays deterministically against the current workflow code', async () => {
  const results = await replay(histories);
  expect(results.map((r) => r.name)).toEqual(histories.map((h) => h.name));
  const failures = results.filter((r) => r.result.error).map((r) => `${r.name}: ${r.result.error!.name}: ${r.result.error!.message}`);
  expect(failures).toEqual([]);
});
