/**
 * Workflow histories recorded from the scenario tests, kept in test/histories/*.json and
 * replayed by test/replay/replay.test.ts with Worker.runReplayHistories, so a workflow change
 * that would break running remediations (nondeterminism) fails CI.
 *
 * Each scenario file keeps the remediations it wants recorded (`keeper.keep(name, id)`) and
 * ends with `keeper.check(h)`: it fetches every kept history from the server, replays it
 * against the current workflow code at once (live check), and only when
 * DRW_RECORD_HISTORIES=1 (re)writes test/histories/<name>.json. So a normal `npm test` never
 * touches the committed files; re-record with
 *   DRW_RECORD_HISTORIES=1 npx jest test/e2e
 * after an intended, compatible change, and review the diff.
 *
 * File format: the standard JSON form of a temporal.api.history.v1.History (historyToJSON,
 * the same as `temporal workflow show --output json`), pretty-printed.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { remediationId } from '../../domain/ids';
import { historyFromJson, historyToJson } from '../../report/history-json';
import { Worker, type ReplayResult, type ReplayWorkerOptions } from '@temporalio/worker';
import { ROOT, type Harness } from './harness';
import { workflowSourceOptions } from '../../workers/workflow-bundle';
import { CompressionCodec } from '../../audit/compression';
import { decodingOnly } from '../../common/temporal';
import { decodeJsonPayloads } from '../../audit/payload-json';

export const HISTORY_DIR = path.join(ROOT, 'test', 'histories');
export const RECORDING = process.env.DRW_RECORD_HISTORIES === '1';

type History = temporal.api.history.v1.IHistory;

/** The same JSON codec as `drw history export` (it works around a duplicated protobufjs install). */
export function historyToJSON(history: History): string {
  return historyToJson(history as Parameters<typeof historyToJson>[0]);
}

export function historyFromJSON(json: unknown): History {
  return historyFromJson(json) as History;
}

export interface NamedHistory {
  name: string;
  history: History;
}

/** The workflow code to replay against: the bundle the test setup built, or the sources. */
export function replayWorkerOptions(): ReplayWorkerOptions {
  const bundle = process.env.DRW_TEST_WORKFLOW_BUNDLE;
  return {
    ...(bundle ? { workflowBundle: { codePath: bundle } } : workflowSourceOptions()),
    // As drw's workers read them (common/temporal.ts): compressed payloads too; decoding only, as every replay.
    dataConverter: decodingOnly({ payloadCodecs: [new CompressionCodec()] }),
    replayName: 'drw-replay',
  };
}

/**
 * A remediation's workflow id, from its input's deduplication key (as the API names it): signed
 * approvals are bound to it, so a replay under another id would refuse them.
 */
export function workflowIdOf(history: History): string | undefined {
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  if (!payload) return undefined;
  try {
    const input = JSON.parse(Buffer.from(payload).toString('utf8')) as { dedupeKey?: unknown; carried?: { id?: unknown } };
    if (typeof input.carried?.id === 'string') return input.carried.id;
    return typeof input.dedupeKey === 'string' ? remediationId(input.dedupeKey) : undefined;
  } catch {
    return undefined;
  }
}

/** Replays every history; answers one result per history, in order (error set on failure). */
export async function replay(histories: NamedHistory[]): Promise<{ name: string; result: ReplayResult }[]> {
  const out: { name: string; result: ReplayResult }[] = [];
  const results = Worker.runReplayHistories(
    replayWorkerOptions(),
    histories.map((h) => ({ workflowId: workflowIdOf(h.history) ?? h.name, history: h.history })),
  );
  // In input order (the ids passed are the workflows' own, not the names).
  let i = 0;
  for await (const result of results) out.push({ name: histories[i++]?.name ?? result.workflowId, result });
  return out;
}

/**
 * The recorded histories: test/histories/*.json are from the current workflow code; each
 * subfolder keeps an earlier generation (recorded before a `patched()` change), so the
 * unpatched branches keep being replayed after the current histories are re-recorded.
 */
export function historyFiles(dir = HISTORY_DIR): string[] {
  try {
    const entries = readdirSync(dir, { withFileTypes: true });
    const here = entries.filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => path.join(dir, e.name));
    const generations = entries.filter((e) => e.isDirectory()).flatMap((e) => historyFiles(path.join(dir, e.name)));
    return [...here.sort(), ...generations.sort()];
  } catch {
    return [];
  }
}

/** Named by its path under test/histories, without .json ("sla-breach-escalation", "1-before-publish-once/pause-resume"). */
export function readHistory(file: string): NamedHistory {
  const name = path.relative(HISTORY_DIR, file).replace(/\.json$/, '').split(path.sep).join('/');
  return { name, history: historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))) };
}

export function writeHistory(name: string, history: History, dir = HISTORY_DIR): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, `${historyToJSON(history)}\n`);
  return file;
}

/** Event type names (EVENT_TYPE_...), whether the history came from the server or from JSON. */
export function eventTypes(history: History): string[] {
  const names = temporal.api.enums.v1.EventType as unknown as Record<number, string>;
  return (history.events ?? []).map((e) => (typeof e.eventType === 'number' ? names[e.eventType] : String(e.eventType)));
}

/** Collects the scenarios a test file wants recorded; `check` fetches, replays and (maybe) writes them. */
export class HistoryKeeper {
  private readonly kept: { name: string; workflowId: string; runId?: string }[] = [];

  /** Keep the history of a remediation (the latest run, or the given run id). */
  keep(name: string, workflowId: string, runId?: string): void {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`history name "${name}": lower-case letters, digits and -`);
    if (this.kept.some((k) => k.name === name)) throw new Error(`history "${name}" kept twice`);
    this.kept.push({ name, workflowId, runId });
  }

  get size(): number {
    return this.kept.length;
  }

  /** The kept histories with their payloads decompressed, as `drw history export` writes them: readable, and what the files hold. */
  async fetch(h: Harness): Promise<NamedHistory[]> {
    const out: NamedHistory[] = [];
    for (const k of this.kept) {
      const handle = h.app.service.handle(k.workflowId);
      const history = k.runId ? await handle.client.getHandle(k.workflowId, k.runId).fetchHistory() : await handle.fetchHistory();
      out.push({ name: k.name, history: historyFromJSON(await decodeJsonPayloads(JSON.parse(historyToJSON(history)), new CompressionCodec())) });
    }
    return out;
  }

  /**
   * Fetches every kept history, replays it (after a round trip through the JSON file format)
   * against the current workflow code and returns
   * the failures (empty when all replay); writes the files when DRW_RECORD_HISTORIES=1.
   */
  async check(h: Harness): Promise<{ histories: NamedHistory[]; failures: string[]; written: string[] }> {
    const histories = await this.fetch(h);
    // Replayed through the file format, so what is written is known to replay.
    const results = await replay(histories.map((x) => ({ name: x.name, history: historyFromJSON(JSON.parse(historyToJSON(x.history))) })));
    const failures = results.filter((r) => r.result.error).map((r) => `${r.name}: ${r.result.error!.message}`);
    if (results.length !== histories.length) failures.push(`replayed ${results.length} of ${histories.length} histories`);
    const written = RECORDING && failures.length === 0 ? histories.map((x) => writeHistory(x.name, x.history)) : [];
    return { histories, failures, written };
  }
}
