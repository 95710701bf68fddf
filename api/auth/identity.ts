/**
 * With person authentication configured, who acts comes from the token: the body may repeat
 * the approver/by/groups, but a value that differs from the token is refused (403) rather
 * than silently replaced, so a client that believes it acts as someone else finds out.
 */
import { z } from 'zod';
import { approvalDecisionSchema, operatorActionSchema, type ApprovalDecision, type OperatorAction, type RiskScoreChanged } from '../../signals';
import { ApiError } from '../service';
import { forbidden } from './errors';
import type { Principal } from './users';

const who = z.string().trim().min(1).max(200);
const MAX_GROUPS = 100;

/**
 * approve/deny bodies when the token names the approver (identity optional). Derived from the
 * signal's own schema, so fields added there (the digest the approver saw) pass through.
 */
export const tokenApprovalSchema = approvalDecisionSchema
  .omit({ stepId: true, approver: true, groups: true, assertion: true })
  .extend({ approver: who.optional(), groups: z.array(z.string().trim().min(1).max(200)).max(MAX_GROUPS).optional() });
/** pause/resume/cancel/false-positive bodies when the token names the operator. */
export const tokenOperatorSchema = operatorActionSchema.extend({ by: who.optional() });

const list = (xs: string[]) => `[${xs.join(', ')}]`;

export function sameUser(p: Principal, field: 'approver' | 'by', value: string | undefined): string {
  if (value !== undefined && value !== p.user) {
    throw forbidden(`${field} "${value}" in the body differs from the authenticated user "${p.user}" (token claim ${p.userClaim}); omit ${field}, it is taken from the token`);
  }
  return p.user;
}

export function sameGroups(p: Principal, groups: string[] | undefined): string[] {
  if (groups !== undefined) {
    const notInToken = groups.filter((g) => !p.groups.includes(g));
    const onlyInToken = p.groups.filter((g) => !groups.includes(g));
    if (notInToken.length) throw forbidden(`groups ${list(notInToken)} in the body are not in the token of "${p.user}" (token groups ${list(p.groups)}); omit groups, they are taken from the token`);
    if (onlyInToken.length) throw forbidden(`groups in the body ${list(groups)} differ from the token of "${p.user}" (token groups ${list(p.groups)}); omit groups, they are taken from the token`);
  }
  if (p.groups.length > MAX_GROUPS) {
    throw new ApiError(400, `the token of "${p.user}" carries ${p.groups.length} groups; at most ${MAX_GROUPS} are accepted: point DRW_JWT_GROUPS_CLAIM at a narrower claim`);
  }
  return p.groups;
}

export function approvalFromToken(p: Principal, body: z.infer<typeof tokenApprovalSchema>): Omit<ApprovalDecision, 'stepId'> {
  return { ...body, approver: sameUser(p, 'approver', body.approver), groups: sameGroups(p, body.groups) };
}

export function operatorFromToken(p: Principal, body: z.infer<typeof tokenOperatorSchema>): OperatorAction {
  return { ...body, by: sameUser(p, 'by', body.by) };
}

export function riskFromToken(p: Principal, body: RiskScoreChanged): RiskScoreChanged {
  return { ...body, by: sameUser(p, 'by', body.by) };
}
