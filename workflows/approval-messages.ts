/**
 * The approval requests drw posts in chat (Slack Block Kit with Approve / Deny): once per step and
 * digest awaiting approval, on the notify queue; when the step is decided (in Slack, on the pages,
 * through the API), expires, is withdrawn or changes, the message is replaced with the outcome.
 * Beside the remediation, never on its path: the calls run next to the main loop, and what they did
 * (posted, not posted and why, not updated) is a decision in the log, never a stop.
 */
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { ApprovalRequestCall } from '../activities';
import { normalizeIdentity } from '../governance/identity';
import type { PlanStep, RetrySpec } from '../planner/types';
import type { DecisionEvent } from '../remediation/events';
import type { AwaitingMemo } from './memo';
import { APPROVAL_OUTCOME, APPROVAL_REQUEST } from '../remediation/routing';
import { remediationRef, type RemediationState } from '../remediation/state';
import { activitiesFor, failureMessage } from './activities';
import type { RemediationOptions } from './input';

/** What the driver knows of its requests; carried through continue-as-new (RemediationInput.approvalMessages). */
export interface ApprovalMessages {
  /** By step id: the digest asked about, since when (workflow time), and the messages posted for it. */
  steps: Record<string, { digest: string; since: string; posts: { channel: string; ts: string }[]; posting?: true; settled?: true }>;
  /** The notify worker has no chat configured: said once, not asked again in this remediation. */
  unconfigured?: true;
}

/** A chat outage gives up within about a quarter of a minute of attempts: approvals go on through the pages. */
const CHAT_CALL: RetrySpec = { maximumAttempts: 5, initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 10_000 };

export const NOT_CONFIGURED = 'no chat is configured for approval requests (SLACK_BOT_TOKEN on the notify workers)';

/** `group:<name>` and `user:<name>` (normalized) of the steps awaiting approval: the DrwApprovers search attribute. */
export function approversOf(s: Pick<RemediationState, 'plan'>): string[] {
  const out = new Set<string>();
  for (const step of s.plan.steps) {
    if (step.status !== 'awaiting_approval' || !step.approval) continue;
    for (const u of step.approval.users) out.add(`user:${normalizeIdentity(u)}`);
    for (const g of step.approval.groups) out.add(`group:${normalizeIdentity(g)}`);
  }
  return [...out].sort();
}

/** The steps awaiting approval as the inbox lists them (the AWAITING_MEMO memo field); `since` from the requests' record. */
export function awaitingOf(s: Pick<RemediationState, 'plan' | 'detection' | 'receivedAt'>, record: ApprovalMessages): AwaitingMemo {
  const steps: AwaitingMemo['steps'] = [];
  for (const x of s.plan.steps) {
    if (x.status !== 'awaiting_approval' || !x.approval) continue;
    const seen = record.steps[x.id];
    steps.push({
      id: x.id,
      title: x.title,
      action: x.action,
      digest: x.digest,
      requestedBy: x.requestedBy,
      approval: x.approval,
      ...(x.target ? { target: { kind: x.target.kind, id: x.target.id, ...(x.target.name ? { name: x.target.name } : {}) } } : {}),
      since: seen?.digest === x.digest ? seen.since : s.receivedAt,
    });
  }
  return { title: s.detection.title, steps };
}

/** The sentence that replaces a request: who decided and when, or what became of the step. */
export function outcomeText(s: Pick<RemediationState, 'plan' | 'decisions'>, stepId: string, digest: string): string {
  const step = s.plan.steps.find((x) => x.id === stepId);
  const where = `step ${stepId}, digest ${digest.slice(0, 12)}…`;
  if (step && step.status === 'awaiting_approval' && step.digest !== digest) return `Superseded: the step changed since this request (now digest ${step.digest.slice(0, 12)}…); a new request follows. (${where})`;
  const now = step ? `now ${step.status.replace(/_/g, ' ')}${step.note ? `, ${step.note}` : ''}` : 'withdrawn from the plan';
  for (let i = s.decisions.length - 1; i >= 0; i--) {
    const d = s.decisions[i];
    if (d.kind === 'approval' && d.stepId === stepId) return `${d.decision === 'approve' ? 'Approved' : 'Denied'} by ${d.approver} at ${d.at}: ${d.reason} (${where}; ${now})`;
    if (d.kind === 'approval_expired' && d.stepId === stepId) return `The approval expired at ${d.at}: ${d.onExpiry === 'deny' ? 'denied by policy' : d.onExpiry === 'auto_approve' ? 'approved by policy' : 'escalated'} (${where}; ${now})`;
  }
  return `No longer awaiting approval (${where}; ${now})`;
}

export interface ApprovalMessenger {
  /** Posts for steps newly awaiting approval and settles the messages of steps that are not any more. */
  sync(): void;
  /** No call in flight (before continuing as new or closing). */
  idle(): boolean;
}

export function approvalMessenger(o: { state: () => RemediationState; opts: RemediationOptions; record: ApprovalMessages; note: (e: DecisionEvent) => void }): ApprovalMessenger {
  const { record } = o;
  let inflight = 0;
  const chat = (route: typeof APPROVAL_REQUEST, summary: string) => activitiesFor(route.kind, o.opts, { timeoutMs: 30_000, retry: CHAT_CALL, summary });
  /** Beside the main loop, and out of a cancellation's reach: the outcome of a cancelled remediation is told too. */
  const beside = (work: () => Promise<void>) => {
    inflight++;
    void CancellationScope.nonCancellable(work).finally(() => {
      inflight--;
      sync();
    });
  };

  async function post(step: PlanStep, entry: ApprovalMessages['steps'][string]): Promise<void> {
    const s = o.state();
    const ref = remediationRef(s);
    const base = { kind: 'approval_request' as const, stepId: step.id, digest: step.digest };
    const call: ApprovalRequestCall = {
      idempotencyKey: `${ref}:${step.id}:approval:${step.digest.slice(0, 16)}`,
      remediationId: ref,
      remediation: { id: s.id, title: s.detection.title, severity: s.facts.severity, riskScore: s.facts.riskScore, asset: { id: s.facts.asset.id } },
      step,
      ...(o.opts.linkBase ? { pageUrl: `${o.opts.linkBase.replace(/\/$/, '')}/ui/remediations/${encodeURIComponent(s.id)}` } : {}),
    };
    try {
      const r = await chat(APPROVAL_REQUEST, `ask for the approval of ${step.id} in chat`).postApprovalRequest(call);
      if (!r.configured) {
        record.unconfigured = true;
        return o.note({ ...base, event: 'not_posted', channels: [], error: NOT_CONFIGURED });
      }
      entry.posts = r.posts.flatMap((p) => (p.ts ? [{ channel: p.channel, ts: p.ts }] : []));
      if (!r.posts.length) return o.note({ ...base, event: 'not_posted', channels: [], error: 'no channel for its approvers (SLACK_APPROVAL_CHANNELS)' });
      o.note({ ...base, event: 'posted', channels: r.posts.map((p) => p.channel) });
    } catch (e) {
      o.note({ ...base, event: 'not_posted', channels: [], error: isCancellation(e) ? 'cancelled' : failureMessage(e) });
    } finally {
      delete entry.posting;
    }
  }

  async function settle(stepId: string, entry: ApprovalMessages['steps'][string]): Promise<void> {
    const s = o.state();
    const ref = remediationRef(s);
    try {
      await chat(APPROVAL_OUTCOME, `tell the outcome of ${stepId} in chat`).updateApprovalRequest({
        idempotencyKey: `${ref}:${stepId}:approval:${entry.digest.slice(0, 16)}:outcome`,
        remediationId: ref,
        posts: entry.posts,
        text: outcomeText(s, stepId, entry.digest),
      });
    } catch (e) {
      o.note({ kind: 'approval_request', stepId, digest: entry.digest, event: 'update_failed', channels: entry.posts.map((p) => p.channel), error: isCancellation(e) ? 'cancelled' : failureMessage(e) });
    }
  }

  function sync(): void {
    const s = o.state();
    const awaiting = new Map(s.plan.steps.filter((x) => x.status === 'awaiting_approval').map((x) => [x.id, x]));
    for (const [id, entry] of Object.entries(record.steps)) {
      // A request still being posted is settled once it is (sync runs again when it returns).
      if (entry.posting || entry.settled || awaiting.get(id)?.digest === entry.digest) continue;
      entry.settled = true;
      if (entry.posts.length) beside(() => settle(id, entry));
    }
    for (const step of awaiting.values()) {
      const entry = record.steps[step.id];
      if (entry && (entry.digest === step.digest || entry.posting)) continue;
      // Recorded (since when it awaits) even without a chat to post to: the inbox lists it oldest first.
      const fresh: ApprovalMessages['steps'][string] = { digest: step.digest, since: new Date().toISOString(), posts: [], ...(record.unconfigured ? {} : { posting: true as const }) };
      record.steps[step.id] = fresh;
      if (!record.unconfigured) beside(() => post(step, fresh));
    }
  }

  return { sync, idle: () => inflight === 0 };
}
