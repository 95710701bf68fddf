import type { Detection } from '../domain/detection';
import type { ActivityKind } from '../remediation/routing';
import type { ApprovalTrust } from '../remediation/state';
import type { PreviousRemediation } from '../remediation/events';
import type { ApprovalMessages } from './approval-messages';

export { ACTIVITY_KINDS, type ActivityKind } from '../remediation/routing';

export interface RemediationOptions {
  /**
   * Task queue per kind of system, so each integration can be rate-limited on its own. A kind not
   * named here runs on `<the workflow's task queue>-<kind>` (taskQueueOf): workers of this release
   * accept an input that names only the queues that differ, so a later API can stop sending the
   * others (about 380 bytes of every history) once no older workflow worker runs. The API still
   * sends all of them: an older worker fails every workflow task of an input without them (the
   * rolling-upgrade suite runs this API against the build before the remediation core).
   */
  taskQueues?: Partial<Record<ActivityKind, string>>;
  /** Multiplies every policy duration (SLA, approval expiry, verification); tests and demos use < 1. */
  timeScale: number;
  /** Continue-as-new once history has this many events, even if the server has not suggested it yet. */
  maxHistoryEvents?: number;
  /** Link to this remediation for tickets and notifications. */
  linkBase?: string;
  /** With an audit archive: each run, once closed, is sealed into it by a workflow on this queue. */
  auditTaskQueue?: string;
  /** How often a change the CAB is deciding is read, in ms (DRW_CHANGE_POLL_INTERVAL); absent: 5 min × timeScale. */
  changePollMs?: number;
  /** How approvals prove who made them (remediation/state.ts ApprovalTrust); absent: unsigned approvals count. */
  approvals?: ApprovalTrust;
}

export interface RemediationInput {
  detection: Detection;
  dedupeKey: string;
  /** Who submitted the detection (API identity or pipeline); may not approve steps it caused. */
  requestedBy: string;
  receivedAt: string;
  options: RemediationOptions;
  /** Set by continue-as-new: the whole state of the previous run. */
  carried?: unknown;
  /** The closed remediation with the same id this one recurs after (the API found it when starting). */
  previous?: PreviousRemediation;
  /** Set by continue-as-new in runs that post approval requests in chat: the requests posted so far. */
  approvalMessages?: ApprovalMessages;
  /** Set by continue-as-new in runs that publish as their main loop blocks (PUBLISH_WHEN_BLOCKED_PATCH). */
  publishWhenBlocked?: true;
  /** Set by continue-as-new in runs that keep their wake-up timer (WAKE_TIMER_PATCH). */
  keepWakeTimer?: true;
}

/** The task queue of a kind of system: its own name when given, else the workflow's task queue + `-kind`. */
export function taskQueueOf(opts: Pick<RemediationOptions, 'taskQueues'>, kind: ActivityKind, workflowTaskQueue: string): string {
  return opts.taskQueues?.[kind] ?? `${workflowTaskQueue}-${kind}`;
}
