/**
 * A report as Markdown (for people and tickets), JSON (for machines) or CSV (the timeline,
 * one row per entry, for spreadsheets and SIEMs). Each carries the history's SHA-256.
 */
import { formatDuration } from '../planner/durations';
import { diffText, type RemediationReport } from './build';

export const REPORT_FORMATS = ['md', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ReportFormat, string> = { md: 'text/markdown; charset=utf-8', json: 'application/json', csv: 'text/csv; charset=utf-8' };

export function isReportFormat(v: string): v is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(v);
}

export function renderReport(r: RemediationReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(r, null, 2);
    case 'csv':
      return reportCsv(r);
    case 'md':
      return reportMarkdown(r);
  }
}

export function humanMs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (v < 1000) return `${Math.round(v)}ms`;
  const s = Math.round(v / 1000);
  if (s < 60) return `${(v / 1000).toFixed(1)}s`;
  const parts: string[] = [];
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (sec && !d) parts.push(`${sec}s`);
  return parts.join(' ') || formatDuration(v);
}

/** Markdown table cell: no pipes or newlines breaking the row. */
export function cell(v: unknown): string {
  const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

export function table(headers: string[], rows: unknown[][]): string[] {
  if (rows.length === 0) return ['_none_'];
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

export function reportMarkdown(r: RemediationReport): string {
  const d = r.detection;
  const o = r.outcome;
  const out: string[] = [];
  out.push(`# Remediation report: ${r.id}`, '');
  out.push(`- History SHA-256: \`${r.history.sha256}\` (${r.history.events} events, ${r.history.runs.length} run${r.history.runs.length === 1 ? '' : 's'}; decision log from ${r.history.decisionsFrom.join(', ')})`);
  out.push(`- Generated: ${r.generatedAt}`);
  out.push(`- Status: **${o.status ?? 'unknown'}**${o.resolution ? ` (${o.resolution})` : ''}; workflow ${o.workflow.replace(/_/g, ' ')}`);
  out.push(`- Started ${o.startedAt ?? '-'}${o.closedAt ? `, closed ${o.closedAt} (time to remediate ${humanMs(o.durationMs)})` : ''}`);
  out.push(`- Severity ${o.severity ?? '-'}, risk ${o.riskScore ?? '-'}, ${o.findingCount} finding${o.findingCount === 1 ? '' : 's'}; playbook ${o.playbook ?? '-'} (policy ${o.policyVersion ?? '-'})`);
  if (o.ticket) out.push(`- Ticket: ${o.ticket.system} ${o.ticket.ticketId}${o.ticket.url ? ` <${o.ticket.url}>` : ''}`);
  out.push(`- SLA: ${r.sla.status}${r.sla.deadline ? `, deadline ${r.sla.deadline}` : ''}${r.sla.breached ? ' (breached)' : ''}`);
  out.push('');
  if (d) {
    out.push('## Detection', '');
    out.push(`- ${d.title}`);
    out.push(`- Source ${d.source}, rule \`${d.rule}\`, severity ${d.severity}${d.category ? `, category ${d.category}` : ''}${typeof d.riskScore === 'number' ? `, risk ${d.riskScore}` : ''}`);
    out.push(`- Asset ${d.asset.id} (${d.asset.type}${d.asset.environment ? `, ${d.asset.environment}` : ''}${d.asset.internetFacing ? ', internet-facing' : ''}${d.asset.criticality ? `, criticality ${d.asset.criticality}` : ''})`);
    if (r.dedupeKey) out.push(`- Deduplication key \`${r.dedupeKey}\`; submitted by ${r.requestedBy ?? '-'}`);
    if (d.rawRef) out.push(`- Original payload: ${d.rawRef.format} sha256 ${d.rawRef.sha256}${d.rawRef.sourceId ? ` (${d.rawRef.sourceId})` : ''}`);
    out.push('');
  }
  out.push('## Detections and repeats', '');
  out.push(...table(['When', 'Kind', 'Source', 'Rule', 'Severity', 'Risk', 'Observed'], r.detections.map((x) => [x.at, x.kind, x.source, x.rule, x.severity, x.riskScore ?? '', x.observedAt ?? ''])));
  out.push('', '## Plans', '');
  if (r.plans.length === 0) out.push('_no plan recorded_');
  for (const p of r.plans) {
    out.push(`### v${p.version} — ${p.at}`, '');
    out.push(`- Why: ${p.why}${p.by ? ` (by ${p.by})` : ''}`);
    out.push(`- Playbook ${p.playbook ?? '-'}, policy ${p.policyVersion ?? '-'}${p.selection ? `: ${p.selection}` : ''}`);
    for (const c of p.diff) out.push(`  - ${diffText(c)}`);
    out.push('');
  }
  if (r.finalPlan) {
    out.push('### Final plan', '');
    out.push(...table(['Step', 'Action', 'Status', 'Why (rule)', 'Approval', 'Note'], r.finalPlan.steps.map((s) => [s.id, s.action, s.status, s.reason.rule, s.approval ? `${[...s.approval.users, ...s.approval.groups.map((g) => `@${g}`)].join(', ')}${s.approval.approvedBy.length ? ` — approved by ${s.approval.approvedBy.join(', ')}` : ''}${s.approval.deniedBy ? ` — denied by ${s.approval.deniedBy}` : ''}` : '', s.note ?? ''])));
    out.push('');
  }
  out.push('## Approvals and denials', '');
  out.push(...table(['When', 'Step', 'Decision', 'Who', 'Groups', 'Why', 'Via', 'Outcome', 'Waited'], r.approvals.map((a) => [a.at, a.stepId, a.decision, a.by, a.groups.join(', '), a.reason, a.via, a.outcome + (a.refusal ? `: ${a.refusal}` : ''), humanMs(a.waitMs)])));
  out.push('', '## Risk changes', '');
  out.push(...table(['When', 'From', 'To', 'Why', 'Who'], r.riskChanges.map((c) => [c.at, c.from ?? '', c.to, c.reason ?? '', c.by ?? ''])));
  out.push('', '## Actions', '');
  out.push(...table(['Scheduled', 'Step', 'Activity', 'Outcome', 'Attempts', 'Took', 'Result / failure'], r.actions.map((a) => [a.scheduledAt, a.stepId ?? '', `${a.activity}${a.compensation ? ' (compensation)' : ''}`, a.outcome, a.attempts ?? '', humanMs(a.durationMs), a.failure ?? (a.result === undefined ? '' : JSON.stringify(a.result))])));
  out.push('', '## Verification', '');
  out.push(...table(['When', 'Step', 'OK', 'Detail'], r.verification.map((v) => [v.at, v.stepId ?? '', v.ok === undefined ? '' : v.ok ? 'yes' : 'no', v.summary])));
  out.push('', '## SLA', '');
  out.push(`- Status: ${r.sla.status}${r.sla.deadline ? `; deadline ${r.sla.deadline}` : ''}${r.sla.window ? `; ${r.sla.window}` : ''}`);
  out.push('', '## Compensations', '');
  out.push(...table(['When', 'Step', 'What'], r.compensations.map((c) => [c.at, c.stepId ?? '', c.summary])));
  out.push('', '## Timeline', '');
  out.push(...table(['When', 'Kind', 'What', 'Who', 'Source'], r.timeline.map((t) => [t.at, t.kind, t.summary, t.by ?? '', t.source === 'history' ? `history${r.history.runs.length > 1 ? ` run ${t.run + 1}` : ''} #${t.eventId ?? '-'}` : `decision #${t.seq}`])));
  if (r.warnings.length) {
    out.push('', '## Warnings', '');
    for (const w of r.warnings) out.push(`- ${w}`);
  }
  out.push('', '---', `Built from the Temporal history of ${r.id}: ${r.history.runs.map((x) => `run ${x.runId} (${x.events} events, sha256 ${x.sha256})`).join('; ')}. History SHA-256 \`${r.history.sha256}\`.`, '');
  return out.join('\n');
}

export function csvField(v: unknown): string {
  const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  // Formula injection: a cell a spreadsheet would evaluate is prefixed with a quote.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csv(headers: string[], rows: unknown[][]): string {
  return [headers, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export const TIMELINE_CSV_HEADERS = ['remediation_id', 'history_sha256', 'at', 'kind', 'summary', 'by', 'step', 'source', 'run', 'event_id', 'decision_seq'];

export function reportCsv(r: RemediationReport): string {
  return csv(
    TIMELINE_CSV_HEADERS,
    r.timeline.map((t) => [r.id, r.history.sha256, t.at, t.kind, t.summary, t.by ?? '', t.step ?? '', t.source, r.history.runs[t.run]?.runId ?? '', t.eventId ?? '', t.seq ?? '']),
  );
}
