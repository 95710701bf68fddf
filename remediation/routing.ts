/**
 * The one routing table: which activity performs each plan action, on which kind of system,
 * and therefore on which task queue. The workflow proxies activities through it, the workers
 * register exactly the activities it names per queue, and the README's table is this table.
 * Type-only imports: it is part of the workflow bundle.
 */
import type { Activities } from '../activities';
import type { Action, PlanStep } from '../planner/types';

/** A kind of system: one task queue each, so each integration can be scaled and rate-limited alone. */
export const ACTIVITY_KINDS = ['policy', 'cmdb', 'ticketing', 'iac', 'endpoint', 'notify', 'runbook', 'identity', 'verify', 'change'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];
export type ActivityName = keyof Activities;

export interface Route {
  /** The kind of system, hence the task queue. */
  kind: ActivityKind;
  /** The activity that performs the action. */
  activity: ActivityName;
}

export const ACTION_ROUTES: Record<Action, Route> = {
  'ticket.open': { kind: 'ticketing', activity: 'openTicket' },
  'ticket.update': { kind: 'ticketing', activity: 'updateTicket' },
  'ticket.close': { kind: 'ticketing', activity: 'closeTicket' },
  'cmdb.lookup': { kind: 'cmdb', activity: 'lookupAsset' },
  'endpoint.isolate': { kind: 'endpoint', activity: 'isolateHost' },
  'endpoint.release': { kind: 'endpoint', activity: 'releaseHost' },
  'iac.pull_request': { kind: 'iac', activity: 'openPullRequest' },
  notify: { kind: 'notify', activity: 'notify' },
  // An escalation pages through the notifier and raises the ticket (TICKET_UPDATE below).
  escalate: { kind: 'notify', activity: 'notify' },
  'runbook.run': { kind: 'runbook', activity: 'runRunbook' },
  'identity.revoke_sessions': { kind: 'identity', activity: 'identityRevokeSessions' },
  'identity.disable': { kind: 'identity', activity: 'identityDisable' },
  'identity.enable': { kind: 'identity', activity: 'identityEnable' },
  // Verification fans out one `verify` call per check on the verify queue (VERIFY_CHECK).
  verify: { kind: 'verify', activity: 'verify' },
};

/** The failure type of every call to a kind with no provider on the worker (activities/registry.ts): the step is blocked, not failed. */
export const NO_PROVIDER = 'NoProvider';

/**
 * The kinds of system a step needs, its own first: a step under a change record needs the change
 * system too (`underChange` false: runs begun before change control, which ignore `change`).
 */
export function kindsOf(step: Pick<PlanStep, 'action' | 'change'>, underChange = true): ActivityKind[] {
  return [ACTION_ROUTES[step.action].kind, ...(underChange && step.change ? (['change'] as const) : [])];
}

/** What the workflow calls outside plan steps. */
export const LOAD_POLICY: Route = { kind: 'policy', activity: 'loadPolicy' };
export const LOOKUP_ASSET: Route = { kind: 'cmdb', activity: 'lookupAsset' };
/** Before planning: the EDR device an endpoint step will act on, checked against the asset. */
export const RESOLVE_DEVICE: Route = { kind: 'endpoint', activity: 'resolveDevice' };
/** The change an IaC step will push, previewed before anyone approves it. */
export const PREVIEW_CHANGE: Route = { kind: 'iac', activity: 'previewChange' };
export const TICKET_UPDATE: Route = { kind: 'ticketing', activity: 'updateTicket' };
export const TICKET_CLOSE: Route = { kind: 'ticketing', activity: 'closeTicket' };
/** Closed loop: the ticket's state (a person may close or reopen it), and reopening it with evidence. */
export const TICKET_READ: Route = { kind: 'ticketing', activity: 'getTicketState' };
export const TICKET_REOPEN: Route = { kind: 'ticketing', activity: 'reopenTicket' };
export const VERIFY_CHECK: Route = { kind: 'verify', activity: 'verify' };
/** A step's change record (ServiceNow Change): opened before it runs, read while the CAB decides, Implement, closed or canceled. */
export const CHANGE_OPEN: Route = { kind: 'change', activity: 'openChange' };
export const CHANGE_READ: Route = { kind: 'change', activity: 'getChange' };
export const CHANGE_START: Route = { kind: 'change', activity: 'markChangeImplementing' };
export const CHANGE_CLOSE: Route = { kind: 'change', activity: 'closeChange' };
export const CHANGE_CANCEL: Route = { kind: 'change', activity: 'cancelChange' };
/** A playbook's question to the policy engine (OPA), asked before the steps it decides. */
export const EVALUATE_POLICY: Route = { kind: 'policy', activity: 'evaluatePolicy' };
/** A step awaiting approval asked for in chat (Slack Block Kit with buttons), and the message replaced with its outcome. */
export const APPROVAL_REQUEST: Route = { kind: 'notify', activity: 'postApprovalRequest' };
export const APPROVAL_OUTCOME: Route = { kind: 'notify', activity: 'updateApprovalRequest' };

/**
 * The activities a worker of each kind registers: exactly those some route schedules on it.
 * (Verification reads each system inside the `verify` activity, on the verify queue.)
 */
export const ACTIVITIES_OF: Record<ActivityKind, ActivityName[]> = Object.fromEntries(
  ACTIVITY_KINDS.map((kind) => {
    const routes = [...Object.values(ACTION_ROUTES), LOAD_POLICY, LOOKUP_ASSET, RESOLVE_DEVICE, PREVIEW_CHANGE, TICKET_UPDATE, TICKET_CLOSE, TICKET_READ, TICKET_REOPEN, VERIFY_CHECK, EVALUATE_POLICY, CHANGE_OPEN, CHANGE_READ, CHANGE_START, CHANGE_CLOSE, CHANGE_CANCEL, APPROVAL_REQUEST, APPROVAL_OUTCOME];
    return [kind, [...new Set(routes.filter((r) => r.kind === kind).map((r) => r.activity))]];
  }),
) as Record<ActivityKind, ActivityName[]>;
