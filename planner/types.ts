/**
 * The planner's vocabulary. Pure data: these shapes live in workflow state, in query
 * answers, in the decision log (and so in history), and in `drw plan --dry-run` output.
 */
import type { PolicyAnswer, PolicyAsk } from './policy-engine';
import type { Asset, Detection, Severity } from '../domain/detection';
import type { Provenance } from './provenance';

export const ACTIONS = [
  'ticket.open',
  'ticket.update',
  'ticket.close',
  'cmdb.lookup',
  'endpoint.isolate',
  'endpoint.release',
  'iac.pull_request',
  'notify',
  'verify',
  'escalate',
  'runbook.run',
  'identity.revoke_sessions',
  'identity.disable',
  'identity.enable',
] as const;
export type Action = (typeof ACTIONS)[number];

export const STEP_STATUSES = [
  'pending',
  'awaiting_approval',
  'running',
  'done',
  'skipped',
  'failed',
  'cancelled',
  'compensated',
  /** Could not run: an input it needs is missing (no repository, no device); a person must supply it. */
  'blocked',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** A step that will not run again whatever the next plan says. */
export const SETTLED: ReadonlySet<StepStatus> = new Set(['done', 'failed', 'cancelled', 'compensated', 'blocked']);
/** A step that no longer blocks what comes after it. */
export const TERMINAL: ReadonlySet<StepStatus> = new Set(['done', 'failed', 'cancelled', 'compensated', 'skipped', 'blocked']);

export const REMEDIATION_STATUSES = [
  'planning',
  'awaiting_approval',
  'waiting_window',
  'remediating',
  'verifying',
  'escalated',
  /** Every step ran; nothing verified a fix: it waits for the owner of its ticket (or the source). */
  'awaiting_owner',
  'paused',
  'remediated',
  'resolved',
  'failed',
  'cancelled',
] as const;
export type RemediationStatus = (typeof REMEDIATION_STATUSES)[number];
export const FINAL_STATUSES: ReadonlySet<RemediationStatus> = new Set(['remediated', 'resolved', 'failed', 'cancelled']);

export type ExpiryAction = 'deny' | 'escalate' | 'auto_approve';

export interface ApprovalRequirement {
  users: string[];
  groups: string[];
  quorum: number;
  allowRequester: boolean;
  expiresAfterMs?: number;
  onExpiry: ExpiryAction;
}

export interface RetrySpec {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

export interface VerifySpec {
  intervalMs: number;
  deadlineMs: number;
}

/** Why a step is in the plan: enough for an auditor to answer "why did drw do that?". */
export interface StepReason {
  playbook: string;
  /** The playbook section: "steps", or the escalation trigger. */
  section: 'steps' | 'escalation';
  /** The step's `when` as written, or "always". */
  rule: string;
  /** The facts the rule (and the playbook match) looked at, with their values. */
  facts: Record<string, unknown>;
  /** Escalation trigger, when section is escalation. */
  trigger?: EscalationTrigger;
}

export const CHANGE_TYPES = ['standard', 'normal', 'emergency'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export type EscalationTrigger = 'sla_breached' | 'verification_failed' | 'approval_expired' | 'step_failed' | 'step_blocked';

export interface PlanStep {
  /** Stable across re-plans: `<playbook>.<step>` (escalations: `<playbook>.<trigger>.<step>`). */
  id: string;
  action: Action;
  title: string;
  params: Record<string, unknown>;
  status: StepStatus;
  reason: StepReason;
  /** Hash of what an approver approves (action, params, requirement): how runs begun before step digests match approvals. */
  fingerprint: string;
  /** SHA-256 (64 hex) of everything that decides what the step does (planner/digest.ts); approvals bind to it. */
  digest: string;
  /** What the step acts on, resolved before anyone approves it (the EDR device, the repository). */
  target?: StepTarget;
  approval?: ApprovalRequirement & { approvedBy: string[]; deniedBy?: string };
  /** Who the policy lets approve this step, even when its rule did not ask (who may undo it). */
  approvalRule?: { users: string[]; groups: string[] };
  disruptive: boolean;
  /** Emergency override of the change window, when it applied. */
  windowOverride?: string;
  /** Runs under a change record of this type (ServiceNow Change): opened, approved by the CAB, closed with the outcome. */
  change?: ChangeType;
  compensation?: { action: Action; params: Record<string, unknown> };
  timeoutMs: number;
  retry: RetrySpec;
  verify?: VerifySpec;
  /** Identity whose input put this step in the plan (may not approve it). */
  requestedBy: string;
  /** Free text for the operator: the skip reason, the failure, the result summary. */
  note?: string;
  result?: Record<string, unknown>;
}

export interface StepTarget {
  kind: 'device' | 'repository';
  /** The EDR's device id, or owner/name of the repository. */
  id: string;
  /** The device's hostname as the EDR reports it; the file changed in the repository. */
  name?: string;
  /** Where drw learned it: the CMDB, the EDR (by hostname), the detection, the policy. */
  via: string;
  vendor?: string;
  /** A repository step's change, previewed before anyone approves it (its digest is what the pull request must push). */
  change?: PreviewedChange;
  /** The step parameters the change was previewed for: other parameters need a new preview. */
  forParams?: string;
}

/** A pull request step's change as previewed: what its approvers approve. */
export interface PreviewedChange {
  /** Base branch and the commit the change was computed on. */
  base: string;
  baseCommit: string;
  /** Paths the change touches (sorted). */
  files: string[];
  /** Unified diff, at most 16 KiB (truncated: cut there; the digest covers the whole change). */
  diff: string;
  truncated?: boolean;
  /** The template's one-line summary. */
  summary?: string;
  /** SHA-256 hex of the change itself (each changed path and its new content, sorted by path). */
  digest: string;
  /** The template finds nothing to change. */
  noChange?: boolean;
}

export interface Plan {
  version: number;
  policyVersion: string;
  playbook: string;
  steps: PlanStep[];
}

export interface PlanDiffEntry {
  step: string;
  change: 'added' | 'removed' | 'status' | 'params' | 'approval_lapsed';
  from?: string;
  to?: string;
  why?: string;
}

export interface ApprovalRecord {
  stepId: string;
  fingerprint: string;
  approver: string;
  groups: string[];
  decision: 'approve' | 'deny';
  reason: string;
  at: string;
  via: 'update' | 'signal' | 'expiry';
  /** The step digest the decision was made for (runs with step digests). */
  digest?: string;
  /** The step's content changed after this decision: it never counts again, even if the content comes back. */
  void?: true;
  /** For a denial: the approval rule then in force, so a re-plan cannot run the step without a new approval. */
  required?: ApprovalRequirement;
}

/** What the planner reads. The workflow owns it; every field is plain data. */
export interface PlannerState {
  remediationId: string;
  detection: Detection;
  /** Facts after enrichment and risk scoring; what playbooks match on. */
  facts: Facts;
  previous?: Plan;
  approvals: ApprovalRecord[];
  escalations: EscalationTrigger[];
  /** Identity whose input caused this re-plan; recorded on steps it inserts. */
  requestedBy: string;
  cancelled: boolean;
  falsePositive: boolean;
  resolvedAtSource: boolean;
  verificationFailures: number;
  /**
   * Approvals bind to step digests, a voided approval never counts again, and a denied step needs a
   * new approval whatever its rule says now. Unset for runs begun before these rules.
   */
  strictApprovals?: boolean;
  /** Targets resolved before planning, by step action (the EDR device for endpoint actions). */
  targets?: Record<string, StepTarget>;
  /** The policy engine's answers so far, by ask key (planner/policy-engine.ts). */
  policyAnswers?: Record<string, PolicyAnswer>;
}

export interface Facts {
  source: string;
  rule: string;
  category?: string;
  severity: Severity;
  riskScore: number;
  asset: Asset;
  findingCount: number;
  details: Record<string, unknown>;
  /** Where each approval-deciding fact came from (runs begun before fact provenance have none). */
  provenance?: Provenance;
}

export interface PlanResult {
  plan: Plan;
  diff: PlanDiffEntry[];
  /** One-line explanation of the playbook choice. */
  selection: string;
  /** Questions for the policy engine this plan needs answered (steps wait for them; approvals stay asked for). */
  policyAsks?: PolicyAsk[];
}
