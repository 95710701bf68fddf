/**
 * Reading a remediation's Temporal history in its JSON form (what `drw history export`
 * writes and the Temporal UI downloads): events, payloads, times, failures. Everything in
 * report/ works on this form, so a report built from a file and one built from the server
 * are the same report, with the same digest.
 */
import { sha256 } from './history-json';

/** One history event as proto3 JSON: `eventId`, `eventTime`, `eventType` and one `*EventAttributes`. */
export type HistoryEventJson = { eventId: string; eventTime?: string; eventType?: string; userMetadata?: { summary?: JsonPayload; details?: JsonPayload } } & Record<string, unknown>;
export interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}
export interface HistoryJson {
  events: HistoryEventJson[];
}

/** One run of a workflow execution: its history JSON text (canonical), digest and events. */
export interface RunHistory {
  runId: string;
  workflowId?: string;
  /** The history JSON, 2-space indented as historyToJSON writes it; the digest is over this text. */
  text: string;
  sha256: string;
  events: HistoryEventJson[];
}

/** Several runs of one workflow id linked by continue-as-new, oldest first. */
export interface HistoryChainFile {
  drwHistoryChain: 1;
  workflowId: string;
  runs: { runId: string; history: HistoryJson }[];
}

export class HistoryFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistoryFormatError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Protobuf maps (payload metadata, search attributes, headers, memo) have no order, and the
 * server serializes them in a different order on each read; their keys are sorted so the
 * same history always has the same text and digest.
 */
const MAP_FIELDS = new Set(['metadata', 'indexedFields', 'fields', 'nexusHeader']);

export function canonicalize(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => canonicalize(v));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (key !== undefined && MAP_FIELDS.has(key)) keys.sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = canonicalize(value[k], k);
  return out;
}

/** Canonical text of a history JSON value: historyToJSON's layout (2-space indent), map keys sorted. */
export function canonicalText(value: unknown): string {
  return JSON.stringify(canonicalize(value), null, 2);
}

/** A run from its parsed history JSON. The run id comes from the start event when not given. */
export function runFromJson(history: unknown, runId?: string): RunHistory {
  if (!isObject(history) || !Array.isArray(history.events)) throw new HistoryFormatError('not a Temporal history: expected an object with an "events" array');
  const events = history.events as HistoryEventJson[];
  if (events.length === 0) throw new HistoryFormatError('the history has no events');
  for (const e of events) {
    if (!isObject(e) || !attributesKey(e)) throw new HistoryFormatError(`history event ${(e as { eventId?: unknown })?.eventId ?? '?'} has no *EventAttributes`);
  }
  const text = canonicalText(history);
  const start = startAttributes(events);
  const id = runId ?? str(start?.originalExecutionRunId) ?? str(start?.firstExecutionRunId) ?? 'unknown-run';
  return { runId: id, workflowId: str(start?.workflowId), text, sha256: sha256(text), events };
}

/** Reads a history file's text: one run (a Temporal history JSON) or a drw chain of runs. */
export function runsFromText(text: string): { runs: RunHistory[]; chain: boolean; sha256: string } {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new HistoryFormatError(`not JSON: ${(e as Error).message}`);
  }
  if (isObject(value) && value.drwHistoryChain === 1 && Array.isArray(value.runs)) {
    const runs = (value.runs as { runId?: string; history?: unknown }[]).map((r) => runFromJson(r.history, r.runId));
    if (runs.length === 0) throw new HistoryFormatError('the history chain has no runs');
    return { runs, chain: true, sha256: sha256(canonicalText(value)) };
  }
  const run = runFromJson(value);
  return { runs: [run], chain: false, sha256: run.sha256 };
}

/** The text `drw history export --chain` writes, and its digest. */
export function chainText(workflowId: string, runs: RunHistory[]): string {
  const file: HistoryChainFile = { drwHistoryChain: 1, workflowId, runs: runs.map((r) => ({ runId: r.runId, history: JSON.parse(r.text) as HistoryJson })) };
  return canonicalText(file);
}

/** The digest a report carries: the run's own for one run, the chain file's for several. */
export function historyDigest(workflowId: string, runs: RunHistory[]): string {
  return runs.length === 1 ? runs[0].sha256 : sha256(chainText(workflowId, runs));
}

// ---- events ----

export function attributesKey(e: Record<string, unknown>): string | undefined {
  return Object.keys(e).find((k) => k.endsWith('EventAttributes'));
}

/** "workflowExecutionSignaled", "activityTaskCompleted", ... (the attributes key without the suffix). */
export function kindOf(e: HistoryEventJson): string {
  const k = attributesKey(e);
  return k ? k.slice(0, -'EventAttributes'.length) : 'unknown';
}

export function attributesOf(e: HistoryEventJson): Record<string, any> {
  const k = attributesKey(e);
  return (k ? (e[k] as Record<string, any>) : undefined) ?? {};
}

export function eventIdOf(e: HistoryEventJson): number {
  return Number(e.eventId);
}

export function eventTimeMs(e: HistoryEventJson): number | undefined {
  if (!e.eventTime) return undefined;
  const t = Date.parse(e.eventTime);
  return Number.isFinite(t) ? t : undefined;
}

export function eventTimeIso(e: HistoryEventJson): string | undefined {
  const t = eventTimeMs(e);
  return t === undefined ? undefined : new Date(t).toISOString();
}

function startAttributes(events: HistoryEventJson[]): Record<string, any> | undefined {
  const first = events.find((e) => kindOf(e) === 'workflowExecutionStarted');
  return first ? attributesOf(first) : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function b64(s: string | null | undefined): Buffer {
  return Buffer.from(s ?? '', 'base64');
}

/** A payload's value: JSON payloads decoded, null payloads undefined, anything else described. */
export function decodePayload(p: JsonPayload | undefined | null): unknown {
  if (!p) return undefined;
  const encoding = b64(p.metadata?.encoding).toString('utf8');
  if (encoding === 'binary/null') return undefined;
  if (encoding === 'json/plain' || encoding === 'json/protobuf') {
    try {
      return JSON.parse(b64(p.data).toString('utf8'));
    } catch {
      return { encoding, note: 'invalid JSON payload' };
    }
  }
  if (encoding === 'binary/plain') return { encoding, base64: p.data ?? '' };
  return { encoding: encoding || '(none)', note: 'payload not readable without its codec' };
}

export function firstPayload(payloads: { payloads?: JsonPayload[] } | undefined | null): unknown {
  return decodePayload(payloads?.payloads?.[0]);
}

export function summaryOf(e: HistoryEventJson): string | undefined {
  const s = decodePayload(e.userMetadata?.summary);
  return typeof s === 'string' ? s : undefined;
}

/** "3.474s" (proto3 JSON Duration) → milliseconds. */
export function durationMs(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(v);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

/** The innermost failure message (ActivityFailure wraps the ApplicationFailure with the vendor's words). */
export function failureMessage(f: unknown): { message: string; type?: string; nonRetryable?: boolean } {
  let cur = f as Record<string, any> | undefined;
  let type: string | undefined;
  let nonRetryable: boolean | undefined;
  let message = '';
  while (cur && typeof cur === 'object') {
    if (cur.message) message = String(cur.message);
    if (cur.applicationFailureInfo) {
      type = cur.applicationFailureInfo.type ?? type;
      nonRetryable = cur.applicationFailureInfo.nonRetryable ?? nonRetryable;
    }
    if (cur.timeoutFailureInfo) type = `timeout:${cur.timeoutFailureInfo.timeoutType ?? ''}`;
    cur = cur.cause;
  }
  return { message: message.slice(0, 500), ...(type ? { type } : {}), ...(nonRetryable !== undefined ? { nonRetryable } : {}) };
}

/** Search attributes as plain values (Keyword/Double/Bool/Datetime), by name. */
export function searchAttributeValues(indexed: Record<string, JsonPayload> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(indexed ?? {})) {
    const v = decodePayload(p);
    out[k] = Array.isArray(v) && v.length === 1 ? v[0] : v;
  }
  return out;
}
