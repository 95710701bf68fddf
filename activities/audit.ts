/**
 * The audit activities, on their own task queue (`<DRW_TASK_QUEUE>-audit`): sealing one
 * closed run into the archive, and finding closed runs the archive does not have yet. The
 * idempotency key is workflow id + run id: the archive writes each run once however many
 * times, from however many workers, the activity runs (audit/archive.ts).
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure, type PayloadCodec } from '@temporalio/common';
import { heartbeat } from '@temporalio/activity';
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
}

const runRef = z.object({ workflowId: z.string().min(1).max(1000), runId: z.string().uuid() });
const findInput = z.object({ closedAfter: z.iso.datetime(), limit: z.number().int().min(1).max(1000) });

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
    /** Seals one run; retries (RunNotClosed) until the run has closed. */
    async sealRun(input: RunRef): Promise<SealResult> {
      const { workflowId, runId } = parse(runRef, input, 'sealRun');
      const known = await deps.archive.find(workflowId, runId);
      if (known) return { ...known, created: false };
      let draft;
      try {
        draft = await draftRecord(deps.client, deps.codec, workflowId, runId);
      } catch (e) {
        if (e instanceof RunOpenError) throw ApplicationFailure.retryable(e.message, 'RunNotClosed');
        if (e instanceof NotFoundError) throw ApplicationFailure.nonRetryable(`${e.message}: its history is gone before it was sealed`, 'HistoryGone');
        throw e;
      }
      return deps.archive.append(draft);
    },

    /** Closed runs since `closedAfter` that the archive does not hold, at most `limit` (`more`: there are others). */
    async findUnsealedRuns(input: { closedAfter: string; limit: number }): Promise<{ runs: RunRef[]; more: boolean }> {
      const { closedAfter, limit } = parse(findInput, input, 'findUnsealedRuns');
      const query = `WorkflowType = '${type}' AND ExecutionStatus != 'Running' AND CloseTime > '${closedAfter}'`;
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
