/**
 * Who may decide a step, as the pages show it: the person holds the `decide` permission
 * (policies/access.yaml) and the step's own approval rule names them or one of their groups; the
 * requester of the step and someone who already approved are told why not. The workflow checks
 * the same again on the decision itself (remediation/core.ts admitDecision): this only decides
 * what a page offers, and refuses a forged form before it reaches Temporal.
 */
import { mayUndo } from '../../remediation/core';
import { normalizeIdentity } from '../../governance/identity';
import type { PlanStep } from '../../planner/types';

export interface Person {
  user: string;
  groups: string[];
  permissions: ReadonlySet<string>;
}

/** undefined: the person may decide the step now; else why not, in a sentence. */
export function whyNotDecide(p: Person, step: PlanStep): string | undefined {
  if (step.status !== 'awaiting_approval' || !step.approval) return `this step is ${step.status.replace(/_/g, ' ')}, not awaiting approval`;
  if (!p.permissions.has('decide')) return `${p.user} may not approve or deny steps: none of their groups [${p.groups.join(', ')}] has the "decide" permission in policies/access.yaml`;
  const a = step.approval;
  if (!mayUndo(p, { users: a.users, groups: a.groups })) {
    const needs = [a.users.length ? `one of users [${a.users.join(', ')}]` : '', a.groups.length ? `a member of [${a.groups.join(', ')}]` : ''].filter(Boolean).join(' or ');
    return `this step needs ${needs}`;
  }
  const me = normalizeIdentity(p.user);
  if (!a.allowRequester && normalizeIdentity(step.requestedBy) === me) return `${p.user} requested this step and may not decide their own change`;
  if (a.approvedBy.some((x) => normalizeIdentity(x) === me)) return `${p.user} already approved this step; it needs ${a.quorum} distinct approvers`;
  return undefined;
}
