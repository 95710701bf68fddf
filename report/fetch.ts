/**
 * Reads a remediation's history from Temporal: one run, or the whole continue-as-new chain
 * (back through `continuedExecutionRunId`, forward through the new run each continued-as-new
 * event names), as the JSON the Temporal UI downloads.
 */
import { codecOfClient, decodeJsonPayloads, readArchivedHistory, type Archive } from '../audit';
import type { Client } from '@temporalio/client';
import type { DescribedDecision } from '../remediation/events';
import { buildReport, type RemediationReport } from './build';
import { attributesOf, kindOf, runFromJson, str, type RunHistory } from './history';
import { historyToJson } from './history-json';

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

const MAX_RUNS = 1000;

export function isNotFound(e: unknown): boolean {
  const err = e as { code?: number; message?: string; name?: string };
  if (err?.name === 'WorkflowNotFoundError') return true;
  return err?.code === 5 || /not ?found/i.test(err?.message ?? '');
}

/** One run's history (the latest when runId is omitted). */
export async function fetchRun(client: Client, workflowId: string, runId?: string): Promise<RunHistory> {
  let history;
  try {
    history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  } catch (e) {
    if (isNotFound(e)) throw new NotFoundError(`no remediation ${workflowId}${runId ? ` run ${runId}` : ''}`);
    throw e;
  }
  if (!history.events?.length) throw new NotFoundError(`no remediation ${workflowId}${runId ? ` run ${runId}` : ''}`);
  // The SDK's JSON, with protobuf map keys sorted (canonicalText): the digest is over this text.
  // Payloads encrypted by drw's codec are decoded with the client's own codec (none: as they are).
  const run = runFromJson(await decodeJsonPayloads(JSON.parse(historyToJson(history)), codecOfClient(client)), runId);
  return { ...run, workflowId: run.workflowId ?? workflowId };
}

function links(run: RunHistory): { previous?: string; next?: string } {
  const start = run.events.find((e) => kindOf(e) === 'workflowExecutionStarted');
  const last = run.events[run.events.length - 1];
  return {
    previous: start ? str(attributesOf(start).continuedExecutionRunId) : undefined,
    next: last && kindOf(last) === 'workflowExecutionContinuedAsNew' ? str(attributesOf(last).newExecutionRunId) : undefined,
  };
}

/** Every run of the chain the given run (default: the latest) belongs to, oldest first. */
export async function fetchChain(client: Client, workflowId: string, opts: { runId?: string; progress?: (msg: string) => void } = {}): Promise<RunHistory[]> {
  const first = await fetchRun(client, workflowId, opts.runId);
  const runs = [first];
  opts.progress?.(`fetched run ${first.runId} (${first.events.length} events)`);
  let prev = links(first).previous;
  while (prev && runs.length < MAX_RUNS) {
    const r = await fetchRun(client, workflowId, prev);
    runs.unshift(r);
    opts.progress?.(`fetched earlier run ${r.runId} (${r.events.length} events)`);
    prev = links(r).previous;
  }
  let next = links(runs[runs.length - 1]).next;
  while (next && runs.length < MAX_RUNS) {
    const r = await fetchRun(client, workflowId, next);
    runs.push(r);
    opts.progress?.(`fetched later run ${r.runId} (${r.events.length} events)`);
    next = links(r).next;
  }
  return runs;
}

/** The decision log through the `decisions` query, for a remediation still running (undefined if it cannot answer). */
export async function queryDecisions(client: Client, workflowId: string): Promise<DescribedDecision[] | undefined> {
  try {
    // The `decisions` query of signals/index.ts, by name (no workflow SDK needed here).
    return await client.workflow.getHandle(workflowId).query<DescribedDecision[]>('decisions');
  } catch {
    return undefined;
  }
}

/** The chain from Temporal; past its retention (history gone), the runs the sealed archive kept. */
export async function fetchChainOrArchived(
  client: Client,
  workflowId: string,
  opts: { runId?: string; progress?: (msg: string) => void; archive?: Archive } = {},
): Promise<{ runs: RunHistory[]; archived: boolean }> {
  try {
    return { runs: await fetchChain(client, workflowId, opts), archived: false };
  } catch (e) {
    const archived = e instanceof NotFoundError && !opts.runId && opts.archive ? await readArchivedHistory(opts.archive, workflowId) : undefined;
    if (!archived?.length) throw e;
    return { runs: archived, archived: true };
  }
}

/** Fetches the chain, and the decision log by query while it runs, and builds the report. */
export async function reportFromServer(
  client: Client,
  workflowId: string,
  opts: { runId?: string; progress?: (msg: string) => void; archive?: Archive } = {},
): Promise<{ report: RemediationReport; runs: RunHistory[] }> {
  const { runs, archived } = await fetchChainOrArchived(client, workflowId, opts);
  if (archived) return { report: buildReport(runs, { workflowId }), runs };
  const last = runs[runs.length - 1];
  const closed = last.events.some((e) => /^workflowExecution(Completed|Failed|Terminated|Canceled|TimedOut|ContinuedAsNew)$/.test(kindOf(e)));
  const queried = closed ? undefined : await queryDecisions(client, workflowId);
  return { report: buildReport(runs, { queried, workflowId }), runs };
}
