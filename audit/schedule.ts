/**
 * The Temporal Schedule that sweeps for closed runs the archive does not hold yet. Created
 * idempotently at worker start: created when missing, updated when its interval, task
 * queues or lookback differ from the configuration, left alone otherwise.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { DrwConfig } from '../common/config';
import type { SealSweepInput } from '../workflows/seal-sweep';

export const SEAL_SCHEDULE_ID = 'drw-seal-sweep';

/** Task queue of the audit activities. */
export function auditTaskQueue(cfg: Pick<DrwConfig, 'taskQueue'>): string {
  return `${cfg.taskQueue}-audit`;
}

export interface SealScheduleOptions {
  scheduleId?: string;
  /** Task queue of the worker that registers sealSweep (default DRW_TASK_QUEUE). */
  workflowTaskQueue?: string;
}

export async function ensureSealSchedule(client: Client, cfg: DrwConfig, o: SealScheduleOptions = {}): Promise<'created' | 'updated' | 'unchanged'> {
  const scheduleId = o.scheduleId ?? SEAL_SCHEDULE_ID;
  const taskQueue = o.workflowTaskQueue ?? cfg.taskQueue;
  const input: SealSweepInput = { auditTaskQueue: auditTaskQueue(cfg), remediationTaskQueue: cfg.taskQueue, lookbackMs: cfg.audit.sweep.lookbackMs };
  const action = { type: 'startWorkflow' as const, workflowType: 'sealSweep', taskQueue, args: [input], workflowId: `${scheduleId}-run` };
  const spec = { intervals: [{ every: cfg.audit.sweep.everyMs }] };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      memo: { purpose: 'seals closed drw runs into the audit archive' },
    });
    return 'created';
  } catch (e) {
    if (!(e instanceof ScheduleAlreadyRunning)) throw e;
  }
  const handle = client.schedule.getHandle(scheduleId);
  const d = await handle.describe();
  const current = d.action.type === 'startWorkflow' ? d.action : undefined;
  const every = d.spec.intervals?.[0]?.every;
  const same =
    current?.workflowType === 'sealSweep' &&
    current.taskQueue === taskQueue &&
    JSON.stringify(current.args) === JSON.stringify([input]) &&
    d.spec.intervals?.length === 1 &&
    Number(every) === cfg.audit.sweep.everyMs;
  if (same) return 'unchanged';
  await handle.update((prev) => ({ ...prev, spec, action }));
  return 'updated';
}
