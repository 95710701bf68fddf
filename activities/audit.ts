/**
 * The audit activities, on their own task queue (`<DRW_TASK_QUEUE>-audit`): sealing one
 * closed run into the archive, and finding closed runs the archive does not have yet. The
 * idempotency key is workflow id + run id: the archive writes each run once however many
 * times, from however many workers, the activity runs (audit/archive.ts).
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure, type PayloadCodec } from '@temporalio/common';
import { heartbeat, sleep } from '@temporalio/activity';
import { z } from 'zod';
import type { Archive } from '../audit/archive';
import { draftRecord, RunOpenError } from '../audit/seal';
import { NotFoundError } from '../report/fetch';

export interface AuditDeps {
  client: Client;
  archive: Archive;
  codec?: PayloadCodec;
  /** Workflow type whose runs are sealed. */
  workflowType?: string;
  /** How long one sealRun attempt waits, heartbeating, for an open run to close before failing retryably (60 s). */
  waitForCloseMs?: number;
}

const runRef = z.object({ workflowId: z.string().min(1).max(1000), runId: z.string().uuid() });
const findInput = z.object({
  closedAfter: z.iso.datetime(),
  limit: z.number().int().min(1).max(1000),
  // Goes into a visibility query: a plain task queue name only.
  taskQueue: z.string().regex(/^[\w.:/-]{1,200}$/, 'a task queue name (letters, digits, . _ : / -)').optional(),
});

export type RunRef = z.infer<typeof runRef>;
export interface SealResult {
  seq: number;
  digest: string;
  created: boolean;
}

function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw ApplicationFailure.nonRetryable(`${what}: ${i.path.join('.') || 'input'}: ${i.message}`, 'InvalidInput');
  }
  return r.data;
}

export function createAuditActivities(deps: AuditDeps) {
  const type = deps.workflowType ?? 'remediation';
  return {
    /**
     * Seals one run. While the run is open (a closing remediation starts this moments before
     * its last event) it waits, heartbeating, then fails with RunNotClosed for Temporal to retry.
     */
    async sealRun(input: RunRef): Promise<SealResult> {
      const { workflowId, runId } = parse(runRef, input, 'sealRun');
      const known = await deps.archive.find(workflowId, runId);
      if (known) return { ...known, created: false };
      const giveUp = Date.now() + (deps.waitForCloseMs ?? 60_000);
      for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
        try {
          return await deps.archive.append(await draftRecord(deps.client, deps.codec, workflowId, runId));
        } catch (e) {
          if (e instanceof NotFoundError) throw ApplicationFailure.nonRetryable(`${e.message}: its history is gone before it was sealed`, 'HistoryGone');
          if (!(e instanceof RunOpenError)) throw e;
          if (Date.now() >= giveUp) throw ApplicationFailure.retryable(e.message, 'RunNotClosed');
          heartbeat({ waitingFor: runId });
          await sleep(wait);
        }
      }
    },

    /** Closed runs since `closedAfter` (of the remediations on `taskQueue`) that the archive does not hold, at most `limit` (`more`: there are others). */
    async findUnsealedRuns(input: { closedAfter: string; limit: number; taskQueue?: string }): Promise<{ runs: RunRef[]; more: boolean }> {
      const { closedAfter, limit, taskQueue } = parse(findInput, input, 'findUnsealedRuns');
      const query = `WorkflowType = '${type}' AND ExecutionStatus != 'Running' AND CloseTime > '${closedAfter}'${taskQueue ? ` AND TaskQueue = '${taskQueue}'` : ''}`;
      const runs: RunRef[] = [];
      let seen = 0;
      for await (const wf of deps.client.workflow.list({ query })) {
        if (++seen % 100 === 0) heartbeat(seen);
        if (await deps.archive.find(wf.workflowId, wf.runId)) continue;
        if (runs.length === limit) return { runs, more: true };
        runs.push({ workflowId: wf.workflowId, runId: wf.runId });
      }
      return { runs, more: false };
    },
  };
}

export type AuditActivities = ReturnType<typeof createAuditActivities>;
