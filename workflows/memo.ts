import type { PlanStep, StepTarget } from '../planner/types';

/** The memo field each activation's new decisions are written to; the history keeps every write. */
export const DECISIONS_MEMO = 'drwDecisions';
/** The patch that moved remediations onto the remediation core (workflows/remediation.ts). */
export const CORE_PATCH = 'remediation-core';
/** Runs begun with this marker establish facts with provenance and preview IaC changes before approval (remediation/state.ts). */
export const PLANNING_CHECKS_PATCH = 'planning-checks';
/** Runs begun with this marker close the loop (remediation/state.ts closedLoop); it implies the planning checks. */
export const CLOSED_LOOP_PATCH = 'closed-loop';
/** Runs begun with this marker post approval requests in chat and index their approvers (DrwApprovers); it implies the closed loop. */
export const APPROVAL_REQUESTS_PATCH = 'approval-requests';
/**
 * Runs begun with this marker (it implies the approval requests) publish as the main loop blocks,
 * in the same workflow task as before (a condition published after the loop had blocked, which
 * cost the SDK one more round of condition checks, a call into the workflow's context, in nearly
 * every workflow task); and update their visibility record less: a step started or done waits
 * for the next memo write, an empty inbox list is not written, and the decided outcome is the
 * status while the ticket closes (workflows/remediation.ts publish); and ask for the policy
 * without each step's defaults (planner/policy-wire.ts).
 */
export const PUBLISH_WHEN_BLOCKED_PATCH = 'publish-when-blocked';
/**
 * Runs begun with this marker (it implies publish-when-blocked) keep the main loop's wake-up timer
 * while the time it wakes for is unchanged: a message that leaves the next wake where it was (a
 * risk change, a repeat, an approval of one step of several) costs no TimerCanceled and
 * TimerStarted pair, two commands and two events in the history in the workflow task that handles it.
 */
export const WAKE_TIMER_PATCH = 'wake-timer-kept';
/**
 * What a new run records when it begins on the remediation core with the planning checks: one of
 * these, the newest of its release (each implies every earlier one). Readers of histories (the
 * audit report, the upgrade suite) know a core run by any of them.
 */
export const PLANNING_CHECKS_MARKERS: readonly string[] = [WAKE_TIMER_PATCH, PUBLISH_WHEN_BLOCKED_PATCH, APPROVAL_REQUESTS_PATCH, CLOSED_LOOP_PATCH, PLANNING_CHECKS_PATCH];
/**
 * Checked only where it matters (a change record whose step waits for an approval): runs with this
 * marker stop waking to read that change, which nothing reads until the approval. Runs before it
 * woke at a deadline already past, again and again, until the approval (remediation/core.ts nextWake).
 */
export const CHANGE_READ_WAKE_PATCH = 'change-read-wake';

/**
 * The memo field that lists the steps awaiting approval as an inbox shows them (approval-requests
 * runs): the approval inbox reads it from the visibility list instead of querying each workflow.
 */
export const AWAITING_MEMO = 'drwAwaiting';

export type AwaitingStep = Pick<PlanStep, 'id' | 'title' | 'action' | 'digest' | 'requestedBy'> & {
  approval: NonNullable<PlanStep['approval']>;
  target?: Pick<StepTarget, 'kind' | 'id' | 'name'>;
  /** When it began awaiting approval with this digest. */
  since: string;
};

export interface AwaitingMemo {
  /** The remediation's title (its severity, risk, asset, status and SLA are search attributes). */
  title: string;
  steps: AwaitingStep[];
}
