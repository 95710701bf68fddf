import { proxyActivities } from '@temporalio/workflow';
import type { RunbookInput, RunbookResult } from '../../activities/interfaces';

/** One runbook step as the remediation workflow runs it: an activity with a heartbeat timeout and Temporal's retries. */
export async function runRunbookStep(input: RunbookInput): Promise<RunbookResult> {
  const { runRunbook } = proxyActivities<{ runRunbook(i: RunbookInput): Promise<RunbookResult> }>({
    startToCloseTimeout: '2s',
    heartbeatTimeout: '1s',
    retry: { initialInterval: '50ms', backoffCoefficient: 1, maximumAttempts: 40 },
  });
  return runRunbook(input);
}
