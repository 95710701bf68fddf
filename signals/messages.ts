/**
 * The payload of every message a remediation understands, as zod schemas: the HTTP API, the
 * CLI and the workflow's handlers (through the remediation core) validate exactly the same
 * shapes. No Temporal import: the pure core uses these too.
 */
import { z } from 'zod';
import { detectionSchema } from '../domain/detection';

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
