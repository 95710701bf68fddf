/**
 * The planner: (policy, remediation state) → plan. Pure and deterministic: no clock, no
 * I/O, no randomness, so the workflow can call it on every signal and replay gets the same
 * answer, and `drw plan --dry-run` shows exactly what a workflow would do.
 */
import { answerFact, policyAsk, type PolicyAnswer, type PolicyAsk, type PolicyInputFact } from './policy-engine';
import { SEVERITY_RANK } from '../domain/detection';
import { evaluate } from './conditions';
import { paramsDigest, stepDigest } from './digest';
import { canonicalJson, fingerprint } from './hash';
import { selectPlaybook, type MatchResult } from './match';
import type { Playbook, PolicySet, StepDef } from './policy-schema';
import { renderParams } from './template';
import {
  SETTLED,
  type Action,
  type ChangeType,
  type ApprovalRecord,
  type EscalationTrigger,
  type Facts,
  type Plan,
  type PlanDiffEntry,
  type PlanResult,
  type PlannerState,
  type PlanStep,
  type StepStatus,
} from './types';

/** Activities that only read or tell: cancelling them mid-flight cannot leave a system half-changed. */
const SAFE_TO_CANCEL: ReadonlySet<Action> = new Set(['verify', 'cmdb.lookup', 'notify']);
/**
 * What still makes sense once the source says the finding is resolved. Lifting a containment
 * drw applied is among them: without it a resolved finding would leave the host isolated.
 */
const KEEP_WHEN_RESOLVED: ReadonlySet<Action> = new Set(['verify', 'ticket.open', 'ticket.update', 'ticket.close', 'notify', 'endpoint.release']);

/** Used when no playbook of the policy matches: a person must look at it. */
export const TRIAGE_FALLBACK: Playbook = {
  id: 'builtin-triage',
  name: 'Built-in triage (no playbook matched)',
  priority: -1_000_000,
  match: {},
  sla: {},
  steps: [
    {
      id: 'triage-ticket',
      action: 'ticket.open',
      title: 'Open a triage ticket',
      params: { priority: 'medium', labels: ['triage'] },
      disruptive: false,
      timeout: 60_000,
      retry: { maximumAttempts: 5, initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 60_000 },
    },
  ],
  escalation: [],
};

/** The values conditions and templates read: facts plus derived conveniences. */
export function conditionContext(
  state: Pick<PlannerState, 'facts' | 'verificationFailures' | 'escalations' | 'remediationId' | 'previous'>,
): Record<string, unknown> {
  const f = state.facts;
  // Short step ids (as written in the playbook) of what already happened, e.g. "doneSteps contains contain".
  const short = (id: string) => id.slice(id.lastIndexOf('.') + 1);
  return {
    doneSteps: (state.previous?.steps ?? []).filter((s) => s.status === 'done').map((s) => short(s.id)),
    ...f,
    severityRank: SEVERITY_RANK[f.severity],
    verificationFailures: state.verificationFailures,
    escalations: state.escalations,
    remediationId: state.remediationId,
    environment: f.asset.environment,
  };
}

export function choosePlaybook(policy: PolicySet, facts: Facts): MatchResult {
  return (
    selectPlaybook(policy.playbooks, facts) ?? {
      playbook: TRIAGE_FALLBACK,
      matchedOn: {},
      explanation: 'no playbook matched; built-in triage',
    }
  );
}

interface Desired {
  def: StepDef;
  id: string;
  section: 'steps' | 'escalation';
  trigger?: EscalationTrigger;
  seen: Record<string, unknown>;
  /** The policy engine could not answer the step's question and the playbook says block. */
  blocked?: string;
}

/** The policy engine's answer to a step's or an approval's question; unanswered ones are collected to be asked. */
function askEngine(opa: { path: string; input?: PolicyInputFact[] }, state: PlannerState, asks: Map<string, PolicyAsk>): PolicyAnswer | undefined {
  const ask = policyAsk(opa, state.facts);
  const answer = state.policyAnswers?.[ask.key];
  if (!answer) asks.set(ask.key, ask);
  return answer;
}

function desiredSteps(pb: Playbook, state: PlannerState, ctx: Record<string, unknown>, asks: Map<string, PolicyAsk>): Desired[] {
  const out: Desired[] = [];
  if (state.cancelled || state.falsePositive) return out;
  const take = (def: StepDef, id: string, section: Desired['section'], trigger?: EscalationTrigger) => {
    const seen: Record<string, unknown> = {};
    if (def.when && !evaluate(def.when.cond, ctx, seen)) return;
    if (state.resolvedAtSource && !KEEP_WHEN_RESOLVED.has(def.action)) return;
    let blocked: string | undefined;
    if (def.opa) {
      const answer = askEngine(def.opa, state, asks);
      // Not asked yet: the step waits for the answer (the driver asks before anything runs).
      if (!answer) return;
      seen.opa = answerFact(answer);
      if (answer.error !== undefined) {
        if (def.opa.onUnavailable === 'skip') return;
        if (def.opa.onUnavailable === 'block') blocked = `the policy engine did not answer ${def.opa.path}: ${answer.error}`;
      } else if (answer.result !== true) return;
    }
    out.push({ def, id, section, trigger, seen, ...(blocked ? { blocked } : {}) });
  };
  for (const def of pb.steps) take(def, `${pb.id}.${def.id}`, 'steps');
  // Each trigger inserts the escalation steps once, in the order the triggers happened.
  for (const trigger of unique(state.escalations)) {
    for (const def of pb.escalation) take(def, `${pb.id}.${trigger}.${def.id}`, 'escalation', trigger);
  }
  return out;
}

/** The latest denial of a step, voided or not (a denial of earlier content still counts against running it unapproved). */
function lastDenial(records: ApprovalRecord[], stepId: string): ApprovalRecord | undefined {
  const denials = records.filter((r) => r.stepId === stepId && r.decision === 'deny' && r.required);
  return denials[denials.length - 1];
}

function unique<T>(xs: T[]): T[] {
  return xs.filter((x, i) => xs.indexOf(x) === i);
}

/** The decisions that count for a step as it is now: for its digest and not voided (strict), else for its fingerprint. */
function approvalsFor(records: ApprovalRecord[], step: Pick<PlanStep, 'id' | 'fingerprint' | 'digest'>, strict: boolean): { approvedBy: string[]; denied?: ApprovalRecord } {
  // A record made before step digests (a carried state) still binds by fingerprint.
  const mine = records.filter((r) => r.stepId === step.id && (strict && r.digest !== undefined ? r.digest === step.digest && !r.void : r.fingerprint === step.fingerprint));
  const denied = mine.find((r) => r.decision === 'deny');
  const approvedBy = unique(mine.filter((r) => r.decision === 'approve').map((r) => r.approver));
  return { approvedBy, denied };
}


const PRODUCTION = /^prod(uction)?$/i;

/**
 * The change record a step runs under: its own `change`, else the playbook's default for a
 * disruptive step on a production asset; a normal change above the emergency risk score is an
 * emergency change (the CAB that approves it is the emergency one).
 */
export function changeTypeOf(def: Pick<StepDef, 'change' | 'disruptive'>, pb: Pick<Playbook, 'changeControl' | 'changeWindow'>, facts: Pick<Facts, 'riskScore' | 'asset'>): ChangeType | undefined {
  const cc = pb.changeControl;
  const byDefault = cc && def.disruptive && PRODUCTION.test(facts.asset.environment ?? '') && cc.disruptiveInProduction !== 'none' ? cc.disruptiveInProduction : undefined;
  const type = def.change ?? byDefault;
  const threshold = cc?.emergencyAtRiskScore ?? pb.changeWindow?.emergencyOverride?.minRiskScore;
  return type === 'normal' && threshold !== undefined && facts.riskScore >= threshold ? 'emergency' : type;
}

function buildStep(d: Desired, pb: Playbook, state: PlannerState, ctx: Record<string, unknown>, match: MatchResult, asks: Map<string, PolicyAsk>): PlanStep {
  const def = d.def;
  const params = renderParams(def.params, ctx);
  const approvalSeen: Record<string, unknown> = {};
  let approvalNeeded = def.approval && (!def.approval.when || evaluate(def.approval.when.cond, ctx, approvalSeen));
  if (approvalNeeded && def.approval?.opa) {
    // Only the engine's `true` lets automation go ahead; no answer (yet) keeps the approval.
    const answer = askEngine(def.approval.opa, state, asks);
    if (answer) approvalSeen.opa = answerFact(answer);
    if (answer?.error === undefined && answer?.result === true) approvalNeeded = false;
  }
  // A denial sticks: once denied, the step needs a new approval even if its rule no longer asks for one.
  const denial = state.strictApprovals && !approvalNeeded ? lastDenial(state.approvals, d.id) : undefined;
  if (denial) approvalSeen.deniedBefore = `${denial.approver} at ${denial.at}`;
  const approvalReq = denial
    ? { ...denial.required! }
    : def.approval && approvalNeeded
    ? {
        users: def.approval.users,
        groups: def.approval.groups,
        quorum: def.approval.quorum,
        allowRequester: def.approval.allowRequester,
        expiresAfterMs: def.approval.expiresAfter,
        onExpiry: def.approval.onExpiry,
      }
    : undefined;
  const compensation = def.compensation ? { action: def.compensation.action, params: renderParams(def.compensation.params, ctx) } : undefined;
  const fp = fingerprint({ action: def.action, params, approval: approvalReq ?? null, compensation: compensation ?? null });
  // A target resolved for this step (a previewed change) counts only for the parameters it was made for.
  const own = state.targets?.[d.id];
  const target = own ? (own.forParams === undefined || own.forParams === paramsDigest(params) ? own : undefined) : state.targets?.[def.action];
  const timeoutMs = def.timeout;
  const retry = {
    maximumAttempts: def.retry.maximumAttempts,
    initialIntervalMs: def.retry.initialInterval,
    backoffCoefficient: def.retry.backoffCoefficient,
    maximumIntervalMs: def.retry.maximumInterval,
  };
  const verify = def.verify ? { intervalMs: def.verify.interval, deadlineMs: def.verify.deadline } : undefined;
  const cw = pb.changeWindow;
  const emergency = Boolean(cw?.emergencyOverride && state.facts.riskScore >= cw.emergencyOverride.minRiskScore);
  const override = def.disruptive && emergency ? `emergency override: risk score ${state.facts.riskScore} ≥ ${cw!.emergencyOverride!.minRiskScore}` : undefined;
  const change = changeTypeOf(def, pb, state.facts);
  const digest = stepDigest({ action: def.action, params, target, disruptive: def.disruptive, timeoutMs, retry, compensation, verify, ...(change ? { change } : {}) });
  return {
    id: d.id,
    action: def.action,
    title: def.title ?? `${def.action} (${def.id})`,
    params,
    status: 'pending',
    reason: {
      playbook: pb.id,
      section: d.section,
      rule: [def.when?.text, def.opa ? `policy engine ${def.opa.path} is true` : undefined].filter(Boolean).join(' and ') || 'always',
      facts: { ...match.matchedOn, ...d.seen, ...approvalSeen },
      ...(d.trigger ? { trigger: d.trigger } : {}),
    },
    fingerprint: fp,
    digest,
    ...(target ? { target } : {}),
    ...(approvalReq ? { approval: { ...approvalReq, approvedBy: [] } } : {}),
    ...(def.approval ? { approvalRule: { users: def.approval.users, groups: def.approval.groups } } : {}),
    disruptive: def.disruptive,
    ...(override ? { windowOverride: override } : {}),
    ...(change ? { change } : {}),
    ...(compensation ? { compensation } : {}),
    timeoutMs,
    retry,
    ...(verify ? { verify } : {}),
    requestedBy: state.requestedBy,
  };
}

/** Decides a not-yet-run step's status from its approvals. */
function openStatus(step: PlanStep, records: ApprovalRecord[], strict: boolean): { status: StepStatus; note?: string } {
  if (!step.approval) return { status: 'pending' };
  const { approvedBy, denied } = approvalsFor(records, step, strict);
  step.approval.approvedBy = approvedBy;
  if (denied) {
    step.approval.deniedBy = denied.approver;
    return { status: 'skipped', note: `denied by ${denied.approver}: ${denied.reason}` };
  }
  if (approvedBy.length >= step.approval.quorum) return { status: 'pending', note: `approved by ${approvedBy.join(', ')}` };
  return { status: 'awaiting_approval', note: `${approvedBy.length}/${step.approval.quorum} approvals` };
}

function withdrawReason(prev: PlanStep, state: PlannerState, pb: Playbook, policyVersion: string): string {
  if (state.cancelled) return 'remediation cancelled';
  if (state.falsePositive) return 'marked a false positive';
  if (state.resolvedAtSource) return 'finding resolved at the source';
  if (prev.reason.playbook !== pb.id) return `playbook changed from ${prev.reason.playbook} to ${pb.id}`;
  // A policy update that drops the step is not its condition failing ("condition no longer holds: always").
  const defs = prev.reason.section === 'escalation' ? pb.escalation : pb.steps;
  const infix = prev.reason.section === 'escalation' ? `${prev.reason.trigger}.` : '';
  if (!defs.some((d) => `${pb.id}.${infix}${d.id}` === prev.id)) return `step removed from playbook ${pb.id} (policy ${policyVersion})`;
  return `condition no longer holds: ${prev.reason.rule}`;
}

export function buildPlan(policy: PolicySet, state: PlannerState): PlanResult {
  const ctx = conditionContext(state);
  const match = choosePlaybook(policy, state.facts);
  const pb = match.playbook;
  const prev = state.previous;
  const prevById = new Map((prev?.steps ?? []).map((s) => [s.id, s]));
  const asks = new Map<string, PolicyAsk>();
  const desired = desiredSteps(pb, state, ctx, asks);
  const desiredIds = new Set(desired.map((d) => d.id));
  const diff: PlanDiffEntry[] = [];

  const fresh = new Map<string, PlanStep>();
  for (const d of desired) {
    const before = prevById.get(d.id);
    if (before && (SETTLED.has(before.status) || before.status === 'running')) {
      fresh.set(d.id, before);
      continue;
    }
    const step = buildStep(d, pb, state, ctx, match, asks);
    if (before) step.requestedBy = before.requestedBy;
    const strict = Boolean(state.strictApprovals);
    const { status, note } = d.blocked ? { status: 'blocked' as const, note: d.blocked } : openStatus(step, state.approvals, strict);
    step.status = status;
    if (note) step.note = note;
    if (before) {
      if (strict ? before.digest !== step.digest : before.fingerprint !== step.fingerprint) {
        if (canonicalJson(before.params) !== canonicalJson(step.params)) {
          diff.push({ step: d.id, change: 'params', from: canonicalJson(before.params), to: canonicalJson(step.params) });
        }
        if ((before.approval?.approvedBy.length ?? 0) > 0) {
          diff.push({ step: d.id, change: 'approval_lapsed', from: before.approval!.approvedBy.join(', '), why: 'the step changed after it was approved' });
        }
      }
      if (before.status !== step.status) {
        diff.push({ step: d.id, change: 'status', from: before.status, to: step.status, why: step.note ?? (before.status === 'skipped' ? `condition holds again: ${step.reason.rule}` : undefined) });
      }
    } else {
      diff.push({ step: d.id, change: 'added', to: step.status, why: `${step.reason.section === 'escalation' ? `escalation (${step.reason.trigger})` : 'playbook step'}, when ${step.reason.rule}` });
    }
    fresh.set(d.id, step);
  }

  // Steps the previous plan had and this one does not want.
  const kept = new Map<string, PlanStep>();
  for (const before of prev?.steps ?? []) {
    if (desiredIds.has(before.id)) continue;
    if (SETTLED.has(before.status) || before.status === 'skipped') {
      kept.set(before.id, before);
      continue;
    }
    const why = withdrawReason(before, state, pb, policy.version);
    let status: StepStatus;
    let note: string;
    if (before.status === 'running') {
      if (SAFE_TO_CANCEL.has(before.action)) {
        status = 'cancelled';
        note = `${why}; running activity cancelled`;
      } else {
        status = 'running';
        note = `${why}; left to finish (not safe to cancel mid-flight)`;
      }
    } else {
      status = state.cancelled ? 'cancelled' : 'skipped';
      note = why;
    }
    const after = { ...before, status, note };
    if (status !== before.status) diff.push({ step: before.id, change: 'status', from: before.status, to: status, why });
    kept.set(before.id, after);
  }

  const steps = mergeOrder(prev?.steps ?? [], desired.map((d) => d.id), fresh, kept);
  const changed =
    !prev || diff.length > 0 || prev.policyVersion !== policy.version || prev.playbook !== pb.id || steps.length !== prev.steps.length;
  const plan: Plan = {
    version: changed ? (prev?.version ?? 0) + 1 : prev!.version,
    policyVersion: policy.version,
    playbook: pb.id,
    steps,
  };
  return { plan, diff, selection: match.explanation, ...(asks.size ? { policyAsks: [...asks.values()] } : {}) };
}

/**
 * Keeps the previous order (so done steps stay where they happened) and puts each new step
 * right after the step that precedes it in the playbook.
 */
function mergeOrder(prevSteps: PlanStep[], desiredOrder: string[], fresh: Map<string, PlanStep>, kept: Map<string, PlanStep>): PlanStep[] {
  const order = prevSteps.map((s) => s.id);
  for (let i = 0; i < desiredOrder.length; i++) {
    const id = desiredOrder[i];
    if (order.includes(id)) continue;
    let at = 0;
    for (let j = i - 1; j >= 0; j--) {
      const k = order.indexOf(desiredOrder[j]);
      if (k >= 0) {
        at = k + 1;
        break;
      }
    }
    if (i === 0 && order.length > 0) at = firstUnsettled(order, fresh, kept);
    order.splice(at, 0, id);
  }
  return order.map((id) => fresh.get(id) ?? kept.get(id)!).filter(Boolean);
}

/** A first-in-playbook step added late goes after what already happened, not before it. */
function firstUnsettled(order: string[], fresh: Map<string, PlanStep>, kept: Map<string, PlanStep>): number {
  let at = 0;
  order.forEach((id, i) => {
    const s = fresh.get(id) ?? kept.get(id);
    if (s && (SETTLED.has(s.status) || s.status === 'running')) at = i + 1;
  });
  return at;
}
