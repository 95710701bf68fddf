import type { Severity } from '../../domain/detection';
import { Collector, first, isObj, obj, str, strings, toIso, type Draft, type Obj } from '../common';
import { notFormat } from '../errors';
import type { Detector, Normalizer } from '../types';

/** Falco `json_output` events and falcosidekick's webhook (same shape plus `uuid`); one or an array. */
export const FORMAT = 'falco';

const isEvent = (v: unknown): v is Obj => isObj(v) && typeof v.rule === 'string' && typeof v.priority === 'string';

export const detect: Detector = (p) =>
  (isEvent(p) && ('output' in p || 'output_fields' in p)) || (Array.isArray(p) && p.length > 0 && p.every(isEvent));

export const normalize: Normalizer = (payload, ctx) => {
  const events = Array.isArray(payload) ? payload : [payload];
  if (!isObj(payload) && !Array.isArray(payload)) throw notFormat(FORMAT, '$', 'must be a Falco event object or an array of them');
  if (!Array.isArray(payload)) {
    if (typeof payload.rule !== 'string') throw notFormat(FORMAT, '$.rule', 'is missing (expected the Falco rule name)');
    if (typeof payload.priority !== 'string') throw notFormat(FORMAT, '$.priority', 'is missing (expected a Falco priority)');
  } else if (!events.some(isEvent)) {
    throw notFormat(FORMAT, '$[*].rule', 'is missing (expected Falco events with rule and priority)');
  }
  const out = new Collector(ctx);
  events.forEach((e, i) => {
    const ref = Array.isArray(payload) ? `[${i}]` : undefined;
    if (!isEvent(e)) return out.skip('not a Falco event (rule/priority missing)', ref);
    out.add(() => toDraft(e), ref ?? str(e.uuid));
  });
  return out.result();
};

const PRIORITY: Record<string, Severity> = {
  emergency: 'critical', alert: 'critical', critical: 'critical',
  error: 'high',
  warning: 'medium',
  notice: 'low', informational: 'low', info: 'low',
  debug: 'info',
};

function toDraft(e: Obj): Draft {
  const f = fields(obj(e.output_fields));
  const rule = str(e.rule) as string;
  const asset = assetOf(e, f);
  const image = f['container.image.repository'] ?? f['container.image'];
  const tag = f['container.image.tag'];
  return {
    source: 'falco',
    rule,
    title: `${rule} on ${asset.id ?? 'unknown'}`,
    severity: PRIORITY[(str(e.priority) ?? '').toLowerCase()] ?? 'medium',
    category: 'runtime-threat',
    asset,
    status: 'open',
    observedAt: first(toIso(e.time), toIso(f['evt.time']), toIso(f['evt.time.iso8601'])),
    // Each Falco event is one occurrence (uuid differs every time); repeats of a rule on the same
    // workload are the same detection.
    dedupeKey: `falco|${asset.id}|${rule}`,
    details: {
      priority: str(e.priority),
      falcoSource: str(e.source),
      hostname: str(e.hostname),
      ruleTags: strings(e.tags),
      output: outputMessage(str(e.output)),
      containerId: f['container.id'],
      containerName: f['container.name'],
      image: image && tag && !image.endsWith(`:${tag}`) ? `${image}:${tag}` : image,
      k8sNamespace: f['k8s.ns.name'],
      k8sPod: f['k8s.pod.name'],
      processName: f['proc.name'],
      processExePath: f['proc.exepath'],
      parentProcessName: f['proc.pname'],
      userName: f['user.name'],
      file: f['fd.name'],
      eventType: f['evt.type'],
    },
    raw: { format: FORMAT, element: e, sourceId: str(e.uuid) },
  };
}

/** Most specific workload first: a pod outlives its containers' ids, a container sits on a host. */
function assetOf(e: Obj, f: Record<string, string>): Draft['asset'] {
  const pod = f['k8s.pod.name'];
  if (pod) return { id: f['k8s.ns.name'] ? `${f['k8s.ns.name']}/${pod}` : pod, type: 'k8s-pod' };
  const container = f['container.name'] ?? f['container.id'];
  if (container && container !== 'host') return { id: container, type: 'container' };
  return { id: str(e.hostname), type: 'host' };
}

/**
 * output_fields values as strings, minus Falco's non-values: `<NA>`, null, and unrendered
 * placeholders where the value is just the field name (seen in hand-written examples).
 */
function fields(raw: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const s = str(v);
    if (s !== undefined && s !== '<NA>' && s !== k) out[k] = s;
  }
  return out;
}

/** The output line minus its "<time>: <Priority> " prefix; left out when it still holds %placeholders. */
function outputMessage(output: string | undefined): string | undefined {
  if (!output || /%[a-z]/.test(output)) return undefined;
  return output.replace(/^\S+:\s+(Emergency|Alert|Critical|Error|Warning|Notice|Informational|Debug)\s+/, '').slice(0, 512);
}
