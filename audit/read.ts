/**
 * Readers' fallback once Temporal's retention has removed a remediation's history: its runs
 * from the sealed archive, in the same RunHistory form report/fetch.ts returns, so
 * buildReport, what-if and aggregates work on them unchanged.
 */
import { attributesOf, kindOf, runFromJson, str, type RunHistory } from '../report/history';
import type { Archive } from './archive';
import { RecordError } from './record';

function continuedFrom(run: RunHistory): string | undefined {
  const start = run.events.find((e) => kindOf(e) === 'workflowExecutionStarted');
  return start ? str(attributesOf(start).continuedExecutionRunId) : undefined;
}

/** Orders the runs of a continue-as-new chain, oldest first (by their links, then by start time). */
function chainOrder(runs: RunHistory[]): RunHistory[] {
  const byPrev = new Map(runs.map((r) => [continuedFrom(r), r]));
  const ids = new Set(runs.map((r) => r.runId));
  const firsts = runs.filter((r) => !continuedFrom(r) || !ids.has(continuedFrom(r)!));
  const ordered: RunHistory[] = [];
  for (const first of firsts) {
    for (let r: RunHistory | undefined = first; r && !ordered.includes(r); r = byPrev.get(r.runId)) ordered.push(r);
  }
  return ordered.length === runs.length ? ordered : [...runs].sort((a, b) => String(a.events[0]?.eventTime).localeCompare(String(b.events[0]?.eventTime)));
}

/** Every archived run of the remediation, oldest first, digest-checked; undefined when none is archived. */
export async function readArchivedHistory(archive: Archive, remediationId: string): Promise<RunHistory[] | undefined> {
  const stored = await archive.runsOf(remediationId);
  if (stored.length === 0) return undefined;
  const runs = stored.map((s) => {
    const run = runFromJson(s.record.history, s.record.runId);
    if (run.sha256 !== s.record.metadata.historySha256) throw new RecordError(`${s.key}: the archived history of run ${run.runId} does not match its digest`);
    return { ...run, workflowId: remediationId };
  });
  return chainOrder(runs);
}
