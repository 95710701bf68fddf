/**
 * Pre-core remediation state (workflows/legacy): kept unchanged so runs started before the
 * remediation core replay and finish as they began. Delete with remediation-v1.ts.
 */
import type { Detection } from '../../domain/detection';
import type { AssetFacts, TicketRef } from '../../activities/interfaces';
import type { PolicySet } from '../../planner/policy-schema';
import type { ApprovalRecord, EscalationTrigger, Facts, Plan, PlanDiffEntry, RemediationStatus } from '../../planner/types';
import type { RemediationView } from '../../signals';
import type { DescribedDecision } from '../../remediation/events';
import { deriveStatus as coreStatus, viewOf } from '../../remediation/state';

/** A pre-core decision: a category and a sentence, with a few structured fields. */
export interface DecisionEntry {
  seq: number;
  at: string;
  kind: 'plan' | 'approval' | 'denial' | 'rejected' | 'signal' | 'operator' | 'sla' | 'verification' | 'compensation' | 'step' | 'note';
  summary: string;
  planVersion?: number;
  policyVersion?: string;
  playbook?: string;
  selection?: string;
  diff?: PlanDiffEntry[];
  by?: string;
  data?: Record<string, unknown>;
}

/**
 * A pre-core entry as a typed event, from its structured fields only: plans and approvals keep
 * their structure, everything else stays the sentence it was (nothing is parsed back out of it).
 */
export function typedLegacyDecision(d: DecisionEntry): DescribedDecision {
  const base = { seq: d.seq, at: d.at, summary: d.summary };
  if (d.kind === 'plan' && d.planVersion !== undefined) {
    return { ...base, kind: 'plan', planVersion: d.planVersion, policyVersion: d.policyVersion ?? '', playbook: d.playbook ?? '', selection: d.selection ?? '', diff: d.diff ?? [], trigger: d.summary, ...(d.by ? { by: d.by } : {}) };
  }
  const data = d.data ?? {};
  if ((d.kind === 'approval' || d.kind === 'denial') && typeof data.stepId === 'string' && (data.via === 'update' || data.via === 'signal') && d.by) {
    const groups = Array.isArray(data.groups) ? data.groups.map(String) : [];
    return { ...base, kind: 'approval', decision: d.kind === 'approval' ? 'approve' : 'deny', stepId: data.stepId, fingerprint: String(data.fingerprint ?? ''), approver: d.by, groups, via: data.via, reason: d.summary, by: d.by };
  }
  return { ...base, kind: 'legacy', was: d.kind, text: d.summary, ...(d.by ? { by: d.by } : {}) };
}

/** The decision log keeps this many entries in state; older ones stay in history only. */
export const DECISION_LOG_LIMIT = 300;

export interface RemediationState {
  id: string;
  dedupeKey: string;
  requestedBy: string;
  detection: Detection;
  facts: Facts;
  cmdb?: AssetFacts;
  policy?: PolicySet;
  plan: Plan;
  approvals: ApprovalRecord[];
  escalations: EscalationTrigger[];
  verificationFailures: number;
  cancelled?: { by: string; reason: string };
  falsePositive?: { by: string; reason: string };
  resolvedAtSource?: { by: string; reason: string };
  paused?: { by: string; reason: string };
  /** Set by the policyUpdated signal; the main loop loads the policy through an activity. */
  policyReloadRequested?: { version?: string; reason: string; by?: string };
  slaDeadlineMs?: number;
  slaBreached: boolean;
  ticket?: TicketRef;
  /** Repeats not yet told to the ticket; coalesced so a flood makes one update, not thousands. */
  unreportedRepeats: number;
  lastRepeatReportMs: number;
  /** Approval requests already announced, by step id + fingerprint, and when they expire. */
  approvalDeadlines: Record<string, number>;
  expiredApprovals: string[];
  final?: { status: RemediationStatus; resolution: string };
  waitingWindowUntilMs?: number;
  decisions: DecisionEntry[];
  decisionsDropped: number;
  seq: number;
  runs: number;
}

/**
 * `waitingIsEscalated`: a plan whose steps are all settled without a verification waits for a
 * person (or the source); newer runs call that "escalated". Older histories said
 * "remediating", and replaying them must upsert the same values, hence the flag.
 */
export function deriveStatus(s: RemediationState, waitingIsEscalated = true): RemediationStatus {
  return coreStatus(s, waitingIsEscalated ? 'escalated' : 'remediating');
}

export function addDecision(s: RemediationState, at: Date, entry: Omit<DecisionEntry, 'seq' | 'at'>): DecisionEntry {
  const full: DecisionEntry = { seq: ++s.seq, at: at.toISOString(), ...entry };
  s.decisions.push(full);
  if (s.decisions.length > DECISION_LOG_LIMIT) {
    const drop = s.decisions.length - DECISION_LOG_LIMIT;
    s.decisions.splice(0, drop);
    s.decisionsDropped += drop;
  }
  return full;
}

export function view(s: RemediationState, waitingIsEscalated = true): RemediationView {
  return viewOf(s, deriveStatus(s, waitingIsEscalated), s.decisions.map(typedLegacyDecision));
}

export { enrichAsset, plannerState } from '../../remediation/state';
