/**
 * Policy what-if: recovers a remediation's decision inputs from its history (the initial
 * detection, the enrichment recorded in the decision log, risk changes, repeats, approvals,
 * escalations, step outcomes, resolution) and replays them twice through the pure planner:
 * with the policy the workflow loaded (recorded in history) and with a candidate policy.
 * Plan by plan, it says where the candidate would have planned differently.
 */
import type { Detection } from '../domain/detection';
import { canonicalJson } from '../planner/hash';
import type { PolicySet } from '../planner/policy-schema';
import type { ApprovalDecision, FindingResolved, OperatorAction, ResultPlan, ResultStep, RiskScoreChanged } from '../signals';
import { comparePositions, extract, type Extracted, type Position } from './extract';
import { historyDigest, type RunHistory } from './history';
import { Replayer, type PlanSnapshot, type ReplayInit, type ReplayInput, type ReplayNote } from './replay';

type Positioned = ReplayInput & { pos: Position };

export interface RecoveredInputs {
  init: Omit<ReplayInit, 'fixedPolicy'>;
  inputs: Positioned[];
  /** The plans the decision log recorded (version, playbook, policy). */
  recordedPlans: { version: number; playbook?: string; policyVersion?: string; at: string; summary: string }[];
  recordedPolicies: string[];
  actualFinalPlan?: ResultPlan;
  warnings: string[];
}

/** Turns an extracted history into the ordered inputs a replay needs. */
export function recoverInputs(x: Extracted): RecoveredInputs {
  const warnings = [...x.warnings];
  const input = x.input;
  const carried = x.carried;
  const detection = (carried?.detection ?? input?.detection) as Detection | undefined;
  if (!detection) throw new Error('the history has no remediation input (is it a drw remediation workflow?)');
  const inputs: Positioned[] = [];
  // A typed decision log (remediation core); a pre-core log is only sentences, so its step outcomes come from the activities.
  const hasLog = x.decisions.some((d) => d.kind === 'received' || d.kind === 'enriched' || d.kind === 'step_started' || d.kind === 'continued_as_new');
  const push = (p: Position, at: string, v: ReplayInput) => inputs.push({ ...v, at, pos: p } as Positioned);

  for (const p of x.policies) push(p.pos, p.at, { kind: 'policy', policy: p.policy, at: p.at, label: `policy ${p.policy.version} loaded` });

  // Enrichment: the CMDB record the workflow got, placed where the plan used it.
  if (!carried) {
    const enriched = x.decisions.find((d) => d.kind === 'enriched');
    const c = x.cmdb[0];
    if (enriched || c) {
      const at = enriched ?? { pos: c.pos, at: c.at };
      push(at.pos, at.at, { kind: 'enrich', ...(c ? { cmdb: c.facts } : {}), at: at.at, label: `the initial plan (${c ? 'enrichment from the CMDB lookup' : 'detection facts'})` });
    } else if (x.policies.length) {
      const p = x.policies[0];
      push({ ...p.pos, sub: 0.9 }, p.at, { kind: 'enrich', at: p.at, label: 'the initial plan (detection facts)' });
      warnings.push('no enrichment recorded; planning on the detection facts');
    }
  }

  for (const s of x.signals) {
    const by = s.identity;
    switch (s.name) {
      case 'riskScoreChanged': {
        const m = s.payload as RiskScoreChanged;
        push(s.pos, s.at, { kind: 'risk', riskScore: m?.riskScore, reason: m?.reason, by: m?.by, at: s.at, label: `risk score → ${m?.riskScore}${m?.reason ? ` (${m.reason})` : ''}` });
        break;
      }
      case 'findingAdded':
        push(s.pos, s.at, { kind: 'repeat', detection: s.payload, at: s.at, label: 'repeat of the finding' });
        break;
      case 'findingResolved': {
        const m = s.payload as FindingResolved | undefined;
        push(s.pos, s.at, { kind: 'resolved', by: m?.by, at: s.at, label: 'finding resolved at the source' });
        break;
      }
      case 'approveSignal':
      case 'denySignal': {
        const d = s.payload as ApprovalDecision;
        const decision = s.name === 'approveSignal' ? 'approve' : 'deny';
        push(s.pos, s.at, { kind: 'decision', decision, stepId: d?.stepId, approver: d?.approver, groups: d?.groups ?? [], reason: d?.reason, via: 'signal', at: s.at, label: `${d?.approver} ${decision === 'approve' ? 'approves' : 'denies'} ${d?.stepId} (signal)` });
        break;
      }
      case 'cancel':
      case 'falsePositive':
      case 'pause':
      case 'resume': {
        const m = s.payload as OperatorAction;
        push(s.pos, s.at, { kind: 'operator', action: s.name, by: m?.by ?? by ?? 'operator', at: s.at, label: `${s.name} by ${m?.by ?? 'operator'}` });
        break;
      }
      default:
        break;
    }
  }
  for (const u of x.updates) {
    if (u.outcome === 'rejected' || (u.name !== 'approve' && u.name !== 'deny')) continue;
    const d = u.payload as ApprovalDecision;
    push(u.pos, u.at, { kind: 'decision', decision: u.name, stepId: d?.stepId, approver: d?.approver, groups: d?.groups ?? [], reason: d?.reason, via: 'update', at: u.at, label: `${d?.approver} ${u.name === 'approve' ? 'approves' : 'denies'} ${d?.stepId}` });
  }

  if (hasLog) {
    // Decisions made before the carried state are already in it.
    const after = carried?.seq ?? 0;
    for (const d of x.decisions) {
      if (d.seq <= after) continue;
      const at = d.at;
      const label = d.summary;
      switch (d.kind) {
        case 'approval_expired':
          if (d.onExpiry !== 'escalate') push(d.pos, at, { kind: 'expiry', decision: d.onExpiry === 'deny' ? 'deny' : 'approve', stepId: d.stepId, at, label });
          break;
        case 'escalation':
          // Failed steps and verifications escalate inside the core; time-driven escalations are inputs.
          if (d.trigger === 'sla_breached' || d.trigger === 'approval_expired') push(d.pos, at, { kind: 'escalate', trigger: d.trigger, at, label });
          break;
        case 'verification_failed':
          push(d.pos, at, { kind: 'verificationFailed', stepId: d.stepId, note: d.error, at, label });
          break;
        case 'change_previewed':
          push(d.pos, at, { kind: 'previewed', stepId: d.stepId, repository: d.repository, files: d.files, baseCommit: d.baseCommit, digest: d.digest, ...(d.noChange ? { noChange: true } : {}), at, label });
          break;
        case 'step_started':
          push(d.pos, at, { kind: 'step', stepId: d.stepId, outcome: 'started', at, label });
          break;
        case 'step_done':
          push(d.pos, at, { kind: 'step', stepId: d.stepId, outcome: 'done', result: d.result, at, label });
          break;
        case 'step_failed':
          push(d.pos, at, { kind: 'step', stepId: d.stepId, outcome: 'failed', note: d.error, at, label });
          break;
        case 'step_blocked':
          push(d.pos, at, { kind: 'step', stepId: d.stepId, outcome: 'blocked', note: d.reason, at, label });
          break;
        case 'step_cancelled':
          push(d.pos, at, { kind: 'step', stepId: d.stepId, outcome: 'cancelled', at, label });
          break;
        case 'compensated':
          push(d.pos, at, { kind: 'step', stepId: d.stepId, outcome: 'compensated', at, label });
          break;
        case 'final':
          push(d.pos, at, { kind: 'final', status: d.status, resolution: d.resolution, at, label });
          break;
        default:
          break;
      }
    }
  } else {
    // No typed decision log (a run begun before the remediation core): step outcomes from the activities their summaries name.
    warnings.push('no decision log: step outcomes come from activity events; escalations and verification results are not known');
    const seen = new Set<string>();
    for (const a of x.activities) {
      if (!a.stepId || a.compensation) continue;
      if (!seen.has(a.stepId)) {
        seen.add(a.stepId);
        push(a.pos, a.scheduledAt, { kind: 'step', stepId: a.stepId, outcome: 'started', at: a.scheduledAt, label: `${a.stepId} started` });
      }
      if (a.type === 'verify' || !a.closedPos || !a.closedAt) continue;
      if (a.outcome === 'completed') push(a.closedPos, a.closedAt, { kind: 'step', stepId: a.stepId, outcome: 'done', result: (a.result ?? undefined) as Record<string, unknown> | undefined, at: a.closedAt, label: `${a.stepId} done` });
      else if (a.outcome === 'failed' || a.outcome === 'timed_out') push(a.closedPos, a.closedAt, { kind: 'step', stepId: a.stepId, outcome: 'failed', note: a.failure?.message, at: a.closedAt, label: `${a.stepId} failed` });
    }
  }

  inputs.sort((a, b) => comparePositions(a.pos, b.pos));

  const result = x.close.kind === 'completed' ? x.close.result : undefined;
  const recordedPlans = x.decisions
    .filter((d): d is Extract<typeof d, { kind: 'plan' }> => d.kind === 'plan' && d.planVersion > (carried?.plan.version ?? 0))
    .map((d) => ({ version: d.planVersion, playbook: d.playbook, policyVersion: d.policyVersion, at: d.at, summary: d.summary }));
  const c = carried;
  return {
    init: {
      remediationId: x.workflowId,
      detection,
      requestedBy: c?.requestedBy ?? input?.requestedBy ?? 'unknown',
      ...(x.planningChecks ? { planningChecks: true } : {}),
      ...(input?.receivedAt ? { receivedAt: input.receivedAt } : {}),
      ...(input?.options?.timeScale !== undefined ? { timeScale: input.options.timeScale } : {}),
      ...(c
        ? {
            carried: {
              facts: c.facts,
              plan: c.plan,
              approvals: c.approvals ?? [],
              escalations: c.escalations ?? [],
              verificationFailures: c.verificationFailures ?? 0,
              cancelled: Boolean(c.cancelled),
              falsePositive: Boolean(c.falsePositive),
              resolvedAtSource: Boolean(c.resolvedAtSource),
              policy: c.policy,
            },
          }
        : {}),
    },
    inputs,
    recordedPlans,
    recordedPolicies: [...new Set([...(c?.policy ? [c.policy.version] : []), ...x.policies.map((p) => p.policy.version)])],
    ...(result?.plan ? { actualFinalPlan: result.plan } : {}),
    warnings,
  };
}

// ---- comparison ----

export interface PlanDifference {
  kind: 'playbook' | 'added' | 'removed' | 'approval' | 'status' | 'params';
  step?: string;
  actual?: string;
  candidate?: string;
  detail: string;
}

export interface ComparisonPoint {
  at: string;
  trigger: string;
  actual: { version: number; playbook: string };
  candidate: { version: number; playbook: string };
  differences: PlanDifference[];
}

export interface WhatIfResult {
  id: string;
  source?: string;
  historySha256: string;
  recordedPolicies: string[];
  candidatePolicy: string;
  /** Whether replaying with the recorded policy reproduces the recorded plans. */
  fidelity: { checked: boolean; matches: boolean; detail: string };
  comparedPlans: number;
  /** Plan points where the candidate differs (each listed when its differences change). */
  points: ComparisonPoint[];
  final: { actual: PlanSummary; candidate: PlanSummary; differences: PlanDifference[] };
  /** What the candidate would have done differently with reality's inputs (refused approvals, steps it would not have run). */
  notes: ReplayNote[];
  differs: boolean;
  warnings: string[];
}

export interface PlanSummary {
  version: number;
  playbook: string;
  policyVersion: string;
  steps: { id: string; status: string; approval?: string }[];
}

const stepKey = (s: ResultStep) => (s.id.startsWith(`${s.reason.playbook}.`) ? s.id.slice(s.reason.playbook.length + 1) : s.id);

function approvalText(s: ResultStep | undefined): string {
  const a = s?.approval;
  if (!a) return 'no approval';
  const who = [a.users.length ? `users [${a.users.join(', ')}]` : '', a.groups.length ? `groups [${a.groups.join(', ')}]` : ''].filter(Boolean).join(' or ');
  return `approval by ${who}${a.quorum > 1 ? `, quorum ${a.quorum}` : ''}`;
}

export function summarizePlan(p: ResultPlan): PlanSummary {
  return { version: p.version, playbook: p.playbook, policyVersion: p.policyVersion, steps: p.steps.map((s) => ({ id: s.id, status: s.status, ...(s.approval ? { approval: approvalText(s) } : {}) })) };
}

/** How plan `c` (candidate) differs from plan `a` (actual), step by step (steps matched by their playbook step id). */
export function comparePlans(a: ResultPlan, c: ResultPlan): PlanDifference[] {
  const out: PlanDifference[] = [];
  if (a.playbook !== c.playbook) out.push({ kind: 'playbook', actual: a.playbook, candidate: c.playbook, detail: `playbook ${a.playbook || '(none)'} → ${c.playbook || '(none)'}` });
  const am = new Map(a.steps.map((s) => [stepKey(s), s]));
  const cm = new Map(c.steps.map((s) => [stepKey(s), s]));
  for (const [k, s] of cm) {
    if (!am.has(k)) out.push({ kind: 'added', step: k, candidate: s.status, detail: `step ${k} (${s.action}) added${s.status !== 'pending' ? `, ${s.status}` : ''}${s.approval ? `, needs ${approvalText(s)}` : ''}` });
  }
  for (const [k, s] of am) {
    if (!cm.has(k)) out.push({ kind: 'removed', step: k, actual: s.status, detail: `step ${k} (${s.action}) removed (was ${s.status})` });
  }
  for (const [k, x] of am) {
    const y = cm.get(k);
    if (!y) continue;
    const ax = approvalText(x);
    const cx = approvalText(y);
    const approvalChanged = ax !== cx;
    if (approvalChanged) {
      out.push({ kind: 'approval', step: k, actual: ax, candidate: cx, detail: `step ${k}: ${ax} → ${cx}${x.status !== y.status ? ` (${x.status} → ${y.status})` : ''}` });
    } else if (x.status !== y.status) {
      out.push({ kind: 'status', step: k, actual: x.status, candidate: y.status, detail: `step ${k}: ${x.status} → ${y.status}${y.note ? ` (${y.note})` : ''}` });
    }
    if (x.action !== y.action || canonicalJson(x.params) !== canonicalJson(y.params)) {
      out.push({ kind: 'params', step: k, actual: `${x.action} ${canonicalJson(x.params)}`, candidate: `${y.action} ${canonicalJson(y.params)}`, detail: `step ${k}: ${x.action !== y.action ? `action ${x.action} → ${y.action}` : `params ${canonicalJson(x.params)} → ${canonicalJson(y.params)}`}` });
    }
  }
  return out;
}

const diffKey = (ds: PlanDifference[]) => ds.map((d) => `${d.kind}|${d.step ?? ''}|${d.actual ?? ''}|${d.candidate ?? ''}`).sort().join('\n');

/** Replays one remediation's history through a candidate policy and compares it with the recorded one. */
export function whatIf(runs: RunHistory[], candidate: PolicySet, opts: { source?: string; workflowId?: string } = {}): WhatIfResult {
  const x = extract(runs, { workflowId: opts.workflowId });
  const rec = recoverInputs(x);
  const actual = new Replayer({ ...rec.init });
  const cand = new Replayer({ ...rec.init, fixedPolicy: candidate });
  const points: ComparisonPoint[] = [];
  let compared = 0;
  let lastKey = '';
  for (const input of rec.inputs) {
    const a = actual.apply(input);
    const c = cand.apply(input);
    if (!a && !c) continue;
    compared++;
    const differences = comparePlans(actual.plan, cand.plan);
    const key = diffKey(differences);
    if (key !== lastKey && (differences.length > 0 || lastKey !== '')) {
      points.push({ at: input.at, trigger: input.label, actual: { version: actual.plan.version, playbook: actual.plan.playbook }, candidate: { version: cand.plan.version, playbook: cand.plan.playbook }, differences });
    }
    lastKey = key;
  }
  const fidelity = checkFidelity(rec.recordedPlans, actual.plans, Boolean(rec.init.carried));
  const actualFinal = rec.actualFinalPlan ?? actual.plan;
  const finalDiffs = comparePlans(actualFinal, cand.plan);
  const warnings = [...rec.warnings];
  if (fidelity.checked && !fidelity.matches) warnings.push(`replaying with the recorded policy does not reproduce the recorded plans (${fidelity.detail}); some differences may come from the replay, not the policy`);
  if (rec.recordedPolicies.length === 0) warnings.push('no policy recorded in this history: "actual" plans are the recorded ones only');
  const notes = cand.notes.filter((n) => !actual.notes.some((m) => m.input === n.input && m.message === n.message));
  return {
    id: x.workflowId,
    ...(opts.source ? { source: opts.source } : {}),
    historySha256: historyDigest(x.workflowId, runs),
    recordedPolicies: rec.recordedPolicies,
    candidatePolicy: candidate.version,
    fidelity,
    comparedPlans: compared,
    points,
    final: { actual: summarizePlan(actualFinal), candidate: summarizePlan(cand.plan), differences: finalDiffs },
    notes,
    differs: points.some((p) => p.differences.length > 0) || finalDiffs.length > 0 || notes.length > 0,
    warnings,
  };
}

function checkFidelity(recorded: RecoveredInputs['recordedPlans'], replayed: PlanSnapshot[], carried: boolean): WhatIfResult['fidelity'] {
  if (recorded.length === 0) return { checked: false, matches: false, detail: 'no plans in the decision log' };
  const rep = replayed.filter((p) => !p.trigger.startsWith('state carried over from the previous run'));
  const byVersion = new Map(rep.map((p) => [p.version, p]));
  const mismatches: string[] = [];
  for (const r of recorded) {
    const p = byVersion.get(r.version);
    if (!p) mismatches.push(`v${r.version} not reproduced`);
    else if (r.playbook && p.playbook !== r.playbook) mismatches.push(`v${r.version} playbook ${p.playbook} instead of ${r.playbook}`);
  }
  const maxRecorded = Math.max(...recorded.map((r) => r.version));
  const extra = rep.filter((p) => p.version > maxRecorded);
  if (extra.length) mismatches.push(`${extra.length} plan version(s) beyond v${maxRecorded}`);
  return mismatches.length
    ? { checked: true, matches: false, detail: mismatches.slice(0, 5).join('; ') }
    : { checked: true, matches: true, detail: `${recorded.length} recorded plan version(s) reproduced${carried ? ' (from the carried state)' : ''}` };
}

// ---- text ----

export function formatWhatIf(r: WhatIfResult): string {
  const lines: string[] = [];
  const head = `${r.id}${r.source ? ` (${r.source})` : ''}`;
  lines.push(`${head}: ${r.differs ? 'the candidate policy plans differently' : 'no difference'}`);
  lines.push(`  recorded policy ${r.recordedPolicies.join(', ') || '(unknown)'} → candidate ${r.candidatePolicy}; ${r.comparedPlans} plan change(s) compared; history sha256 ${r.historySha256}`);
  if (r.fidelity.checked) lines.push(`  replay of the recorded policy: ${r.fidelity.matches ? 'matches the history' : 'DIFFERS from the history'} (${r.fidelity.detail})`);
  for (const p of r.points) {
    lines.push(`  after ${p.trigger} [${p.at}]: actual plan v${p.actual.version} (${p.actual.playbook || '-'}) vs candidate v${p.candidate.version} (${p.candidate.playbook || '-'})`);
    if (p.differences.length === 0) lines.push('    plans agree again');
    for (const d of p.differences) lines.push(`    ${d.kind.padEnd(8)} ${d.detail}`);
  }
  if (r.notes.length) {
    lines.push('  with the candidate policy:');
    for (const n of r.notes) lines.push(`    ${n.message} [${n.at}]`);
  }
  lines.push(`  final: actual ${r.final.actual.playbook || '-'} v${r.final.actual.version}, candidate ${r.final.candidate.playbook || '-'} v${r.final.candidate.version}${r.final.differences.length ? '' : ' (same)'}`);
  for (const d of r.final.differences) lines.push(`    ${d.kind.padEnd(8)} ${d.detail}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
