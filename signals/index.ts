/**
 * Every message a remediation workflow understands, defined once and shared by the
 * workflow (handlers) and every client (API, CLI, tests). Payload schemas are zod so the
 * HTTP and CLI boundaries validate exactly what the workflow expects.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Detection } from '../domain/detection';
import type { ApprovalDecision, FindingResolved, OperatorAction, PolicyUpdated, RiskScoreChanged, TicketChanged } from './messages';
import type { ApprovalRecord, Plan, PlanStep, RemediationStatus } from '../planner/types';
import type { Provenance } from '../planner/provenance';
import type { Decision, DescribedDecision } from '../remediation/events';

export * from './messages';

// Signals
export const riskScoreChangedSignal = defineSignal<[RiskScoreChanged]>('riskScoreChanged');
export const findingAddedSignal = defineSignal<[Detection]>('findingAdded');
export const findingResolvedSignal = defineSignal<[FindingResolved]>('findingResolved');
export const policyUpdatedSignal = defineSignal<[PolicyUpdated]>('policyUpdated');
/** The remediation's ticket changed at the ticketing system (closed or reopened by a person). */
export const ticketChangedSignal = defineSignal<[TicketChanged]>('ticketChanged');
/** Fire-and-forget equivalents of the approve/deny updates; rejected decisions are logged, not thrown. */
export const approveSignal = defineSignal<[ApprovalDecision]>('approveSignal');
export const denySignal = defineSignal<[ApprovalDecision]>('denySignal');
export const pauseSignal = defineSignal<[OperatorAction]>('pause');
export const resumeSignal = defineSignal<[OperatorAction]>('resume');
export const cancelSignal = defineSignal<[OperatorAction]>('cancel');
export const falsePositiveSignal = defineSignal<[OperatorAction]>('falsePositive');

// Updates: validated synchronously, answer with the new plan.
export const approveUpdate = defineUpdate<Plan, [ApprovalDecision]>('approve');
export const denyUpdate = defineUpdate<Plan, [ApprovalDecision]>('deny');

/** A step's change record: its number, where it is, and who at the CAB decided it. */
export interface ChangeView {
  number: string;
  url?: string;
  type: string;
  state: string;
  approval: string;
  approvedBy?: string[];
  rejectedBy?: string[];
  plannedStart?: string;
  plannedEnd?: string;
  settled?: 'closed' | 'canceled' | 'unsettled';
}

export interface RemediationView {
  id: string;
  /** What vendor records (ticket labels, correlation ids, commit trailers) name this remediation by: `<id>~<first run>`. */
  instance?: string;
  status: RemediationStatus;
  severity: Detection['severity'];
  riskScore: number;
  asset: Detection['asset'];
  /** Each approval-deciding fact with where it came from (detection, CMDB, operator, drw). */
  facts?: Provenance;
  source: string;
  rule: string;
  title: string;
  dedupeKey: string;
  findingCount: number;
  slaDeadline?: string;
  slaBreached: boolean;
  paused: boolean;
  resolution?: string;
  ticket?: { system: string; ticketId: string; url?: string };
  /** Each step's change record (ServiceNow Change) as drw last read it, by step id. */
  changes?: Record<string, ChangeView>;
  plan: Plan;
  approvals: ApprovalRecord[];
  decisions: DescribedDecision[];
  decisionsDropped: number;
}

/** What the history holds already (the start input, the enrichment decision): a result written since leaves it out. */
type RecordedElsewhere = 'facts' | 'asset' | 'source' | 'rule' | 'title' | 'dedupeKey' | 'paused';

/**
 * What a remediation workflow returns when it ends: its outcome and final plan, with the
 * decisions of its last activation that no memo write carried (without their summaries, which
 * readers derive: remediation/events.ts `described`). Results of earlier releases carry the
 * whole final view, and some all their decisions.
 */
export type RemediationResult = Omit<RemediationView, 'decisions' | 'plan' | RecordedElsewhere> &
  Partial<Pick<RemediationView, RecordedElsewhere>> & { plan: Plan | ResultPlan; decisions?: (Decision | DescribedDecision)[] };

/**
 * A plan step as a run's result keeps it: what it did and why, for reports and comparisons. The
 * digests, retry policies, targets and the facts each reason looked at are in the history's plan
 * decisions and activity inputs already (runs begun before this keep whole steps).
 */
export type ResultStep = Pick<PlanStep, 'id' | 'action' | 'title' | 'status' | 'params' | 'note' | 'result' | 'change' | 'approval'> & {
  reason: Pick<PlanStep['reason'], 'playbook' | 'section' | 'rule' | 'trigger'>;
};
export type ResultPlan = Omit<Plan, 'steps'> & { steps: ResultStep[] };

// Queries
export const stateQuery = defineQuery<RemediationView>('state');
/** The core's whole state (remediations begun on the core): the API applies operator actions to a copy to see what they would undo. */
export const coreStateQuery = defineQuery<unknown>('drwCoreState');
export const planQuery = defineQuery<Plan>('plan');
export const decisionsQuery = defineQuery<DescribedDecision[]>('decisions');
