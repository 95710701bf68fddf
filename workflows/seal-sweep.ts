/**
 * Sealing closed runs into the audit archive (audit/, activities/audit.ts).
 *
 * - `sealClosedRun`: seals one run. A remediation starts it as an abandoned child just before
 *   it closes (`startSealOnClose`); its activity retries until the parent run has closed.
 * - `sealSweep`: what the Temporal Schedule runs (audit/schedule.ts): finds closed runs the
 *   archive does not hold (closed while drw was down, a child that never started) and seals
 *   them, well before the namespace's retention removes their histories.
 */
import { ParentClosePolicy, proxyActivities, startChild, continueAsNew, workflowInfo, log } from '@temporalio/workflow';
import type { AuditActivities, RunRef, SealResult } from '../activities/audit';

export interface SealClosedRunInput extends RunRef {
  /** Task queue of the audit activities (`<DRW_TASK_QUEUE>-audit`). */
  auditTaskQueue: string;
}

export interface SealSweepInput {
  auditTaskQueue: string;
  /** Only runs of workflows on this task queue (one drw deployment's remediations). */
  remediationTaskQueue?: string;
  /** Runs closed within this many milliseconds before the sweep starts. */
  lookbackMs: number;
  /** Runs sealed per workflow run (then it continues as new). */
  batch?: number;
}

export interface SealSweepResult {
  sealed: number;
  alreadySealed: number;
  failed: { workflowId: string; runId: string; error: string }[];
}

/** The id of the workflow that seals one run: one per run, so starting it twice is harmless. */
export function sealWorkflowId(runId: string): string {
  return `drw-seal-${runId}`;
}

export async function sealClosedRun(input: SealClosedRunInput): Promise<SealResult> {
  const { sealRun } = proxyActivities<AuditActivities>({
    taskQueue: input.auditTaskQueue,
    startToCloseTimeout: '5m',
    heartbeatTimeout: '30s',
    // The parent closes moments after starting this; a run that stays open this long is left to the sweep.
    scheduleToCloseTimeout: '1d',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m', nonRetryableErrorTypes: ['HistoryGone', 'InvalidInput'] },
  });
  return sealRun({ workflowId: input.workflowId, runId: input.runId });
}

/**
 * Called by a workflow right before it completes or continues as new: starts `sealClosedRun`
 * for the current run, abandoned so it outlives its parent.
 */
export async function startSealOnClose(auditTaskQueue: string): Promise<void> {
  const { workflowId, runId } = workflowInfo();
  await startChild(sealClosedRun, {
    workflowId: sealWorkflowId(runId),
    args: [{ workflowId, runId, auditTaskQueue }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
}

export async function sealSweep(input: SealSweepInput): Promise<SealSweepResult> {
  const { findUnsealedRuns } = proxyActivities<AuditActivities>({
    taskQueue: input.auditTaskQueue,
    startToCloseTimeout: '10m',
    heartbeatTimeout: '1m',
    retry: { maximumAttempts: 5 },
  });
  const { sealRun } = proxyActivities<AuditActivities>({
    taskQueue: input.auditTaskQueue,
    startToCloseTimeout: '5m',
    // A run that cannot be sealed now is retried by the next sweep, not held here.
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['HistoryGone', 'InvalidInput', 'RunNotClosed'] },
  });
  const batch = input.batch ?? 100;
  const closedAfter = new Date(Date.now() - input.lookbackMs).toISOString();
  const { runs, more } = await findUnsealedRuns({ closedAfter, limit: batch, ...(input.remediationTaskQueue ? { taskQueue: input.remediationTaskQueue } : {}) });
  const result: SealSweepResult = { sealed: 0, alreadySealed: 0, failed: [] };
  // Ten at a time: the archive serialises appends anyway, and a sweep should not crowd out sealing on close.
  for (let i = 0; i < runs.length; i += 10) {
    const settled = await Promise.allSettled(runs.slice(i, i + 10).map((r) => sealRun(r)));
    settled.forEach((s, j) => {
      if (s.status === 'fulfilled') {
        if (s.value.created) result.sealed++;
        else result.alreadySealed++;
      } else {
        const r = runs[i + j];
        const cause = (s.reason as { cause?: { message?: string } })?.cause?.message ?? String((s.reason as Error)?.message ?? s.reason);
        result.failed.push({ ...r, error: cause });
      }
    });
  }
  if (result.failed.length) log.warn('runs not sealed by this sweep', { failed: result.failed.length });
  if (more && result.sealed > 0) {
    // Fresh history for the next batch; the schedule's next run picks up whatever fails.
    await continueAsNew<typeof sealSweep>(input);
  }
  return result;
}
