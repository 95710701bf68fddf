import type { Severity } from '../../domain/detection';
import { Collector, assetHints, isObj, obj, sha256Hex, severityWord, str, toIso, type Draft, type Obj } from '../common';
import { notFormat } from '../errors';
import type { Detector, Normalizer } from '../types';

/**
 * Prometheus Alertmanager webhook (`version: "4"`) and Grafana-managed alerting's copy of it
 * (`version: "1"` plus orgId/state/title/message...). One finding per alert.
 */
export const FORMAT = 'alertmanager';

export const detect: Detector = (p) =>
  isObj(p) && Array.isArray(p.alerts) && (p.version !== undefined || p.groupKey !== undefined || p.receiver !== undefined);

export const normalize: Normalizer = (payload, ctx) => {
  if (!isObj(payload)) throw notFormat(FORMAT, '$', 'must be a webhook object with an `alerts` array');
  if (!Array.isArray(payload.alerts)) throw notFormat(FORMAT, '$.alerts', 'is missing (expected an array of alerts)');
  const out = new Collector(ctx);
  payload.alerts.forEach((alert, i) => {
    const ref = `alerts[${i}]`;
    if (!isObj(alert) || !isObj(alert.labels)) return out.skip('alert has no labels object', ref);
    out.add(() => toDraft(alert, payload), ref);
  });
  return out.result();
};

function toDraft(alert: Obj, webhook: Obj): Draft {
  const labels = stringMap(alert.labels);
  const annotations = stringMap(alert.annotations);
  const rule = labels.alertname ?? 'unnamed-alert';
  const asset = assetFromLabels(labels);
  const resolved = alert.status === 'resolved';
  const startsAt = toIso(alert.startsAt);
  const endsAt = toIso(alert.endsAt);
  const fingerprint = str(alert.fingerprint);
  const severityLabel = labels.severity ?? labels.priority;
  return {
    source: 'alertmanager',
    rule,
    title: annotations.summary ?? annotations.title ?? firstLine(annotations.message ?? annotations.description) ?? (asset.type === 'alert' ? rule : `${rule} on ${asset.id}`),
    severity: alertSeverity(severityLabel),
    category: 'infrastructure',
    asset: { ...asset, ...assetHints(labels) },
    status: resolved ? 'resolved' : 'open',
    // A resolved alert's news is its end; a firing one's is its start (endsAt is only a timeout then).
    observedAt: resolved ? (endsAt ?? startsAt) : startsAt,
    // Alertmanager identifies an alert by its label set: the fingerprint when sent (Alertmanager
    // >= 0.19, Grafana), else our own hash of the sorted labels so sibling alerts stay apart.
    dedupeKey: `alertmanager|${asset.id}|${rule}|${fingerprint ? `fp:${fingerprint}` : `labels:${labelsHash(labels)}`}`,
    details: {
      fingerprint,
      severityLabel,
      labels,
      summary: annotations.summary,
      description: annotations.description,
      runbookUrl: annotations.runbook_url,
      startsAt,
      endsAt,
      receiver: str(webhook.receiver),
      externalURL: str(webhook.externalURL),
      grafanaOrgId: webhook.orgId,
      dashboardURL: str(alert.dashboardURL),
      panelURL: str(alert.panelURL),
      valueString: str(alert.valueString),
    },
    raw: { format: FORMAT, element: alert, sourceId: fingerprint, url: str(alert.generatorURL) },
  };
}

/** Alertmanager has no severity field; `severity` (or `priority`) label is the convention. */
function alertSeverity(label: string | undefined): Severity {
  // An alert that fires without a severity label is still someone's problem: not 'info'.
  return severityWord(label) ?? 'medium';
}

// Most specific first: a kube-state-metrics alert carries `instance` (the exporter) AND `pod` (the subject).
const ASSET_LABELS: [string, string][] = [
  ['pod', 'k8s-pod'],
  ['node', 'k8s-node'],
  ['nodename', 'host'],
  ['host', 'host'],
  ['hostname', 'host'],
  ['instance', 'host'],
  ['deployment', 'k8s-workload'],
  ['statefulset', 'k8s-workload'],
  ['daemonset', 'k8s-workload'],
  ['service', 'service'],
  ['job', 'service'],
  ['namespace', 'k8s-namespace'],
  ['cluster', 'cluster'],
];

// Labels that describe the alert or its sender rather than what it is about.
const NON_ASSET_LABELS = new Set(['alertname', 'severity', 'priority', 'prometheus', 'receiver', 'grafana_folder']);

function assetFromLabels(labels: Record<string, string>): { id: string; type: string } {
  for (const [key, type] of ASSET_LABELS) {
    const v = labels[key];
    if (!v) continue;
    const ns = labels.namespace;
    const namespaced = type === 'k8s-pod' || type === 'k8s-workload';
    return { id: namespaced && ns ? `${ns}/${v}` : v, type };
  }
  const rest = Object.keys(labels).filter((k) => !NON_ASSET_LABELS.has(k)).sort();
  if (rest.length) return { id: rest.map((k) => `${k}=${labels[k]}`).join(','), type: 'alert-labels' };
  return { id: labels.alertname ?? 'unknown', type: 'alert' };
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v))) {
    const s = str(val);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

function labelsHash(labels: Record<string, string>): string {
  const canonical = Object.keys(labels).sort().map((k) => [k, labels[k]]);
  return sha256Hex(JSON.stringify(canonical)).slice(0, 16);
}

function firstLine(s: string | undefined): string | undefined {
  return s?.split('\n').map((l) => l.trim()).find((l) => l !== '');
}
