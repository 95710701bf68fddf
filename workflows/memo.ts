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
