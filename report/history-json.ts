/**
 * History <-> JSON as the Temporal UI and CLI download it (proto3 JSON: base64 payloads,
 * RFC 3339 times, EVENT_TYPE_* enums), through the SDK's own conversion, so
 * `historyFromJSON` / `Worker.runReplayHistory` read back what `drw history export` writes.
 *
 * The SDK's helpers fail with "type must be a Type" when npm installs two copies of
 * protobufjs (one under @temporalio/common, one under @temporalio/proto): the proto JSON
 * module of one copy does not recognise the types of the other. The fallback does exactly
 * what the SDK does, with the protobufjs copy that @temporalio/proto itself uses.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { historyFromJSON as sdkFromJSON, historyToJSON as sdkToJSON, type History } from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

export type { History };

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

let fallback: { json: ProtoJson; historyType: unknown } | undefined;
function protoJson(): { json: ProtoJson; historyType: unknown } {
  if (fallback) return fallback;
  const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const json = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
  const root = patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown };
  fallback = { json, historyType: root.lookupType('temporal.api.history.v1.History') };
  return fallback;
}

function isDuplicateProtobuf(e: unknown): boolean {
  return e instanceof TypeError && /must be a Type/.test(e.message);
}

/** The JSON text of one run's history, byte for byte what `drw history export` writes. */
export function historyToJson(history: History): string {
  try {
    return sdkToJSON(history);
  } catch (e) {
    if (!isDuplicateProtobuf(e)) throw e;
    const { json, historyType } = protoJson();
    return JSON.stringify(json.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
  }
}

/** Reads a history JSON (object or text) back into a History for the replayer. */
export function historyFromJson(history: unknown): History {
  const value = typeof history === 'string' ? (JSON.parse(history) as unknown) : history;
  try {
    return sdkFromJSON(value);
  } catch (e) {
    if (!isDuplicateProtobuf(e)) throw e;
    // Same normalisation as the SDK (PascalCase enum names from older exports), then parse.
    const { json, historyType } = protoJson();
    const fixed = fixLegacyEnums(value);
    const loaded = json.fromJson(historyType, fixed, { ignoreUnknownFields: true });
    if (loaded === null) throw new TypeError('Invalid history');
    return loaded as History;
  }
}

function constantCase(s: string): string {
  return s.replace(/[^\b][A-Z]/g, (m) => `${m[0]}_${m[1]}`).toUpperCase();
}

function fixEnum(obj: Record<string, unknown>, attr: string, prefix: string): Record<string, unknown> {
  const v = obj[attr];
  return typeof v === 'string' && v ? { [attr]: v.startsWith(prefix) ? v : `${prefix}_${constantCase(v)}` } : {};
}

function fixLegacyEnums(history: unknown): unknown {
  if (typeof history !== 'object' || history === null || !Array.isArray((history as { events?: unknown }).events)) {
    throw new TypeError('Invalid history, expected an object with an array of events');
  }
  const events = (history as { events: Record<string, unknown>[] }).events.map((e) => {
    const type = Object.keys(e).find((k) => k.endsWith('EventAttributes'));
    if (!type) throw new TypeError(`Missing attributes in history event: ${JSON.stringify(e).slice(0, 200)}`);
    const attrs = e[type] as Record<string, unknown>;
    const tq = attrs.taskQueue as Record<string, unknown> | undefined;
    return {
      ...e,
      ...fixEnum(e, 'eventType', 'EVENT_TYPE'),
      [type]: {
        ...attrs,
        ...(tq ? { taskQueue: { ...tq, ...fixEnum(tq, 'kind', 'TASK_QUEUE_KIND') } } : {}),
        ...fixEnum(attrs, 'parentClosePolicy', 'PARENT_CLOSE_POLICY'),
        ...fixEnum(attrs, 'workflowIdReusePolicy', 'WORKFLOW_ID_REUSE_POLICY'),
        ...fixEnum(attrs, 'initiator', 'CONTINUE_AS_NEW_INITIATOR'),
        ...fixEnum(attrs, 'retryState', 'RETRY_STATE'),
      },
    };
  });
  return { events };
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
