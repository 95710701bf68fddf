/**
 * The decision log: every decision a remediation makes, as a typed event with structured
 * fields. Reports, the replayer and `drw policy whatif` read these fields; the sentence a
 * person reads is rendered from them (`describe`) and never parsed back.
 */
import type { Asset, Severity } from '../domain/detection';
import { formatDuration } from '../planner/durations';
import { FACT_NAMES, type Provenance } from '../planner/provenance';
import type { EscalationTrigger, ExpiryAction, PlanDiffEntry, RemediationStatus, StepTarget } from '../planner/types';

export type OperatorVerb = 'pause' | 'resume' | 'cancel' | 'false_positive';
export type MessageName =
  | 'approve'
  | 'deny'
  | 'riskScoreChanged'
  | 'findingAdded'
  | 'findingResolved'
  | 'policyUpdated'
  | 'ticketChanged'
  | 'pause'
  | 'resume'
  | 'cancel'
  | 'falsePositive';

export type DecisionEvent =
  | { kind: 'received'; source: string; title: string; dedupeKey: string; rawRef?: unknown; previous?: PreviousRemediation; by: string }
  | { kind: 'enriched'; asset: Asset; cmdbFound: boolean; ciId?: string; riskScore: number; riskWhy: string; facts?: Provenance; device?: StepTarget; deviceError?: string }
  | { kind: 'enrichment_failed'; error: string }
  | { kind: 'plan'; planVersion: number; policyVersion: string; playbook: string; selection: string; diff: PlanDiffEntry[]; trigger: string; by?: string }
  | { kind: 'sla'; severity: Severity; windowMs: number; deadline: string }
  | { kind: 'escalation'; trigger: EscalationTrigger; why: string }
  | { kind: 'approval'; decision: 'approve' | 'deny'; stepId: string; fingerprint: string; approver: string; groups: string[]; via: 'update' | 'signal'; reason: string; by: string }
  | { kind: 'approval_expired'; stepId: string; fingerprint: string; onExpiry: ExpiryAction; afterMs: number; by: string }
  | { kind: 'rejected'; message: MessageName; error: string; by?: string }
  | { kind: 'risk_changed'; from: number; to: number; reason?: string; by?: string }
  | { kind: 'repeat'; findingCount: number; source: string; rule: string; observedAt?: string }
  | { kind: 'resolved_at_source'; reason: string; by?: string }
  | { kind: 'policy_updated'; from?: string; to: string; reason: string; by?: string }
  | { kind: 'policy_update_failed'; version?: string; current?: string; error: string; by?: string }
  | { kind: 'operator'; action: OperatorVerb; by: string; reason: string }
  | { kind: 'window_hold'; stepId: string; until: string }
  | { kind: 'step_started'; stepId: string; action: string }
  | { kind: 'step_done'; stepId: string; result: Record<string, unknown> }
  | { kind: 'step_failed'; stepId: string; error: string }
  | { kind: 'step_blocked'; stepId: string; reason: string }
  | { kind: 'step_cancelled'; stepId: string; note: string }
  | { kind: 'verification_failed'; stepId: string; error: string }
  | { kind: 'change_previewed'; stepId: string; repository: string; files: string[]; baseCommit: string; digest: string; noChange?: true }
  | { kind: 'compensated'; stepId: string; action: string; result: Record<string, unknown> }
  | { kind: 'compensation_failed'; stepId: string; error: string }
  | { kind: 'ticket_update_failed'; purpose: 'repeats' | 'close' | 'reopen' | 'poll'; error: string }
  /** A person closed or reopened the remediation's ticket (seen through a webhook or drw's poll). */
  | { kind: 'ticket_changed'; ticketId: string; status: string; closed: boolean; via: 'webhook' | 'poll' | 'drw'; by: string; resolution?: string }
  /** The verification run because a person closed the ticket. */
  | { kind: 'owner_verification'; ticketId: string; by: string; verified: boolean; failures: string[]; checks: number }
  /** A step's change record (ServiceNow Change): opened, approved or rejected by the CAB, implementing, closed or canceled. */
  | { kind: 'change'; stepId: string; number: string; event: ChangeEvent; state: string; people?: string[]; plannedStart?: string; outcome?: string; reason?: string }
  /** The policy engine's answer to a playbook's question (a fact from the policy engine), or why there is none. */
  | { kind: 'policy_decision'; path: string; key: string; result?: unknown; decisionId?: string; engine?: string; revisions?: Record<string, string>; error?: string }
  /**
   * drw's approval request in chat (Slack) for a step and digest: posted to its channels, not posted
   * (no chat configured, or the vendor failed after retries: approvals go on through the pages and
   * the API), or its replacement with the outcome failed.
   */
  | { kind: 'approval_request'; stepId: string; digest: string; event: 'posted' | 'not_posted' | 'update_failed'; channels: string[]; error?: string }
  /** drw reopened the ticket a person closed, with what is not fixed. */
  | { kind: 'ticket_reopened'; ticketId: string; evidence: string[] }
  | { kind: 'continued_as_new'; historyLength: number; run: number }
  | { kind: 'final'; status: RemediationStatus; resolution: string }
  /** An entry of a pre-core decision log (prose only), kept as its text. */
  | { kind: 'legacy'; was: string; text: string; by?: string };

/** The closed remediation with the same id a new one recurs after. */
export interface PreviousRemediation {
  runId: string;
  /** Its Temporal execution status, lower case (completed, failed, terminated, ...). */
  status: string;
  closedAt?: string;
  /** How drw ended it (its DrwStatus): `remediated` makes this one a regression. */
  outcome?: string;
}

export type ChangeEvent = 'opened' | 'approved' | 'rejected' | 'implementing' | 'closed' | 'canceled' | 'unsettled';

export type DecisionKind = DecisionEvent['kind'];

/** Every kind, for schemas and documentation (the compiler checks it against the union). */
export const DECISION_KINDS = [
  'received', 'enriched', 'enrichment_failed', 'plan', 'sla', 'escalation', 'approval', 'approval_expired', 'rejected', 'risk_changed',
  'repeat', 'resolved_at_source', 'policy_updated', 'policy_update_failed', 'operator', 'window_hold', 'step_started', 'step_done', 'step_failed', 'step_blocked', 'step_cancelled',
  'verification_failed', 'change_previewed', 'compensated', 'compensation_failed', 'ticket_update_failed', 'ticket_changed', 'owner_verification', 'ticket_reopened', 'policy_decision', 'change',
  'approval_request', 'continued_as_new', 'final', 'legacy',
] as const satisfies readonly DecisionKind[];
type Missing = Exclude<DecisionKind, (typeof DECISION_KINDS)[number]>;
const everyKindListed: [Missing] extends [never] ? true : Missing = true;
void everyKindListed;

/** An event as the log keeps it: numbered, timed. */
export type Decision = DecisionEvent & { seq: number; at: string };

/** What queries and the API show: the event and its sentence. */
export type DescribedDecision = Decision & { summary: string };

/** The sentence a person reads for an event. */
export function describe(e: DecisionEvent): string {
  switch (e.kind) {
    case 'received':
      return `detection received from ${e.source}: ${e.title}${e.previous ? ` (${recurrence(e.previous)}: this one has its own ticket and changes)` : ''}`;
    case 'enriched':
      return `facts: ${e.cmdbFound ? `CMDB ${e.ciId ?? 'record'} found` : 'asset not in the CMDB'}; risk ${e.riskScore} (${e.riskWhy})${e.facts ? `; ${factsSummary(e.facts)}` : ''}${
        e.device ? `; device ${e.device.id} (${e.device.name ?? '?'}, ${e.device.vendor ?? 'EDR'}, via ${e.device.via})` : e.deviceError ? `; no verified device: ${e.deviceError}` : ''
      }`;
    case 'change_previewed':
      return `change for ${e.stepId} previewed: ${e.repository} at ${e.baseCommit.slice(0, 12)}, ${e.noChange ? 'nothing to change' : e.files.join(', ') || 'no file changes'} (change ${e.digest.slice(0, 12)}…)`;
    case 'enrichment_failed':
      return `CMDB lookup failed, planning as for an asset the CMDB does not know: ${e.error}`;
    case 'plan':
      return `plan v${e.planVersion}: ${e.trigger}`;
    case 'sla':
      return `exposure window for ${e.severity}: ${formatDuration(e.windowMs)} (until ${e.deadline})`;
    case 'escalation':
      return `escalation (${e.trigger}): ${e.why}`;
    case 'approval':
      return `${e.approver} ${e.decision === 'approve' ? 'approved' : 'denied'} ${e.stepId}: ${e.reason}`;
    case 'approval_expired':
      return `approval of ${e.stepId} expired: ${e.onExpiry === 'deny' ? 'denied by policy' : e.onExpiry === 'auto_approve' ? 'auto-approved by policy' : 'escalated'}`;
    case 'rejected':
      return `${e.message === 'approve' || e.message === 'deny' ? `${e.message} signal` : e.message} refused: ${e.error}`;
    case 'risk_changed':
      return `risk score ${e.from} → ${e.to}: ${e.reason ?? 'no reason given'}`;
    case 'repeat':
      return `repeat #${e.findingCount - 1} of this finding (${e.source}/${e.rule}) at ${e.observedAt ?? 'unknown time'}`;
    case 'resolved_at_source':
      return `finding resolved at the source: ${e.reason}`;
    case 'policy_updated':
      return `policy ${e.from ?? '-'} → ${e.to}: ${e.reason}`;
    case 'policy_update_failed':
      return `policy ${e.version ?? 'update'} not loaded, staying on ${e.current ?? 'the current policy'}: ${e.error}`;
    case 'operator':
      return `${OPERATOR_VERBS[e.action]} by ${e.by}: ${e.reason}`;
    case 'window_hold':
      return `${e.stepId} is disruptive; held until the change window opens at ${e.until}`;
    case 'step_started':
      return `${e.stepId} started (${e.action})`;
    case 'step_done':
      return `${e.stepId} done${e.result.skipped ? ` (nothing to do: ${String(e.result.skipped)})` : ''}`;
    case 'step_failed':
      return `${e.stepId} failed: ${e.error}`;
    case 'step_blocked':
      return `${e.stepId} blocked: ${e.reason}`;
    case 'step_cancelled':
      return `${e.stepId} cancelled: ${e.note}`;
    case 'verification_failed':
      return `${e.stepId} failed: ${e.error}`;
    case 'compensated':
      return `${e.stepId} compensated with ${e.action}`;
    case 'compensation_failed':
      return `compensation of ${e.stepId} failed: ${e.error}`;
    case 'ticket_update_failed':
      return `could not ${TICKET_PURPOSES[e.purpose]}: ${e.error}`;
    case 'ticket_changed':
      return `ticket ${e.ticketId} ${e.closed ? 'closed' : 'reopened'} by ${e.by} (${e.status}${e.resolution ? `, ${e.resolution}` : ''}; seen by ${e.via})`;
    case 'owner_verification':
      return e.verified
        ? `after ${e.by} closed ticket ${e.ticketId}: verified (${e.checks} check${e.checks === 1 ? '' : 's'} passed)`
        : `after ${e.by} closed ticket ${e.ticketId}: not verified (${e.failures.join('; ')})`;
    case 'change':
      return `change ${e.number} for ${e.stepId} ${CHANGE_EVENTS[e.event]}${e.people?.length ? ` by ${e.people.join(', ')}` : ''}${e.plannedStart ? ` (planned from ${e.plannedStart})` : ''}${e.outcome ? ` (${e.outcome})` : ''}${e.reason ? `: ${e.reason}` : ''} [${e.state}]`;
    case 'policy_decision':
      return e.error !== undefined
        ? `policy engine gave no answer at ${e.path}: ${e.error}`
        : `policy engine (${e.engine ?? 'engine'}) answered ${JSON.stringify(e.result)} at ${e.path}${e.decisionId ? ` (decision ${e.decisionId})` : ''}`;
    case 'approval_request':
      return e.event === 'posted'
        ? `approval request for ${e.stepId} (digest ${e.digest.slice(0, 12)}…) posted to ${e.channels.join(', ')}`
        : e.event === 'not_posted'
          ? `approval request for ${e.stepId} not posted (approve through the pages or the API): ${e.error ?? 'no channel'}`
          : `approval request for ${e.stepId} in ${e.channels.join(', ')} not updated with the outcome: ${e.error ?? 'unknown error'}`;
    case 'ticket_reopened':
      return `ticket ${e.ticketId} reopened: the fix is not verified (${e.evidence.join('; ')})`;
    case 'continued_as_new':
      return `continuing as new after ${e.historyLength} history events (run ${e.run})`;
    case 'final':
      return `remediation ${e.status} (${e.resolution})`;
    case 'legacy':
      return e.text;
  }
}

const CHANGE_EVENTS: Record<ChangeEvent, string> = {
  opened: 'opened, waiting for its approval',
  approved: 'approved',
  rejected: 'rejected',
  implementing: 'implementing',
  closed: 'closed',
  canceled: 'canceled',
  unsettled: 'left as it is',
};

const TICKET_PURPOSES: Record<Extract<DecisionEvent, { kind: 'ticket_update_failed' }>['purpose'], string> = {
  repeats: 'update the ticket with repeats',
  close: 'close the ticket',
  reopen: 'reopen the ticket',
  poll: 'read the ticket',
};

/** How a recurrence names the remediation it follows; one that was remediated makes this a regression. */
function recurrence(p: PreviousRemediation): string {
  const when = p.closedAt ? ` at ${p.closedAt}` : '';
  return p.outcome === 'remediated' ? `regression: run ${p.runId} remediated this finding${when}, and it came back` : `it recurs after the remediation of run ${p.runId}, ${p.outcome ?? p.status}${when}`;
}

const OPERATOR_VERBS: Record<OperatorVerb, string> = {
  pause: 'paused',
  resume: 'resumed',
  cancel: 'cancel requested',
  false_positive: 'marked a false positive',
};

/** Who made the decision, when an identity is part of it. */
export function actorOf(e: DecisionEvent): string | undefined {
  return 'by' in e ? e.by : undefined;
}

export function described(d: Decision): DescribedDecision {
  return { ...d, summary: describe(d) };
}

/** The decisions made after `seq`: the log's tail, found from its end (an event adds a few to a long log). */
export function decisionsSince<D extends { seq: number }>(log: readonly D[], seq: number): D[] {
  let i = log.length;
  while (i > 0 && log[i - 1].seq > seq) i--;
  return log.slice(i);
}

/** `environment production (cmdb), criticality high (detection), …`: each approval-deciding fact and its origin. */
function factsSummary(p: Provenance): string {
  return FACT_NAMES.filter((n) => n !== 'riskScore' && p[n])
    .map((n) => `${n} ${String(p[n]!.value)} (${p[n]!.from})`)
    .join(', ');
}
