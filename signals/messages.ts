/**
 * The payload of every message a remediation understands, as zod schemas: the HTTP API, the
 * CLI and the workflow's handlers (through the remediation core) validate exactly the same
 * shapes. No Temporal import: the pure core uses these too.
 */
import { z } from 'zod';
import { detectionSchema } from '../domain/detection';
import { isReservedIdentity, normalizeIdentity } from '../governance/identity';
import { DIGEST_PATTERN } from '../planner/digest';

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
    // Compared in one normalized form (look-alikes are one person); drw records its own decisions
    // (approval expiry) as "drw:…", and nobody may sign as drw.
    approver: who.transform(normalizeIdentity).refine((v) => v.length > 0 && !isReservedIdentity(v), { message: 'approver names starting with "drw:" are reserved for drw\'s own decisions' }),
    groups: z.array(z.string().trim().min(1).max(200).transform(normalizeIdentity)).max(100).default([]),
    reason: why,
    /** The step digest the approver saw (GET /v1/remediations/{id}); a different current digest refuses the decision. */
    digest: z.string().regex(DIGEST_PATTERN, 'a step digest is 64 lowercase hexadecimal characters').optional(),
    /** The API's signed statement of who decided what (governance/assertion.ts). */
    assertion: z.string().min(1).max(8192).optional(),
  })
  .strict();
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;
export type ApprovalDecisionInput = z.input<typeof approvalDecisionSchema>;

/**
 * What a ticketing system says about the remediation's ticket: its webhook (Jira, a ServiceNow
 * business rule) through the API, or drw's own poll. The workflow acts only on its own ticket.
 */
export const ticketChangedSchema = z
  .object({
    ticketId: z.string().trim().min(1).max(200),
    status: z.string().trim().min(1).max(200),
    closed: z.boolean(),
    by: who.optional(),
    resolution: z.string().trim().max(200).optional(),
    at: z.string().max(64).optional(),
    via: z.enum(['webhook', 'poll']),
  })
  .strict();
export type TicketChanged = z.infer<typeof ticketChangedSchema>;

export const operatorActionSchema = z.object({ by: who, reason: why }).strict();
export type OperatorAction = z.infer<typeof operatorActionSchema>;

export { detectionSchema as findingAddedSchema };
