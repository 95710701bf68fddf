/**
 * The benchmark's baseline: the cheapest workflow that makes the same number of activity
 * calls as a drw remediation, one after the other, on the same Temporal server in the same
 * run. Bundled on its own (not part of workflows/) and run by its own worker; its
 * activity is `baselineStep` in bench/baseline-activities.ts.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { condition, defineQuery, defineSignal, proxyActivities, setHandler, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { BaselineActivities } from './baseline-activities';

const { baselineStep } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 10, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** A keyword attribute the benchmark's server has (drw's status), for the writes below. */
const STATUS = defineSearchAttributeKey('DrwStatus', SearchAttributeType.KEYWORD);

/**
 * The visibility writes a remediation makes (BENCH_BASELINE_WRITES=1): each search-attribute
 * upsert and each memo write is one more update of the run's visibility record on the server.
 */
export interface BaselineWrites {
  searchAttributes?: number;
  memo?: number;
}

/** Calls `baselineStep` `calls` times in sequence and returns how many answered; with `writes`, that many upserts and memo writes too, one before each call. */
export async function baselineWorkflow(calls: number, writes: BaselineWrites = {}): Promise<number> {
  let n = 0;
  for (let i = 0; i < calls; i++) {
    if (i < (writes.searchAttributes ?? 0)) upsertSearchAttributes([{ key: STATUS, value: `baseline step ${i}` }]);
    if (i < (writes.memo ?? 0)) upsertMemo({ baselineStep: i });
    n += await baselineStep(i);
  }
  return n;
}

/** (b)'s baseline: each signal makes a new version, which the query answers. */
export const baselineBumpSignal = defineSignal<[number]>('baselineBump');
export const baselineVersionQuery = defineQuery<number>('baselineVersion');

/** Waits for signals until it is terminated (the benchmark ends it after (b)). */
export async function baselineAwaitingWorkflow(): Promise<void> {
  let version = 0;
  setHandler(baselineBumpSignal, () => void version++);
  setHandler(baselineVersionQuery, () => version);
  await condition(() => false);
}
