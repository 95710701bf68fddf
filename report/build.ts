/**
 * The audit report of one remediation, built from its Temporal event history: the
 * detection it started from and every repeat, every plan version with its reasons and
 * diff, approvals and denials (who, when, why), actions and their results, verification,
 * SLA, compensations, in one timeline. It carries the SHA-256 of the history JSON it was
 * built from, so anyone holding the exported history can check it.
 */
import type { Detection } from '../domain/detection';
import { scoreRisk } from '../planner/risk';
import type { Plan, PlanDiffEntry, RemediationStatus } from '../planner/types';
import type { ApprovalDecision, FindingResolved, OperatorAction, PolicyUpdated, ResultPlan, RiskScoreChanged } from '../signals';
import { actorOf, type DecisionKind, type DescribedDecision } from '../remediation/events';
import { extract, comparePositions, type ActivityRecord, type Extracted, type Position, type PositionedDecision, type RunSummary } from './extract';
import { historyDigest, type RunHistory } from './history';

export const REPORT_VERSION = 1;

export type TimelineKind =
  | 'detection'
  | 'repeat'
  | 'enrichment'
  | 'plan'
  | 'approval'
  | 'denial'
  | 'rejected'
  | 'risk'
  | 'resolved'
  | 'policy'
  | 'operator'
  | 'action'
  | 'verification'
  | 'sla'
  | 'escalation'
  | 'compensation'
  | 'timer'
  | 'status'
  | 'run'
  | 'step'
  | 'note';

export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  summary: string;
  by?: string;
  step?: string;
  source: 'history' | 'decision-log';
  run: number;
  eventId?: number;
  seq?: number;
}

export interface ApprovalEntry {
  at: string;
  stepId: string;
  decision: 'approve' | 'deny';
  by: string;
  groups: string[];
  reason: string;
  via: 'update' | 'signal' | 'expiry';
  outcome: 'accepted' | 'refused' | 'pending';
  refusal?: string;
  /** When the step started waiting for approval, and how long this decision took. */
  requestedAt?: string;
  waitMs?: number;
}

export interface ActionEntry {
  stepId?: string;
  title: string;
  activity: string;
  taskQueue?: string;
  scheduledAt: string;
  startedAt?: string;
  closedAt?: string;
  durationMs?: number;
  attempts?: number;
  outcome: ActivityRecord['outcome'];
  compensation: boolean;
  result?: unknown;
  failure?: string;
}

export interface RemediationReport {
  reportVersion: typeof REPORT_VERSION;
  id: string;
  generatedAt: string;
  history: {
    /** SHA-256 of the history JSON (one run: `drw history export`; several: `drw history export --chain`). */
    sha256: string;
    runs: (Pick<RunSummary, 'runId' | 'sha256' | 'events' | 'startedAt' | 'closedAt' | 'continuedFrom'> & { close: RunSummary['close']['kind'] })[];
    events: number;
    decisionsFrom: Extracted['decisionsSource'];
    decisionsDropped: number;
  };
  detection?: Detection;
  dedupeKey?: string;
  requestedBy?: string;
  outcome: {
    workflow: RunSummary['close']['kind'];
    status?: RemediationStatus;
    resolution?: string;
    startedAt?: string;
    closedAt?: string;
    durationMs?: number;
    ticket?: { system: string; ticketId: string; url?: string };
    severity?: string;
    riskScore?: number;
    findingCount: number;
    playbook?: string;
    policyVersion?: string;
  };
  sla: { deadline?: string; breached: boolean; status: 'met' | 'breached' | 'open' | 'none'; window?: string };
  detections: { at: string; kind: 'initial' | 'repeat'; source: string; rule: string; severity: string; riskScore?: number; observedAt?: string; title: string }[];
  plans: { version: number; at: string; why: string; playbook?: string; policyVersion?: string; selection?: string; by?: string; diff: PlanDiffEntry[] }[];
  approvals: ApprovalEntry[];
  riskChanges: { at: string; from?: number; to: number; reason?: string; by?: string }[];
  actions: ActionEntry[];
  verification: { at: string; stepId?: string; summary: string; ok?: boolean }[];
  compensations: { at: string; stepId?: string; summary: string }[];
  timers: { summary?: string; startedAt: string; durationMs?: number; outcome: string; closedAt?: string }[];
  searchAttributes: { at: string; values: Record<string, unknown> }[];
  /** The last plan (steps as a run's result keeps them: signals ResultStep). */
  finalPlan?: ResultPlan;
  timeline: TimelineEntry[];
  warnings: string[];
}

const ms = (iso?: string) => (iso ? Date.parse(iso) : NaN);

/** Short form of big results: a policy is its version and playbook ids. */
function compact(v: unknown): unknown {
  if (v && typeof v === 'object' && Array.isArray((v as { playbooks?: unknown }).playbooks) && typeof (v as { version?: unknown }).version === 'string') {
    const p = v as { version: string; playbooks: { id?: string }[] };
    return { version: p.version, playbooks: p.playbooks.map((x) => x.id) };
  }
  return v;
}

function resultSummary(raw: unknown): unknown {
  const v = compact(raw);
  if (v === undefined || v === null) return undefined;
  const text = JSON.stringify(v);
  return text.length > 500 ? `${text.slice(0, 497)}...` : v;
}

function short(raw: unknown): string {
  const v = compact(raw);
  if (v === undefined) return '';
  const t = typeof v === 'string' ? v : JSON.stringify(v);
  return t.length > 160 ? `${t.slice(0, 157)}...` : t;
}

/** Builds the report from the runs of one remediation (oldest first). */
export function buildReport(runs: RunHistory[], opts: { queried?: DescribedDecision[]; workflowId?: string; now?: Date } = {}): RemediationReport {
  const x = extract(runs, { queried: opts.queried, workflowId: opts.workflowId });
  return buildFromExtracted(x, runs, opts.now ?? new Date());
}

export function buildFromExtracted(x: Extracted, runs: RunHistory[], now: Date): RemediationReport {
  const warnings = [...x.warnings];
  const input = x.input;
  const detection = (x.carried?.detection ?? input?.detection) as Detection | undefined;
  const result = x.close.kind === 'completed' ? x.close.result : undefined;
  const timeline: (TimelineEntry & { pos: Position })[] = [];
  const add = (pos: Position, e: Omit<TimelineEntry, 'run'>) => timeline.push({ ...e, run: pos.run, pos });
  const decisionsOf = <K extends DecisionKind>(kind: K) => x.decisions.filter((d): d is Extract<PositionedDecision, { kind: K }> => d.kind === kind);

  // -- detections
  const detections: RemediationReport['detections'] = [];
  if (detection && !x.carried) {
    detections.push({ at: x.startedAt ?? '', kind: 'initial', source: detection.source, rule: detection.rule, severity: detection.severity, riskScore: detection.riskScore, observedAt: detection.observedAt, title: detection.title });
  }
  if (x.startedAt) {
    add({ run: 0, eventId: 1, sub: 0, seq: 0 }, {
      at: x.startedAt,
      kind: x.carried ? 'run' : 'detection',
      summary: x.carried
        ? `run ${x.runs[0].runId} continues the remediation (state carried over from ${x.runs[0].continuedFrom ?? 'an earlier run'})`
        : `detection from ${detection?.source ?? '?'}: ${detection?.title ?? '?'} (${detection?.severity ?? '?'}, rule ${detection?.rule ?? '?'}, asset ${detection?.asset.id ?? '?'})`,
      by: input?.requestedBy,
      source: 'history',
      eventId: 1,
    });
  }

  // -- risk, repeats, resolution, operators (signals), approvals (updates and signals)
  const riskChanges: RemediationReport['riskChanges'] = [];
  const initialRisk = decisionsOf('enriched')[0];
  let risk: number | undefined = initialRisk
    ? initialRisk.riskScore
    : x.carried?.facts.riskScore ?? (detection ? scoreRisk({ severity: detection.severity, riskScore: detection.riskScore, asset: detection.asset }).score : undefined);
  const approvals: ApprovalEntry[] = [];
  for (const s of x.signals) {
    const base = { at: s.at, source: 'history' as const, eventId: s.pos.eventId };
    switch (s.name) {
      case 'findingAdded': {
        const d = s.payload as Partial<Detection>;
        detections.push({ at: s.at, kind: 'repeat', source: String(d?.source ?? ''), rule: String(d?.rule ?? ''), severity: String(d?.severity ?? ''), riskScore: d?.riskScore, observedAt: d?.observedAt, title: String(d?.title ?? '') });
        add(s.pos, { ...base, kind: 'repeat', summary: `repeat of the finding (${d?.source}/${d?.rule}, ${d?.severity}${typeof d?.riskScore === 'number' ? `, risk ${d.riskScore}` : ''}${d?.observedAt ? `, observed ${d.observedAt}` : ''})` });
        break;
      }
      case 'riskScoreChanged': {
        const m = s.payload as RiskScoreChanged;
        riskChanges.push({ at: s.at, from: risk, to: m?.riskScore, reason: m?.reason, by: m?.by });
        add(s.pos, { ...base, kind: 'risk', summary: `risk score ${risk ?? '?'} → ${m?.riskScore}: ${m?.reason ?? 'no reason given'}`, by: m?.by });
        if (typeof m?.riskScore === 'number') risk = m.riskScore;
        break;
      }
      case 'findingResolved': {
        const m = s.payload as FindingResolved | undefined;
        add(s.pos, { ...base, kind: 'resolved', summary: `finding resolved at the source: ${m?.reason ?? 'no reason given'}`, by: m?.by });
        break;
      }
      case 'policyUpdated': {
        const m = s.payload as PolicyUpdated | undefined;
        add(s.pos, { ...base, kind: 'policy', summary: `policy update announced${m?.version ? ` (version ${m.version})` : ''}: ${m?.reason ?? 'policy updated'}`, by: m?.by });
        break;
      }
      case 'approveSignal':
      case 'denySignal': {
        const d = s.payload as ApprovalDecision;
        const decision = s.name === 'approveSignal' ? 'approve' : 'deny';
        const refused = decisionsOf('rejected').find((r) => r.message === decision && r.by === d?.approver && comparePositions(r.pos, s.pos) > 0);
        approvals.push({ at: s.at, stepId: d?.stepId, decision, by: d?.approver, groups: d?.groups ?? [], reason: d?.reason, via: 'signal', outcome: refused ? 'refused' : x.decisions.length ? 'accepted' : 'pending', ...(refused ? { refusal: refused.summary } : {}) });
        add(s.pos, { ...base, kind: decision === 'approve' ? 'approval' : 'denial', summary: `${d?.approver} ${decision === 'approve' ? 'approved' : 'denied'} ${d?.stepId} (signal${refused ? ', refused' : ''}): ${d?.reason}`, by: d?.approver, step: d?.stepId });
        break;
      }
      case 'pause':
      case 'resume':
      case 'cancel':
      case 'falsePositive': {
        const m = s.payload as OperatorAction;
        add(s.pos, { ...base, kind: 'operator', summary: `${s.name === 'falsePositive' ? 'marked a false positive' : `${s.name} requested`}: ${m?.reason ?? ''}`, by: m?.by });
        break;
      }
      default:
        add(s.pos, { ...base, kind: 'note', summary: `signal ${s.name}: ${short(s.payload)}` });
    }
  }
  for (const u of x.updates) {
    const d = u.payload as ApprovalDecision;
    if (u.name !== 'approve' && u.name !== 'deny') {
      add(u.pos, { at: u.at, kind: 'note', summary: `update ${u.name} ${u.outcome}`, source: 'history', eventId: u.pos.eventId });
      continue;
    }
    const refused = u.outcome === 'rejected' || u.outcome === 'failed';
    approvals.push({ at: u.at, stepId: d?.stepId, decision: u.name, by: d?.approver, groups: d?.groups ?? [], reason: d?.reason, via: 'update', outcome: refused ? 'refused' : 'accepted', ...(refused ? { refusal: u.failure?.message } : {}) });
    add(u.pos, {
      at: u.at,
      kind: refused ? 'rejected' : u.name === 'approve' ? 'approval' : 'denial',
      summary: `${d?.approver}${d?.groups?.length ? ` (${d.groups.join(', ')})` : ''} ${u.name === 'approve' ? 'approved' : 'denied'} ${d?.stepId}: ${d?.reason}${refused ? ` — refused: ${u.failure?.message ?? ''}` : ''}`,
      by: d?.approver,
      step: d?.stepId,
      source: 'history',
      eventId: u.pos.eventId,
    });
  }
  for (const d of decisionsOf('approval_expired')) {
    if (d.onExpiry === 'escalate') continue;
    approvals.push({ at: d.at, stepId: d.stepId, decision: d.onExpiry === 'deny' ? 'deny' : 'approve', by: d.by, groups: [], reason: d.summary, via: 'expiry', outcome: 'accepted' });
  }

  // Approval wait: from the plan that put the step in awaiting_approval to the decision.
  const waitingSince = new Map<string, string>();
  for (const p of decisionsOf('plan')) {
    for (const c of p.diff ?? []) {
      if ((c.change === 'added' || c.change === 'status') && c.to === 'awaiting_approval' && !waitingSince.has(c.step)) waitingSince.set(c.step, p.at);
    }
  }
  for (const a of approvals) {
    const since = waitingSince.get(a.stepId);
    if (since) {
      a.requestedAt = since;
      const w = ms(a.at) - ms(since);
      if (Number.isFinite(w) && w >= 0) a.waitMs = w;
    }
  }
  approvals.sort((a, b) => ms(a.at) - ms(b.at));

  // -- actions
  const actions: ActionEntry[] = x.activities.map((a) => ({
    ...(a.stepId ? { stepId: a.stepId } : {}),
    title: a.title ?? a.summary ?? a.type,
    activity: a.type,
    ...(a.taskQueue ? { taskQueue: a.taskQueue } : {}),
    scheduledAt: a.scheduledAt,
    ...(a.startedAt ? { startedAt: a.startedAt } : {}),
    ...(a.closedAt ? { closedAt: a.closedAt, durationMs: ms(a.closedAt) - ms(a.scheduledAt) } : {}),
    ...(a.attempt ? { attempts: a.attempt } : {}),
    outcome: a.outcome,
    compensation: a.compensation,
    ...(a.result !== undefined ? { result: resultSummary(a.result) } : {}),
    ...(a.failure ? { failure: a.failure.message } : {}),
  }));
  for (const a of x.activities) {
    const what = `${a.type}${a.summary ? ` — ${a.summary}` : ''}`;
    const when = a.closedAt ?? a.scheduledAt;
    const pos = a.closedPos ?? a.pos;
    const tries = a.attempt && a.attempt > 1 ? ` after ${a.attempt} attempts` : '';
    const summary =
      a.outcome === 'completed'
        ? `${what}: completed${tries}${a.result !== undefined ? ` → ${short(a.result)}` : ''}`
        : a.outcome === 'failed' || a.outcome === 'timed_out'
          ? `${what}: ${a.outcome.replace('_', ' ')}${tries}: ${a.failure?.message ?? ''}`
          : `${what}: ${a.outcome}`;
    add(pos, { at: when, kind: a.compensation ? 'compensation' : a.type === 'verify' ? 'verification' : 'action', summary, step: a.stepId, source: 'history', eventId: pos.eventId });
  }

  // -- verification, compensation (history calls + the workflow's verdicts)
  const verification: RemediationReport['verification'] = x.activities
    .filter((a) => a.type === 'verify')
    .map((a) => {
      const r = a.result as { ok?: boolean; detail?: string } | undefined;
      return { at: a.closedAt ?? a.scheduledAt, stepId: a.stepId, summary: r?.detail ?? a.failure?.message ?? a.outcome, ...(typeof r?.ok === 'boolean' ? { ok: r.ok } : {}) };
    });
  for (const d of decisionsOf('verification_failed')) verification.push({ at: d.at, stepId: d.stepId, summary: d.summary, ok: false });
  for (const d of decisionsOf('step_done')) if (d.result.verified === true) verification.push({ at: d.at, stepId: d.stepId, summary: d.summary, ok: true });
  verification.sort((a, b) => ms(a.at) - ms(b.at));
  const compensations: RemediationReport['compensations'] = x.decisions
    .filter((d): d is Extract<PositionedDecision, { kind: 'compensated' | 'compensation_failed' }> => d.kind === 'compensated' || d.kind === 'compensation_failed')
    .map((d) => ({ at: d.at, stepId: d.stepId, summary: d.summary }));

  // -- decision log entries that are not echoes of history events
  for (const d of x.decisions) {
    const by = actorOf(d);
    const base = { at: d.at, source: 'decision-log' as const, seq: d.seq, ...(by ? { by } : {}) };
    const kind = timelineKindOf(d);
    if (!kind) continue;
    const summary = d.kind === 'plan' ? `${d.summary} — playbook ${d.playbook}${d.diff.length ? `; ${d.diff.map(diffText).join('; ')}` : ''}` : d.summary;
    const step = 'stepId' in d ? d.stepId : undefined;
    add(d.pos, { ...base, kind, summary, ...(step ? { step } : {}) });
  }

  // -- timers, search attributes (status changes), runs
  const timers: RemediationReport['timers'] = x.timers.map((t) => ({ summary: t.summary, startedAt: t.startedAt, durationMs: t.durationMs, outcome: t.outcome, closedAt: t.closedAt }));
  for (const t of x.timers) {
    if (t.outcome === 'fired') add({ ...t.pos, sub: 0.2 }, { at: t.closedAt ?? t.startedAt, kind: 'timer', summary: `timer fired: ${t.summary ?? `timer ${t.timerId}`}`, source: 'history', eventId: t.pos.eventId });
  }
  let lastStatus: unknown = input?.detection ? 'planning' : undefined;
  for (const u of x.upserts) {
    const st = u.values.DrwStatus;
    if (st !== undefined && st !== lastStatus) {
      add(u.pos, { at: u.at, kind: 'status', summary: `status ${String(lastStatus ?? '?')} → ${String(st)}${u.values.DrwPendingApproval === true ? ' (approval pending)' : ''}`, source: 'history', eventId: u.pos.eventId });
      lastStatus = st;
    }
  }
  x.runs.forEach((r, i) => {
    if (r.close.kind === 'running') return;
    const pos: Position = { run: i, eventId: r.close.eventId ?? Number.MAX_SAFE_INTEGER, sub: 0, seq: 0 };
    const what =
      r.close.kind === 'continued_as_new'
        ? `run ${r.runId} continued as new (run ${r.close.newRunId ?? '?'})`
        : r.close.kind === 'completed'
          ? `workflow completed: ${r.close.result?.status ?? '?'} (${r.close.result?.resolution ?? ''})`
          : `workflow ${r.close.kind.replace('_', ' ')}${r.close.reason ? `: ${r.close.reason}` : ''}${r.close.failure ? `: ${r.close.failure.message}` : ''}`;
    add(pos, { at: r.close.at ?? '', kind: 'run', summary: what, source: 'history', ...(r.close.eventId ? { eventId: r.close.eventId } : {}) });
  });
  for (const f of x.workflowTaskFailures) add(f.pos, { at: f.at, kind: 'note', summary: `workflow task failed: ${f.message}`, source: 'history', eventId: f.pos.eventId });

  timeline.sort((a, b) => comparePositions(a.pos, b.pos) || ms(a.at) - ms(b.at));

  // -- outcome and SLA
  const lastSa = Object.assign({}, ...x.upserts.map((u) => u.values)) as Record<string, unknown>;
  const status = (result?.status ?? (lastSa.DrwStatus as RemediationStatus | undefined)) as RemediationStatus | undefined;
  const closedAt = x.close.kind !== 'running' && x.close.kind !== 'continued_as_new' ? x.close.at : undefined;
  const slaDeadline = result?.slaDeadline ?? (lastSa.DrwSlaDeadline as string | undefined) ?? (x.carried?.slaDeadlineMs ? new Date(x.carried.slaDeadlineMs).toISOString() : undefined);
  const breached = result?.slaBreached ?? (decisionsOf('escalation').some((d) => d.trigger === 'sla_breached') || Boolean(x.carried?.slaBreached));
  const slaWindow = decisionsOf('sla')[0]?.summary;
  const sla: RemediationReport['sla'] = {
    ...(slaDeadline ? { deadline: slaDeadline } : {}),
    breached,
    status: !slaDeadline ? (breached ? 'breached' : 'none') : breached ? 'breached' : closedAt ? (ms(closedAt) <= ms(slaDeadline) ? 'met' : 'breached') : 'open',
    ...(slaWindow ? { window: slaWindow } : {}),
  };
  const finalPlan = result?.plan ?? lastPlanFromUpdates(x);
  const plans = decisionsOf('plan').map((d) => ({
    version: d.planVersion ?? 0,
    at: d.at,
    why: d.trigger,
    ...(d.playbook ? { playbook: d.playbook } : {}),
    ...(d.policyVersion ? { policyVersion: d.policyVersion } : {}),
    ...(d.selection ? { selection: d.selection } : {}),
    ...(d.by ? { by: d.by } : {}),
    diff: d.diff ?? [],
  }));
  if (x.close.kind === 'running' && x.decisions.length === 0) warnings.push('no decision log in this history: a run begun before the remediation core writes its log only when it ends');

  const totalEvents = runs.reduce((n, r) => n + r.events.length, 0);
  return {
    reportVersion: REPORT_VERSION,
    id: x.workflowId,
    generatedAt: now.toISOString(),
    history: {
      sha256: historyDigest(x.workflowId, runs),
      runs: x.runs.map((r) => ({ runId: r.runId, sha256: r.sha256, events: r.events, ...(r.startedAt ? { startedAt: r.startedAt } : {}), ...(r.closedAt ? { closedAt: r.closedAt } : {}), ...(r.continuedFrom ? { continuedFrom: r.continuedFrom } : {}), close: r.close.kind })),
      events: totalEvents,
      decisionsFrom: x.decisionsSource,
      decisionsDropped: x.decisionsDropped,
    },
    ...(detection ? { detection } : {}),
    ...(input?.dedupeKey || x.carried?.dedupeKey ? { dedupeKey: x.carried?.dedupeKey ?? input?.dedupeKey } : {}),
    ...(input?.requestedBy ? { requestedBy: x.carried?.requestedBy ?? input.requestedBy } : {}),
    outcome: {
      workflow: x.close.kind,
      ...(status ? { status } : {}),
      ...(result?.resolution ? { resolution: result.resolution } : {}),
      ...(x.startedAt ? { startedAt: x.startedAt } : {}),
      ...(closedAt ? { closedAt, durationMs: ms(closedAt) - ms(x.startedAt) } : {}),
      ...(result?.ticket ? { ticket: result.ticket } : {}),
      severity: result?.severity ?? (lastSa.DrwSeverity as string | undefined) ?? detection?.severity,
      riskScore: result?.riskScore ?? (lastSa.DrwRiskScore as number | undefined) ?? risk,
      findingCount: result?.findingCount ?? (x.carried ? x.carried.facts.findingCount : 1) + detections.filter((d) => d.kind === 'repeat').length,
      ...((result?.plan?.playbook ?? lastSa.DrwPlaybook) ? { playbook: (result?.plan?.playbook ?? lastSa.DrwPlaybook) as string } : {}),
      ...((result?.plan?.policyVersion ?? lastSa.DrwPolicyVersion) ? { policyVersion: (result?.plan?.policyVersion ?? lastSa.DrwPolicyVersion) as string } : {}),
    },
    sla,
    detections,
    plans,
    approvals,
    riskChanges,
    actions,
    verification,
    compensations,
    timers,
    searchAttributes: x.upserts.map((u) => ({ at: u.at, values: u.values })),
    ...(finalPlan ? { finalPlan } : {}),
    timeline: timeline.map(({ pos: _pos, ...e }) => e),
    warnings,
  };
}

/** Where a decision goes in the timeline; undefined for decisions the history events already show. */
function timelineKindOf(d: PositionedDecision): TimelineKind | undefined {
  switch (d.kind) {
    case 'plan':
    case 'sla':
    case 'escalation':
    case 'rejected':
      return d.kind;
    case 'enriched':
      return 'enrichment';
    case 'verification_failed':
      return 'verification';
    case 'compensated':
    case 'compensation_failed':
      return 'compensation';
    case 'approval_expired':
      return d.onExpiry === 'deny' ? 'denial' : d.onExpiry === 'auto_approve' ? 'approval' : undefined;
    case 'policy_updated':
    case 'policy_update_failed':
      return 'policy';
    case 'operator':
      return d.action === 'pause' || d.action === 'resume' ? 'operator' : undefined;
    case 'step_failed':
    case 'step_blocked':
    case 'step_cancelled':
      return 'step';
    case 'step_done':
      return d.result.skipped ? 'step' : undefined;
    case 'enrichment_failed':
    case 'ticket_update_failed':
    case 'window_hold':
    case 'continued_as_new':
    case 'final':
      return 'note';
    case 'legacy':
      return LEGACY_TIMELINE[d.was];
    default:
      return undefined;
  }
}

/** Pre-core entries that were not echoes of history events, by their old category. */
const LEGACY_TIMELINE: Record<string, TimelineKind | undefined> = { note: 'note', sla: 'sla', verification: 'verification', compensation: 'compensation', rejected: 'rejected' };

function lastPlanFromUpdates(x: Extracted): Plan | undefined {
  const done = x.updates.filter((u) => u.outcome === 'completed' && u.result && typeof u.result === 'object' && 'steps' in (u.result as object));
  return done.length ? (done[done.length - 1].result as Plan) : undefined;
}

export function diffText(c: PlanDiffEntry): string {
  switch (c.change) {
    case 'added':
      return `+${c.step} (${c.to})${c.why ? ` — ${c.why}` : ''}`;
    case 'removed':
      return `-${c.step}${c.why ? ` — ${c.why}` : ''}`;
    case 'status':
      return `${c.step}: ${c.from} → ${c.to}${c.why ? ` — ${c.why}` : ''}`;
    case 'params':
      return `${c.step}: params ${c.from} → ${c.to}`;
    case 'approval_lapsed':
      return `${c.step}: approval by ${c.from} lapsed${c.why ? ` — ${c.why}` : ''}`;
    default:
      return `${c.step}: ${c.change}`;
  }
}
