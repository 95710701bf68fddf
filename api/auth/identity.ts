/**
 * With person authentication configured, who acts comes from the token: the body may repeat
 * the approver/by/groups, but a value that differs from the token is refused (403) rather
 * than silently replaced, so a client that believes it acts as someone else finds out.
 */
import { z } from 'zod';
import { DIGEST_PATTERN } from '../../planner/digest';
import type { ApprovalDecision, OperatorAction, RiskScoreChanged } from '../../signals';
import { ApiError } from '../service';
import { forbidden } from './errors';
import type { Principal } from './users';

const who = z.string().trim().min(1).max(200);
const why = z.string().trim().min(1).max(2000);
const MAX_GROUPS = 100;

/** approve/deny bodies when the token names the approver (identity optional). */
export const tokenApprovalSchema = z
  .object({ approver: who.optional(), groups: z.array(z.string().trim().min(1).max(200)).max(MAX_GROUPS).optional(), reason: why, digest: z.string().regex(DIGEST_PATTERN, 'a step digest is 64 lowercase hexadecimal characters').optional() })
  .strict();
/** pause/resume/cancel/false-positive bodies when the token names the operator. */
export const tokenOperatorSchema = z.object({ by: who.optional(), reason: why }).strict();

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
  return { approver: sameUser(p, 'approver', body.approver), groups: sameGroups(p, body.groups), reason: body.reason, ...(body.digest ? { digest: body.digest } : {}) };
}

export function operatorFromToken(p: Principal, body: z.infer<typeof tokenOperatorSchema>): OperatorAction {
  return { by: sameUser(p, 'by', body.by), reason: body.reason };
}

export function riskFromToken(p: Principal, body: RiskScoreChanged): RiskScoreChanged {
  return { ...body, by: sameUser(p, 'by', body.by) };
}
