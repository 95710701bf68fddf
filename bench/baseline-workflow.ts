/**
 * The benchmark's baseline: the cheapest workflow that makes the same number of activity
 * calls as a drw remediation, one after the other, on the same Temporal server in the same
 * run. Bundled on its own (not part of workflows/) and run by its own worker; its
 * activity is `baselineStep` in bench/baseline-activities.ts.
 */
import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { BaselineActivities } from './baseline-activities';

const { baselineStep } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 10, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Calls `baselineStep` `calls` times in sequence and returns how many answered. */
export async function baselineWorkflow(calls: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < calls; i++) n += await baselineStep(i);
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
