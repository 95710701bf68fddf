/**
 * The report over many remediations: mean time to remediate, what is open by severity,
 * SLA breaches and how long approvals waited. Built from the per-remediation reports (so
 * from histories); it lists each remediation's history digest and a digest over them.
 */
import { createHash } from 'node:crypto';
import { SEVERITIES } from '../domain/detection';
import { FINAL_STATUSES, type RemediationStatus } from '../planner/types';
import type { RemediationReport } from './build';
import { csv, humanMs, table, type ReportFormat } from './render';

export interface Stats {
  count: number;
  meanMs?: number;
  medianMs?: number;
  p90Ms?: number;
  maxMs?: number;
}

export interface AggregateReport {
  reportVersion: 1;
  kind: 'aggregate';
  generatedAt: string;
  since?: string;
  /** SHA-256 over the sorted "<id> <history sha256>" lines of the remediations included. */
  sha256: string;
  total: number;
  byStatus: Record<string, number>;
  timeToRemediate: Stats;
  open: { total: number; bySeverity: Record<string, number> };
  sla: { breached: number; met: number; open: number; none: number; breaches: { id: string; severity?: string; deadline?: string; status?: string }[] };
  approvalWait: Stats & { pending: number };
  remediations: {
    id: string;
    status?: string;
    severity?: string;
    riskScore?: number;
    playbook?: string;
    startedAt?: string;
    closedAt?: string;
    durationMs?: number;
    sla: string;
    approvals: number;
    historySha256: string;
  }[];
}

export function stats(values: number[]): Stats {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { count: 0 };
  const at = (q: number) => v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)];
  return { count: v.length, meanMs: Math.round(v.reduce((a, b) => a + b, 0) / v.length), medianMs: v.length % 2 ? v[(v.length - 1) / 2] : Math.round((v[v.length / 2 - 1] + v[v.length / 2]) / 2), p90Ms: at(0.9), maxMs: v[v.length - 1] };
}

export function aggregate(reports: RemediationReport[], opts: { since?: string; now?: Date } = {}): AggregateReport {
  const byStatus: Record<string, number> = {};
  const bySeverity: Record<string, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  const breaches: AggregateReport['sla']['breaches'] = [];
  const sla = { breached: 0, met: 0, open: 0, none: 0 };
  const ttr: number[] = [];
  const waits: number[] = [];
  let pendingApprovals = 0;
  let open = 0;
  for (const r of reports) {
    const st = r.outcome.status ?? 'unknown';
    byStatus[st] = (byStatus[st] ?? 0) + 1;
    const isOpen = r.outcome.workflow === 'running' || r.outcome.workflow === 'continued_as_new' ? !FINAL_STATUSES.has(st as RemediationStatus) : false;
    if (isOpen) {
      open++;
      const sev = r.outcome.severity ?? 'unknown';
      bySeverity[sev] = (bySeverity[sev] ?? 0) + 1;
    }
    if ((st === 'remediated' || st === 'resolved') && r.outcome.durationMs !== undefined) ttr.push(r.outcome.durationMs);
    sla[r.sla.status]++;
    if (r.sla.status === 'breached') breaches.push({ id: r.id, severity: r.outcome.severity, deadline: r.sla.deadline, status: r.outcome.status });
    for (const a of r.approvals) {
      if (a.via !== 'expiry' && a.outcome === 'accepted' && a.waitMs !== undefined) waits.push(a.waitMs);
    }
    if (isOpen && r.outcome.status === 'awaiting_approval') pendingApprovals++;
  }
  const lines = reports.map((r) => `${r.id} ${r.history.sha256}`).sort();
  return {
    reportVersion: 1,
    kind: 'aggregate',
    generatedAt: (opts.now ?? new Date()).toISOString(),
    ...(opts.since ? { since: opts.since } : {}),
    sha256: createHash('sha256').update(lines.join('\n')).digest('hex'),
    total: reports.length,
    byStatus,
    timeToRemediate: stats(ttr),
    open: { total: open, bySeverity },
    sla: { ...sla, breaches },
    approvalWait: { ...stats(waits), pending: pendingApprovals },
    remediations: reports.map((r) => ({
      id: r.id,
      status: r.outcome.status,
      severity: r.outcome.severity,
      riskScore: r.outcome.riskScore,
      playbook: r.outcome.playbook,
      startedAt: r.outcome.startedAt,
      closedAt: r.outcome.closedAt,
      durationMs: r.outcome.durationMs,
      sla: r.sla.status,
      approvals: r.approvals.length,
      historySha256: r.history.sha256,
    })),
  };
}

export function renderAggregate(a: AggregateReport, format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(a, null, 2);
  if (format === 'csv') {
    return csv(
      ['remediation_id', 'status', 'severity', 'risk_score', 'playbook', 'started_at', 'closed_at', 'duration_ms', 'sla', 'approvals', 'history_sha256', 'aggregate_sha256'],
      a.remediations.map((r) => [r.id, r.status ?? '', r.severity ?? '', r.riskScore ?? '', r.playbook ?? '', r.startedAt ?? '', r.closedAt ?? '', r.durationMs ?? '', r.sla, r.approvals, r.historySha256, a.sha256]),
    );
  }
  const s = (x: Stats) => (x.count ? `mean ${humanMs(x.meanMs)}, median ${humanMs(x.medianMs)}, p90 ${humanMs(x.p90Ms)}, max ${humanMs(x.maxMs)} (${x.count})` : 'none');
  const out = [
    '# Remediations: aggregate report',
    '',
    `- Generated ${a.generatedAt}${a.since ? `, remediations started since ${a.since}` : ''}`,
    `- ${a.total} remediation${a.total === 1 ? '' : 's'}; SHA-256 over their histories \`${a.sha256}\``,
    `- Mean time to remediate: ${s(a.timeToRemediate)}`,
    `- Open: ${a.open.total} (${Object.entries(a.open.bySeverity).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'})`,
    `- SLA: ${a.sla.breached} breached, ${a.sla.met} met, ${a.sla.open} open, ${a.sla.none} without SLA`,
    `- Approval wait: ${s(a.approvalWait)}; ${a.approvalWait.pending} remediation(s) awaiting approval now`,
    '',
    '## By status',
    '',
    ...table(['Status', 'Count'], Object.entries(a.byStatus).map(([k, n]) => [k, n])),
    '',
    '## Open by severity',
    '',
    ...table(['Severity', 'Open'], Object.entries(a.open.bySeverity).map(([k, n]) => [k, n])),
    '',
    '## SLA breaches',
    '',
    ...table(['Remediation', 'Severity', 'Deadline', 'Status'], a.sla.breaches.map((b) => [b.id, b.severity ?? '', b.deadline ?? '', b.status ?? ''])),
    '',
    '## Remediations',
    '',
    ...table(['Remediation', 'Status', 'Severity', 'Risk', 'Playbook', 'Started', 'Took', 'SLA', 'History SHA-256'], a.remediations.map((r) => [r.id, r.status ?? '', r.severity ?? '', r.riskScore ?? '', r.playbook ?? '', r.startedAt ?? '', humanMs(r.durationMs), r.sla, r.historySha256])),
    '',
  ];
  return out.join('\n');
}
