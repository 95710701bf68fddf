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
import * as proto from '@temporalio/proto';
import { temporal } from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { Worker, type ReplayResult, type ReplayWorkerOptions } from '@temporalio/worker';
import { ROOT, type Harness } from './harness';

export const HISTORY_DIR = path.join(ROOT, 'test', 'histories');
export const RECORDING = process.env.DRW_RECORD_HISTORIES === '1';

type History = temporal.api.history.v1.IHistory;

/*
 * Proto JSON through the protobufjs copy that @temporalio/proto is built on. The SDK's own
 * historyToJSON/historyFromJSON (@temporalio/common/lib/proto-utils) fail with "type must be a
 * Type" when npm installs protobufjs twice (under @temporalio/common and @temporalio/proto, as
 * this lockfile does), because the History type and the JSON codec then come from different copies.
 */
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): History | null;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson: ProtoJson = require(require.resolve('protobufjs/ext/protojson', { paths: [path.dirname(require.resolve('@temporalio/proto'))] }));
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

/** The standard proto JSON of a history (what `temporal workflow show --output json` writes). */
export function historyToJSON(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, temporal.api.history.v1.History.fromObject(history as Record<string, unknown>)), null, 2);
}

/** Reads proto JSON history; also accepts the PascalCase event types older tools wrote. */
export function historyFromJSON(json: unknown): History {
  const h = json as { events?: Record<string, unknown>[] };
  if (!h || !Array.isArray(h.events)) throw new TypeError('not a history: expected an object with an array of events');
  const events = h.events.map((e) => {
    const t = e.eventType;
    if (typeof t !== 'string' || t.startsWith('EVENT_TYPE_')) return e;
    return { ...e, eventType: `EVENT_TYPE_${t.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}` };
  });
  const history = protojson.fromJson(historyType, { ...h, events }, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('invalid history');
  return history;
}

export interface NamedHistory {
  name: string;
  history: History;
}

/** The workflow code to replay against: the bundle the test setup built, or the sources. */
export function replayWorkerOptions(): ReplayWorkerOptions {
  const bundle = process.env.DRW_TEST_WORKFLOW_BUNDLE;
  return {
    ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('../../workflows') }),
    replayName: 'drw-replay',
  };
}

/** Replays every history; answers one result per history, in order (error set on failure). */
export async function replay(histories: NamedHistory[]): Promise<{ name: string; result: ReplayResult }[]> {
  const out: { name: string; result: ReplayResult }[] = [];
  const results = Worker.runReplayHistories(
    replayWorkerOptions(),
    histories.map((h) => ({ workflowId: h.name, history: h.history })),
  );
  for await (const result of results) out.push({ name: result.workflowId, result });
  return out;
}

export function historyFiles(dir = HISTORY_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

export function readHistory(file: string): NamedHistory {
  return { name: path.basename(file, '.json'), history: historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))) };
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

  async fetch(h: Harness): Promise<NamedHistory[]> {
    const out: NamedHistory[] = [];
    for (const k of this.kept) {
      const handle = h.app.service.handle(k.workflowId);
      const history = k.runId ? await handle.client.getHandle(k.workflowId, k.runId).fetchHistory() : await handle.fetchHistory();
      out.push({ name: k.name, history });
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
