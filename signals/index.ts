/**
 * Every message a remediation workflow understands, defined once and shared by the
 * workflow (handlers) and every client (API, CLI, tests). Payload schemas are zod so the
 * HTTP and CLI boundaries validate exactly what the workflow expects.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { detectionSchema, type Detection } from '../domain/detection';
import type { ApprovalRecord, Plan, PlanDiffEntry, RemediationStatus } from '../planner/types';

const who = z.string().trim().min(1).max(200);
const why = z.string().trim().min(1).max(2000);

export const riskScoreChangedSchema = z.object({ riskScore: z.number().min(0).max(100), reason: why, by: who.optional() }).strict();
export type RiskScoreChanged = z.infer<typeof riskScoreChangedSchema>;

export const findingResolvedSchema = z.object({ reason: why.optional(), by: who.optional(), at: z.string().optional() }).strict();
export type FindingResolved = z.infer<typeof findingResolvedSchema>;

export const policyUpdatedSchema = z.object({ version: z.string().min(1).max(64).optional(), reason: why.optional(), by: who.optional() }).strict();
export type PolicyUpdated = z.infer<typeof policyUpdatedSchema>;

export const approvalDecisionSchema = z
  .object({
    stepId: z.string().min(1).max(200),
    // drw records its own decisions (approval expiry) as "drw:…"; nobody may sign as drw.
    approver: who.refine((v) => !/^drw:/i.test(v), { message: 'approver names starting with "drw:" are reserved for drw\'s own decisions' }),
    groups: z.array(z.string().trim().min(1).max(200)).max(100).default([]),
    reason: why,
  })
  .strict();
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;
export type ApprovalDecisionInput = z.input<typeof approvalDecisionSchema>;

export const operatorActionSchema = z.object({ by: who, reason: why }).strict();
export type OperatorAction = z.infer<typeof operatorActionSchema>;

export { detectionSchema as findingAddedSchema };

// Signals
export const riskScoreChangedSignal = defineSignal<[RiskScoreChanged]>('riskScoreChanged');
export const findingAddedSignal = defineSignal<[Detection]>('findingAdded');
export const findingResolvedSignal = defineSignal<[FindingResolved]>('findingResolved');
export const policyUpdatedSignal = defineSignal<[PolicyUpdated]>('policyUpdated');
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

export interface DecisionEntry {
  seq: number;
  at: string;
  kind: 'plan' | 'approval' | 'denial' | 'rejected' | 'signal' | 'operator' | 'sla' | 'verification' | 'compensation' | 'step' | 'note';
  summary: string;
  /** Present for kind "plan". */
  planVersion?: number;
  policyVersion?: string;
  playbook?: string;
  selection?: string;
  diff?: PlanDiffEntry[];
  by?: string;
  data?: Record<string, unknown>;
}

export interface RemediationView {
  id: string;
  status: RemediationStatus;
  severity: Detection['severity'];
  riskScore: number;
  asset: Detection['asset'];
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
  plan: Plan;
  approvals: ApprovalRecord[];
  decisions: DecisionEntry[];
  decisionsDropped: number;
}

// Queries
export const stateQuery = defineQuery<RemediationView>('state');
export const planQuery = defineQuery<Plan>('plan');
export const decisionsQuery = defineQuery<DecisionEntry[]>('decisions');
