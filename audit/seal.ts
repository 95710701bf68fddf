/**
 * Builds a run's sealed record from Temporal: its history (payloads decoded with the codec,
 * so the archive holds what the run saw), the audit report report/build.ts builds from that
 * one run, and the metadata an auditor searches by.
 */
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { buildReport } from '../report/build';
import { historyToJson } from '../report/history-json';
import { runFromJson, type HistoryJson, type RunHistory } from '../report/history';
import { isNotFound, NotFoundError } from '../report/fetch';
import type { RecordDraft } from './archive';
import { codecOfClient, decodeJsonPayloads } from './payload-json';

export class RunOpenError extends Error {
  constructor(readonly workflowId: string, readonly runId: string, status: string) {
    super(`run ${runId} of ${workflowId} is ${status.toLowerCase()}, not closed yet`);
    this.name = 'RunOpenError';
  }
}

/** temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING */
const WORKFLOW_EXECUTION_STATUS_RUNNING = 1;

/** One run's history as drw reads it, with encrypted payloads decoded (by `codec`, else the client's own codecs; NotFoundError when gone). */
export async function fetchDecodedRun(client: Client, codec: PayloadCodec | undefined, workflowId: string, runId: string): Promise<RunHistory> {
  let history;
  try {
    history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  } catch (e) {
    if (isNotFound(e)) throw new NotFoundError(`no run ${runId} of ${workflowId} in Temporal`);
    throw e;
  }
  if (!history.events?.length) throw new NotFoundError(`no run ${runId} of ${workflowId} in Temporal`);
  const json = await decodeJsonPayloads(JSON.parse(historyToJson(history)) as HistoryJson, codec ?? codecOfClient(client));
  return { ...runFromJson(json, runId), workflowId };
}

/** The record of a closed run (RunOpenError while it runs, NotFoundError when its history is gone). */
export async function draftRecord(client: Client, codec: PayloadCodec | undefined, workflowId: string, runId: string, now = new Date()): Promise<RecordDraft> {
  let running: boolean;
  try {
    // The raw answer: describe() would decode the memo, which may be encrypted with keys this client lacks.
    const raw = await client.workflowService.describeWorkflowExecution({ namespace: client.options.namespace, execution: { workflowId, runId } });
    running = raw.workflowExecutionInfo?.status === WORKFLOW_EXECUTION_STATUS_RUNNING;
  } catch (e) {
    if (isNotFound(e)) throw new NotFoundError(`no run ${runId} of ${workflowId} in Temporal`);
    throw e;
  }
  if (running) throw new RunOpenError(workflowId, runId, 'RUNNING');
  return draftFromRun(workflowId, await fetchDecodedRun(client, codec, workflowId, runId), now);
}

/** The record of one run's history (payloads already decoded). */
export function draftFromRun(workflowId: string, run: RunHistory, now = new Date()): RecordDraft {
  const report = buildReport([run], { workflowId, now });
  const o = report.outcome;
  const first = report.history.runs[0];
  return {
    workflowId,
    runId: run.runId,
    metadata: {
      remediationId: workflowId,
      runId: run.runId,
      ...(o.playbook ? { playbook: o.playbook } : {}),
      ...(o.policyVersion ? { policyVersion: o.policyVersion } : {}),
      outcome: { workflow: o.workflow, ...(o.status ? { status: o.status } : {}), ...(o.resolution ? { resolution: o.resolution } : {}) },
      ...(first?.startedAt ? { startedAt: first.startedAt } : {}),
      ...(first?.closedAt ? { closedAt: first.closedAt } : {}),
      historySha256: run.sha256,
      events: run.events.length,
      ...(first?.continuedFrom ? { continuedFrom: first.continuedFrom } : {}),
    },
    history: JSON.parse(run.text) as HistoryJson,
    report,
  };
}
