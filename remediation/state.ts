/**
 * A remediation's state: plain data that continue-as-new carries and queries return, and the
 * pure reads over it (status, planner input, view).
 */
import type { Detection } from '../domain/detection';
import type { AssetFacts, TicketRef } from '../activities/interfaces';
import type { PolicySet } from '../planner/policy-schema';
import type { PolicyAnswer, PolicyAsk } from '../planner/policy-engine';
import type { ChangeType } from '../planner/types';
import { instanceOf } from '../common/remediation-ref';
import { factsOf } from '../planner/facts';
import { establishFacts } from '../planner/provenance';
import { scoreRisk } from '../planner/risk';
import type { ApprovalKey } from '../governance/assertion';
import { TERMINAL, type ApprovalRecord, type EscalationTrigger, type Facts, type Plan, type PlannerState, type PlanStep, type RemediationStatus, type StepTarget } from '../planner/types';
import type { ChangeView, RemediationView, ResultPlan } from '../signals';
import { described, type Decision, type DecisionEvent } from './events';

/** The decision log keeps this many entries in state; older ones stay in history only. */
export const DECISION_LOG_LIMIT = 300;

/** Marks a state written by this core, so a run continued from a pre-core run is told apart. */
export const CORE_STATE_VERSION = 2;

/** How a remediation tells a real approval from a forged one (set from its input at start). */
export interface ApprovalTrust {
  /** Public keys of the API instances whose signed assertions count. */
  keys: ApprovalKey[];
  /** Unsigned approvals count too: only the loopback default, with DRW_UNSIGNED_APPROVALS=allow. */
  unsigned: boolean;
  /** A decision must name the step digest the approver saw (outside the loopback default). */
  requireDigest: boolean;
}

/** Inputs without approval settings (started by hand or by an older API): unsigned approvals count. */
export const OPEN_TRUST: ApprovalTrust = { keys: [], unsigned: true, requireDigest: false };

/** A step's change record as drw last read it. */
export interface StepChange {
  changeId: string;
  number: string;
  url?: string;
  type: ChangeType;
  state: string;
  implementable: boolean;
  approval: string;
  approvedBy?: string[];
  rejectedBy?: string[];
  plannedStart?: string;
  plannedEnd?: string;
  /** When drw last read it (a durable poll while the CAB decides). */
  readMs: number;
  /** drw moved it to Implement right before the step ran. */
  implementing?: true;
  /** drw closed it with the step's outcome, or canceled it (the step was withdrawn). */
  settled?: 'closed' | 'canceled' | 'unsettled';
}

export interface Mark {
  by: string;
  reason: string;
}

export interface RemediationState {
  core: typeof CORE_STATE_VERSION;
  id: string;
  /**
   * This remediation among those its id has had (`<id>~<first run id>`): vendor records, idempotency
   * keys and searches use it, so a recurrence after a closed remediation gets its own side effects.
   * Unset for runs begun before (they used the id).
   */
  instance?: string;
  dedupeKey: string;
  requestedBy: string;
  receivedAt: string;
  detection: Detection;
  facts: Facts;
  /**
   * Facts carry provenance: the stricter of the detection's and the CMDB's values, an unknown asset
   * as production, a risk score only from a trusted channel. Unset for runs begun before that rule.
   */
  factProvenance?: true;
  /** IaC steps have their change previewed before approval and push only that change. Unset for runs begun before. */
  previewChanges?: true;
  /**
   * The loop is closed: drw follows its ticket (poll and webhooks), `finding_resolved` re-queries a
   * source that has an API, a repeat after a resolution is a regression, and the last ticket close
   * cannot be cut short by a cancellation. Unset for runs begun before.
   */
  closedLoop?: true;
  /** The ticket as the ticketing system last showed it (webhook or poll), or as drw left it. */
  ticketSeen?: { status: string; closed: boolean; by?: string; via: 'webhook' | 'poll' | 'drw' };
  /** When drw last read its ticket (closed loop). */
  ticketPolledMs?: number;
  /**
   * A person closed the ticket: the verification runs once (`check`); it either confirms the fix
   * (`verified`) or drw reopens the ticket with what failed (`reopen`); a plan without a
   * verification is resolved by the owner (`resolve`).
   */
  ownerClosure?: { ticketId: string; by: string; phase: 'check' | 'verified' | 'reopen' | 'resolve'; evidence?: string[] };
  /** The earlier remediation with this id, when it ended remediated: this one is a regression. */
  regressionOf?: string;
  /** Kinds of system the policy worker has no provider for, with why (fail closed at planning). */
  unprovided?: Record<string, string>;
  /** The policy engine's answers (planner/policy-engine.ts), by ask key; a changed fact makes a new key. */
  policyAnswers?: Record<string, PolicyAnswer>;
  /** Questions the current plan needs the policy engine to answer: the driver asks before anything runs. */
  policyAsks?: PolicyAsk[];
  /** Change records of the steps that run under one (ServiceNow Change), by step id. */
  changes?: Record<string, StepChange>;
  cmdb?: AssetFacts;
  policy?: PolicySet;
  plan: Plan;
  approvals: ApprovalRecord[];
  trust: ApprovalTrust;
  /** Targets resolved before planning, by step action. */
  targets?: Record<string, StepTarget>;
  /** Why no target could be verified (the steps that need one are blocked, never pointed elsewhere). */
  targetProblem?: string;
  escalations: EscalationTrigger[];
  verificationFailures: number;
  cancelled?: Mark;
  falsePositive?: Mark;
  resolvedAtSource?: Mark;
  paused?: Mark;
  /** Set by policyUpdated; the driver loads the policy through an activity. */
  policyReloadRequested?: { version?: string; reason: string; by?: string };
  slaDeadlineMs?: number;
  slaBreached: boolean;
  ticket?: TicketRef;
  /** Repeats not yet told to the ticket; coalesced so a flood makes one update, not thousands. */
  unreportedRepeats: number;
  lastRepeatReportMs: number;
  /** When each announced approval request (step id @ fingerprint) expires. */
  approvalDeadlines: Record<string, number>;
  expiredApprovals: string[];
  /** Steps the driver is running: the main one, and an escalation run while a verification waits. */
  running: string[];
  waitingWindowUntilMs?: number;
  final?: { status: RemediationStatus; resolution: string };
  decisions: Decision[];
  decisionsDropped: number;
  seq: number;
  runs: number;
}

export function initialState(o: {
  id: string;
  dedupeKey: string;
  requestedBy: string;
  receivedAt: string;
  detection: Detection;
  trust?: ApprovalTrust;
  planningChecks?: boolean;
  /** Began with the closed loop (implies the planning checks). */
  closedLoop?: boolean;
  /** The first run's id: with the planning checks, what tells this remediation from an earlier one with its id. */
  firstRunId?: string;
}): RemediationState {
  return {
    core: CORE_STATE_VERSION,
    // One patch brought these: facts with provenance, changes previewed before approval, a remediation instance.
    ...(o.planningChecks || o.closedLoop ? { factProvenance: true as const, previewChanges: true as const, ...(o.firstRunId ? { instance: instanceOf(o.id, o.firstRunId) } : {}) } : {}),
    ...(o.closedLoop ? { closedLoop: true as const } : {}),
    trust: o.trust ?? OPEN_TRUST,
    id: o.id,
    dedupeKey: o.dedupeKey,
    requestedBy: o.requestedBy,
    receivedAt: o.receivedAt,
    detection: o.detection,
    facts: factsOf(o.detection),
    plan: { version: 0, policyVersion: '', playbook: '', steps: [] },
    approvals: [],
    escalations: [],
    verificationFailures: 0,
    slaBreached: false,
    unreportedRepeats: 0,
    lastRepeatReportMs: 0,
    approvalDeadlines: {},
    expiredApprovals: [],
    running: [],
    decisions: [],
    decisionsDropped: 0,
    seq: 0,
    runs: 0,
  };
}

export function isCoreState(v: unknown): v is RemediationState {
  return typeof v === 'object' && v !== null && (v as { core?: unknown }).core === CORE_STATE_VERSION;
}

/** A step whose change record is open and not yet approved: it waits for the CAB, in the change system. */
export function awaitingCab(s: Partial<Pick<RemediationState, 'changes'>>, step: PlanStep): boolean {
  const c = step.status === 'pending' && step.change ? s.changes?.[step.id] : undefined;
  return Boolean(c && !c.implementable && !c.settled);
}

/**
 * The status people and search attributes see. `settledUnverified`: what a plan whose steps all
 * settled without a verification is (it waits for its ticket's owner or the source); runs begun
 * before the core said "escalated" or "remediating", and replaying them must upsert the same.
 */
export function deriveStatus(
  s: Pick<RemediationState, 'final' | 'plan' | 'paused' | 'waitingWindowUntilMs' | 'escalations' | 'slaBreached'> & Partial<Pick<RemediationState, 'changes'>>,
  settledUnverified: RemediationStatus = 'awaiting_owner',
): RemediationStatus {
  if (s.final) return s.final.status;
  if (s.plan.version === 0) return 'planning';
  if (s.paused) return 'paused';
  const steps = s.plan.steps;
  const running = steps.find((x) => x.status === 'running');
  if (running?.action === 'verify') return 'verifying';
  if (running) return 'remediating';
  if (s.waitingWindowUntilMs !== undefined) return 'waiting_window';
  // A step whose change record the CAB has not approved yet waits for people, in the change system.
  const waiting = (x: PlanStep) => x.status === 'awaiting_approval' || awaitingCab(s, x);
  // A pending verify step waiting behind an approval is not work in progress.
  const runnable = steps.some(
    (x, i) => x.status === 'pending' && !awaitingCab(s, x) && !(x.action === 'verify' && steps.slice(0, i).some((y) => y.reason.section === 'steps' && waiting(y))),
  );
  if (runnable) return 'remediating';
  if (steps.some(waiting)) return 'awaiting_approval';
  if (s.escalations.length > 0 || s.slaBreached) return 'escalated';
  if (!steps.every((x) => TERMINAL.has(x.status))) return 'planning';
  return steps.some((x) => x.action === 'verify' && x.status === 'done') ? 'remediating' : settledUnverified;
}

export function plannerState(
  s: Pick<RemediationState, 'id' | 'detection' | 'facts' | 'plan' | 'approvals' | 'escalations' | 'requestedBy' | 'cancelled' | 'falsePositive' | 'resolvedAtSource' | 'verificationFailures'> &
    Partial<Pick<RemediationState, 'core' | 'targets' | 'policyAnswers'>>,
  requestedBy = s.requestedBy,
): PlannerState {
  return {
    remediationId: s.id,
    detection: s.detection,
    facts: s.facts,
    previous: s.plan.version === 0 ? undefined : s.plan,
    approvals: s.approvals,
    escalations: s.escalations,
    requestedBy,
    cancelled: Boolean(s.cancelled),
    falsePositive: Boolean(s.falsePositive),
    resolvedAtSource: Boolean(s.resolvedAtSource),
    verificationFailures: s.verificationFailures,
    // The pre-core workflow (workflows/legacy) keeps the rules its runs began with.
    ...(s.core === CORE_STATE_VERSION ? { strictApprovals: true } : {}),
    ...(s.targets ? { targets: s.targets } : {}),
    ...(s.policyAnswers ? { policyAnswers: s.policyAnswers } : {}),
  };
}

export function view(s: RemediationState): RemediationView {
  return viewOf(s, deriveStatus(s), s.decisions.map(described));
}

/** What a view is made of, so the pre-core workflow (workflows/legacy) builds the same view from its own state. */
export type ViewSource = Pick<
  RemediationState,
  'id' | 'facts' | 'detection' | 'dedupeKey' | 'slaDeadlineMs' | 'slaBreached' | 'paused' | 'final' | 'ticket' | 'plan' | 'approvals' | 'decisionsDropped'
> &
  Partial<Pick<RemediationState, 'instance' | 'changes'>>;

export function viewOf(s: ViewSource, status: RemediationStatus, decisions: RemediationView['decisions']): RemediationView {
  return {
    id: s.id,
    ...(s.instance ? { instance: s.instance } : {}),
    status,
    severity: s.facts.severity,
    riskScore: s.facts.riskScore,
    asset: s.facts.asset,
    ...(s.facts.provenance ? { facts: s.facts.provenance } : {}),
    source: s.facts.source,
    rule: s.facts.rule,
    title: s.detection.title,
    dedupeKey: s.dedupeKey,
    findingCount: s.facts.findingCount,
    ...(s.slaDeadlineMs !== undefined ? { slaDeadline: new Date(s.slaDeadlineMs).toISOString() } : {}),
    slaBreached: s.slaBreached,
    paused: Boolean(s.paused),
    ...(s.final ? { resolution: s.final.resolution } : {}),
    ...(s.ticket ? { ticket: { system: s.ticket.system, ticketId: s.ticket.ticketId, url: s.ticket.url } } : {}),
    ...(s.changes && Object.keys(s.changes).length ? { changes: changeViews(s.changes) } : {}),
    plan: s.plan,
    approvals: s.approvals,
    decisions,
    decisionsDropped: s.decisionsDropped,
  };
}

/** The plan a run returns when it ends (signals ResultStep says what it keeps). */
export function resultPlan(p: Plan): ResultPlan {
  return {
    ...p,
    steps: p.steps.map((s) => ({
      id: s.id,
      action: s.action,
      title: s.title,
      status: s.status,
      params: s.params,
      ...(s.note !== undefined ? { note: s.note } : {}),
      ...(s.result !== undefined ? { result: s.result } : {}),
      ...(s.change !== undefined ? { change: s.change } : {}),
      ...(s.approval ? { approval: s.approval } : {}),
      reason: { playbook: s.reason.playbook, section: s.reason.section, rule: s.reason.rule, ...(s.reason.trigger ? { trigger: s.reason.trigger } : {}) },
    })),
  };
}

function changeViews(changes: Record<string, StepChange>): Record<string, ChangeView> {
  return Object.fromEntries(
    Object.entries(changes).map(([stepId, c]) => [
      stepId,
      {
        number: c.number,
        ...(c.url ? { url: c.url } : {}),
        type: c.type,
        state: c.state,
        approval: c.approval,
        ...(c.approvedBy?.length ? { approvedBy: c.approvedBy } : {}),
        ...(c.rejectedBy?.length ? { rejectedBy: c.rejectedBy } : {}),
        ...(c.plannedStart ? { plannedStart: c.plannedStart } : {}),
        ...(c.plannedEnd ? { plannedEnd: c.plannedEnd } : {}),
        ...(c.settled ? { settled: c.settled } : {}),
      },
    ]),
  );
}

/** The facts once the CMDB answered (`cmdb` undefined: the lookup failed), and why the risk is what it is. */
export function factsAfterLookup(s: Pick<RemediationState, 'detection' | 'facts' | 'requestedBy' | 'policy' | 'factProvenance'>, cmdb: AssetFacts | undefined): { facts: Facts; riskWhy: string } {
  if (!s.factProvenance) {
    const asset = enrichAsset(s.detection.asset, cmdb);
    const risk = scoreRisk({ severity: s.detection.severity, riskScore: s.detection.riskScore, asset });
    return { facts: { ...s.facts, asset, riskScore: risk.score }, riskWhy: risk.why };
  }
  const f = establishFacts({ detection: s.detection, cmdb, requestedBy: s.requestedBy, rules: s.policy?.facts });
  return { facts: { ...s.facts, asset: f.asset, riskScore: f.riskScore, provenance: f.provenance }, riskWhy: f.riskWhy };
}

/** Merges CMDB facts into the asset (runs begun before fact provenance): what the detection said wins, the CMDB fills the gaps. */
export function enrichAsset(asset: Detection['asset'], cmdb: AssetFacts | undefined): Detection['asset'] {
  if (!cmdb?.found) return asset;
  return {
    ...asset,
    environment: asset.environment ?? cmdb.environment,
    criticality: asset.criticality ?? cmdb.criticality,
    internetFacing: asset.internetFacing ?? cmdb.internetFacing,
    owner: asset.owner ?? cmdb.owner,
    tags: asset.tags ?? cmdb.tags,
  };
}

/**
 * The state with one more decision, numbered and timed, the log kept within DECISION_LOG_LIMIT:
 * how the core records each decision, and how the driver records what its own side effects did
 * (the approval requests in chat, workflows/approval-messages.ts).
 */
export function withDecision(s: RemediationState, e: DecisionEvent, now: number): RemediationState {
  const next = { ...s, decisions: [...s.decisions] };
  pushDecision(next, e, now);
  return next;
}

/** withDecision in place, for a state the caller owns (a core transition's private copy). */
export function pushDecision(s: Pick<RemediationState, 'seq' | 'decisions' | 'decisionsDropped'>, e: DecisionEvent, now: number): void {
  s.decisions.push({ ...e, seq: ++s.seq, at: new Date(now).toISOString() });
  if (s.decisions.length > DECISION_LOG_LIMIT) {
    const drop = s.decisions.length - DECISION_LOG_LIMIT;
    s.decisions.splice(0, drop);
    s.decisionsDropped += drop;
  }
}

/** What vendor records and idempotency keys name this remediation by (its instance; its id for older runs). */
export function remediationRef(s: Pick<RemediationState, 'id' | 'instance'>): string {
  return s.instance ?? s.id;
}
