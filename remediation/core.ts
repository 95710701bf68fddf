/**
 * The remediation core: what every message and every activity outcome does to a remediation.
 * `apply(state, event, ctx)` returns the next state and the effects the driver must carry out;
 * `nextWork(state, ctx)` says what the driver should do next. No Temporal import, no clock of
 * its own, no I/O: the workflow (workflows/remediation.ts) drives it, and the replayer, the
 * what-if and the tests call the same functions in plain Node.
 */
import { MAX_DETAILS_BYTES } from '../domain/details';
import { detectionSchemaWith } from '../domain/detection';

import type { AssetFacts, ChangePreview, ChangeRef, ChangeState, ResolvedDevice, TicketRef, TicketState, VerifyCheck } from '../activities/interfaces';
import { paramsDigest } from '../planner/digest';
import { buildPlan, choosePlaybook } from '../planner/plan';
import type { PolicySet } from '../planner/policy-schema';
import { riskTrusted } from '../planner/provenance';
import { withRepeat } from '../planner/facts';
import { nextWindowOpen } from '../planner/windows';
import { SETTLED, type ApprovalRecord, type EscalationTrigger, type PlanStep, type PreviewedChange, type RemediationStatus, type StepTarget } from '../planner/types';
import { verifyAssertion } from '../governance/assertion';
import { isReservedIdentity, normalizeIdentity } from '../governance/identity';
import {
  approvalDecisionSchema,
  findingResolvedSchema,
  operatorActionSchema,
  policyUpdatedSchema,
  riskScoreChangedSchema,
  ticketChangedSchema,
  type ApprovalDecision,
  type TicketChanged,
} from '../signals/messages';
import type { DecisionEvent, MessageName, OperatorVerb, PreviousRemediation } from './events';
import { kindsOf } from './routing';
import type { PolicyAnswer, PolicyAsk } from '../planner/policy-engine';
import { sourceFindingRef } from '../ingest/source-ref';
import { OPEN_TRUST, awaitingCab, factsAfterLookup, plannerState, pushDecision, type RemediationState, type StepChange } from './state';

/** A repeat's detection: the largest details the API may be configured to accept (DRW_MAX_DETAILS_BYTES) pass. */
const repeatSchema = detectionSchemaWith({ maxDetailsBytes: MAX_DETAILS_BYTES });

export interface CoreContext {
  /** Workflow time, in ms since the epoch. */
  now: number;
  /** Multiplies every policy duration (SLA, approval expiry, verification, repeat reports). */
  timeScale: number;
  /** How often a change the CAB is deciding is read (unscaled); absent: CHANGE_POLL_EVERY_MS, scaled. */
  changePollMs?: number;
}

/** Everything that can happen to a remediation. */
export type CoreEvent =
  | { kind: 'started'; previous?: PreviousRemediation }
  | { kind: 'message'; name: MessageName; payload: unknown; via?: 'update' | 'signal' }
  | { kind: 'policy_loaded'; policy: PolicySet }
  | { kind: 'policy_reload_started' }
  | { kind: 'policy_reloaded'; policy: PolicySet; request: NonNullable<RemediationState['policyReloadRequested']> }
  /** The announced version could not be loaded (unknown to every worker, or invalid): the remediation keeps its policy. */
  | { kind: 'policy_reload_failed'; request: NonNullable<RemediationState['policyReloadRequested']>; error: string }
  /** The CMDB's answer, and the EDR device the endpoint steps will act on (resolved and checked before anyone approves them). */
  | { kind: 'asset_looked_up'; cmdb?: AssetFacts; error?: string; device?: ResolvedDevice; deviceError?: string }
  /** Time passed: SLA breach and approval expiry (only the SLA while a verification holds the loop). */
  | { kind: 'tick'; only?: 'sla' }
  /** An escalation or an expiry known to have happened (what-if replays and policy tests, which have no clock). */
  | { kind: 'escalate'; trigger: EscalationTrigger; why: string }
  | { kind: 'expire_approval'; stepId: string }
  | { kind: 'window_hold'; stepId: string; untilMs: number }
  | { kind: 'window_open' }
  | { kind: 'step_started'; stepId: string }
  | { kind: 'step_done'; stepId: string; result: Record<string, unknown>; ticket?: TicketRef; cmdb?: AssetFacts }
  | { kind: 'step_failed'; stepId: string; error: string; cancelled?: boolean; verification?: boolean; blocked?: boolean }
  | { kind: 'change_previewed'; stepId: string; forParams: string; preview: ChangePreview }
  | { kind: 'change_preview_failed'; stepId: string; error: string }
  | { kind: 'compensated'; stepId: string; action: string; result: Record<string, unknown> }
  | { kind: 'compensation_failed'; stepId: string; error: string }
  | { kind: 'repeats_reported' }
  | { kind: 'ticket_update_failed'; purpose: 'repeats' | 'close' | 'reopen' | 'poll'; error: string }
  /** drw is closing its ticket as the remediation ends: the ticketing system's echo of that close is no person's. */
  | { kind: 'ticket_closing' }
  /** drw read its ticket (closed loop): what the ticketing system showed, or why it could not say. */
  | { kind: 'ticket_polled'; state?: TicketState; error?: string }
  /** The verification run after a person closed the ticket: what failed ([] = confirmed). */
  | { kind: 'owner_checked'; failures: string[]; checks: number }
  | { kind: 'ticket_reopened'; ticketId: string; evidence: string[] }
  /** A step's change record: opened (with what the change system says of it), read again, moved to Implement, closed or canceled. */
  | { kind: 'change_opened'; stepId: string; ref: ChangeRef; state: ChangeState }
  | { kind: 'change_read'; stepId: string; state?: ChangeState; error?: string }
  | { kind: 'change_implementing'; stepId: string; state: ChangeState }
  | { kind: 'change_settled'; stepId: string; how: 'closed' | 'canceled'; state: ChangeState; outcome?: string; reason?: string }
  /** The change system refused or could not be reached to close or cancel it: left for people, and said so. */
  | { kind: 'change_unsettled'; stepId: string; how: 'close' | 'cancel'; error: string }
  /** The policy engine's answers to the plan's questions (an error where it gave none). */
  | { kind: 'policy_answered'; answers: PolicyAnswer[] }
  /** The policy worker has no provider for these kinds (fail closed at planning). */
  | { kind: 'providers_missing'; unprovided: Record<string, string> }
  | { kind: 'continuing_as_new'; historyLength: number }
  | { kind: 'finished'; status: FinalStatus; resolution: string };

export type FinalStatus = Extract<RemediationStatus, 'remediated' | 'resolved' | 'failed' | 'cancelled'>;

export type Effect =
  /** Search attributes, current details and new decisions should reach history. */
  | { kind: 'publish' }
  /** A re-plan withdrew the step the driver is running. */
  | { kind: 'cancel_running'; stepId: string };

export interface Applied {
  state: RemediationState;
  effects: Effect[];
}

/** Why an approve/deny is refused; `type` is the failure type clients map to HTTP status. */
export interface Refusal {
  type: 'InvalidInput' | 'UnknownStep' | 'NotAwaitingApproval' | 'Unauthorized' | 'SelfApproval' | 'DuplicateApproval' | 'DigestMismatch' | 'ChangeNotPreviewed';
  message: string;
}

/** What the driver should do next. */
export type Work =
  | { kind: 'reload_policy'; request: NonNullable<RemediationState['policyReloadRequested']> }
  | { kind: 'tick' }
  | { kind: 'wind_down'; status: FinalStatus; resolution: string }
  | { kind: 'paused' }
  | { kind: 'report_repeats' }
  | { kind: 'hold'; step: PlanStep; untilMs: number }
  /** `request.blocked`: nothing to ask (no repository known); the driver reports the preview failed. */
  | { kind: 'preview_change'; step: PlanStep; request: PullRequestRequest | { blocked: string }; forParams: string }
  /** A step that runs under a change record: open it, read it while the CAB decides, or close/cancel it once the step is settled. */
  | { kind: 'open_change'; step: PlanStep }
  | { kind: 'read_change'; stepId: string; changeId: string }
  | { kind: 'settle_change'; stepId: string; changeId: string; how: 'close' | 'cancel'; outcome: 'successful' | 'unsuccessful'; reason: string }
  /** Ask the policy engine what the plan needs to know before anything runs. */
  | { kind: 'ask_policy_engine'; asks: PolicyAsk[] }
  /** Read the ticket: a person may have closed or reopened it (closed loop). */
  | { kind: 'poll_ticket'; ticketId: string }
  /** A person closed the ticket: run the verification's checks once, now. */
  | { kind: 'owner_check'; step: PlanStep }
  /** The checks after a person's close failed: reopen the ticket with them. */
  | { kind: 'reopen_ticket'; ticketId: string; evidence: string[] }
  | { kind: 'run'; step: PlanStep }
  | { kind: 'finish'; status: FinalStatus; resolution: string }
  /** `wakeBeforeFix`: where runs begun before CHANGE_READ_WAKE_PATCH woke instead (workflows/remediation.ts replays them with it). */
  | { kind: 'wait'; wake?: { at: number; what: string }; wakeBeforeFix?: { at: number; what: string } };

/** How often repeats are told to the ticket, at most (before the time scale). */
const REPEAT_REPORT_EVERY_MS = 60_000;
/** How often drw reads its open ticket when no webhook told it first (before the time scale). */
export const TICKET_POLL_EVERY_MS = 15 * 60_000;
/** How often drw reads a change record the CAB has not decided yet (before the time scale). */
export const CHANGE_POLL_EVERY_MS = 5 * 60_000;

export const scaled = (ctx: CoreContext, ms: number) => Math.max(1, Math.round(ms * ctx.timeScale));

// ---------------------------------------------------------------------------------------------
// apply

export function apply(state: RemediationState, event: CoreEvent, ctx: CoreContext): Applied {
  const t = new Transition(state, ctx);
  t.handle(event);
  return { state: t.s, effects: t.effects };
}

/** One transition: a private copy of the state, changed step by step, and the effects it asks for. */
class Transition {
  readonly s: RemediationState;
  readonly effects: Effect[] = [];

  constructor(
    state: RemediationState,
    private readonly ctx: CoreContext,
  ) {
    // Copy what a transition may change in place; everything else is replaced, never mutated.
    this.s = {
      ...state,
      plan: { ...state.plan, steps: state.plan.steps.map((x) => ({ ...x })) },
      approvals: [...state.approvals],
      escalations: [...state.escalations],
      approvalDeadlines: { ...state.approvalDeadlines },
      expiredApprovals: [...state.expiredApprovals],
      running: [...state.running],
      decisions: [...state.decisions],
    };
  }

  handle(e: CoreEvent): void {
    const s = this.s;
    switch (e.kind) {
      case 'started':
        if (e.previous?.outcome === 'remediated') s.regressionOf = e.previous.runId;
        this.decide({ kind: 'received', source: s.detection.source, title: s.detection.title, dedupeKey: s.dedupeKey, ...(s.detection.rawRef ? { rawRef: s.detection.rawRef } : {}), ...(e.previous ? { previous: e.previous } : {}), by: s.requestedBy });
        return;
      case 'message':
        return this.message(e.name, e.payload, e.via ?? 'signal');
      case 'policy_loaded':
        s.policy = e.policy;
        return;
      case 'policy_reload_started':
        s.policyReloadRequested = undefined;
        return;
      case 'policy_reloaded': {
        const from = s.policy?.version;
        s.policy = e.policy;
        this.decide({ kind: 'policy_updated', ...(from ? { from } : {}), to: e.policy.version, reason: e.request.reason, ...(e.request.by ? { by: e.request.by } : {}) });
        this.replan(`policy updated to ${e.policy.version}`, e.request.by);
        return;
      }
      case 'policy_reload_failed':
        this.decide({ kind: 'policy_update_failed', ...(e.request.version ? { version: e.request.version } : {}), ...(s.policy ? { current: s.policy.version } : {}), error: e.error, ...(e.request.by ? { by: e.request.by } : {}) });
        this.publish();
        return;
      case 'asset_looked_up': {
        if (e.error) this.decide({ kind: 'enrichment_failed', error: e.error });
        s.cmdb = e.cmdb;
        const { facts, riskWhy } = factsAfterLookup(s, e.error ? undefined : s.cmdb);
        s.facts = facts;
        const asset = facts.asset;
        const ciId = s.cmdb?.ciId ?? s.cmdb?.name;
        const device: StepTarget | undefined = e.device ? { kind: 'device', id: e.device.deviceId, name: e.device.hostname, via: e.device.via, vendor: e.device.vendor } : undefined;
        if (device) s.targets = Object.fromEntries(DEVICE_ACTIONS.map((a) => [a, device]));
        if (e.deviceError) s.targetProblem = e.deviceError;
        this.decide({
          kind: 'enriched',
          asset,
          cmdbFound: Boolean(s.cmdb?.found),
          ...(ciId ? { ciId } : {}),
          riskScore: facts.riskScore,
          riskWhy,
          ...(facts.provenance ? { facts: facts.provenance } : {}),
          ...(device ? { device } : {}),
          ...(e.deviceError ? { deviceError: e.deviceError } : {}),
        });
        this.setSla();
        this.replan(s.regressionOf ? `initial plan (regression: the finding came back after run ${s.regressionOf} remediated it)` : 'initial plan');
        return;
      }
      case 'tick':
        return this.tick(e.only);
      case 'escalate':
        return this.escalate(e.trigger, e.why);
      case 'expire_approval': {
        const step = this.step(e.stepId);
        if (step?.status === 'awaiting_approval' && step.approval) this.expire(step);
        return;
      }
      case 'window_hold':
        s.waitingWindowUntilMs = e.untilMs;
        this.decide({ kind: 'window_hold', stepId: e.stepId, until: new Date(e.untilMs).toISOString() });
        this.publish();
        return;
      case 'window_open':
        s.waitingWindowUntilMs = undefined;
        return;
      case 'step_started': {
        const step = this.step(e.stepId);
        if (!step) return;
        step.status = 'running';
        if (!s.running.includes(step.id)) s.running = [...s.running, step.id];
        s.waitingWindowUntilMs = undefined;
        this.decide({ kind: 'step_started', stepId: step.id, action: step.action });
        this.publish();
        return;
      }
      case 'change_previewed': {
        const p = e.preview;
        const change: PreviewedChange = { base: p.base, baseCommit: p.baseCommit, files: p.files, diff: p.diff, digest: p.digest, ...(p.truncated ? { truncated: true } : {}), ...(p.summary ? { summary: p.summary } : {}), ...(p.noChange ? { noChange: true } : {}) };
        const target: StepTarget = { kind: 'repository', id: p.repository, name: p.files.join(', ') || '(no file changes)', via: `preview of ${p.base} at ${p.baseCommit.slice(0, 12)}`, change, forParams: e.forParams };
        s.targets = { ...s.targets, [e.stepId]: target };
        this.decide({ kind: 'change_previewed', stepId: e.stepId, repository: p.repository, files: p.files, baseCommit: p.baseCommit, digest: p.digest, ...(p.noChange ? { noChange: true } : {}) });
        this.replan(`change for ${e.stepId} previewed`);
        return;
      }
      case 'change_preview_failed':
        return this.stepFailed({ kind: 'step_failed', stepId: e.stepId, error: `the change could not be previewed for review: ${e.error}`, blocked: true });
      case 'step_done':
        return this.stepDone(e);
      case 'step_failed':
        return this.stepFailed(e);
      case 'compensated': {
        const step = this.step(e.stepId);
        if (step) {
          step.status = 'compensated';
          step.note = `compensated by ${e.action}`;
        }
        this.decide({ kind: 'compensated', stepId: e.stepId, action: e.action, result: e.result });
        return;
      }
      case 'compensation_failed':
        this.decide({ kind: 'compensation_failed', stepId: e.stepId, error: e.error });
        return;
      case 'repeats_reported':
        s.unreportedRepeats = 0;
        s.lastRepeatReportMs = this.ctx.now;
        return;
      case 'ticket_update_failed':
        this.decide({ kind: 'ticket_update_failed', purpose: e.purpose, error: e.error });
        if (e.purpose === 'reopen' && s.ownerClosure?.phase === 'reopen') {
          // The owner's close stands unconfirmed: people must look (the ticket could not be given back).
          s.ownerClosure = undefined;
          this.escalate('verification_failed', `the ticket was closed by a person, the fix is not verified, and it could not be reopened: ${e.error}`);
        }
        return;
      case 'ticket_closing':
        s.ticketSeen = { status: 'closed by drw', closed: true, via: 'drw' };
        return;
      case 'ticket_polled':
        s.ticketPolledMs = this.ctx.now;
        if (e.state) this.ticketChanged({ ticketId: e.state.ticketId, status: e.state.status, closed: e.state.closed, via: 'poll', ...(e.state.updatedBy ? { by: e.state.updatedBy } : {}), ...(e.state.resolution ? { resolution: e.state.resolution } : {}) });
        return;
      case 'owner_checked': {
        const oc = s.ownerClosure;
        if (!oc || oc.phase !== 'check') return;
        this.decide({ kind: 'owner_verification', ticketId: oc.ticketId, by: oc.by, verified: e.failures.length === 0, failures: e.failures, checks: e.checks });
        s.ownerClosure = e.failures.length === 0 ? { ...oc, phase: 'verified' } : { ...oc, phase: 'reopen', evidence: e.failures };
        this.publish();
        return;
      }
      case 'ticket_reopened':
        s.ownerClosure = undefined;
        s.ticketSeen = { status: 'reopened by drw', closed: false, via: 'drw' };
        s.ticketPolledMs = this.ctx.now;
        this.decide({ kind: 'ticket_reopened', ticketId: e.ticketId, evidence: e.evidence });
        this.publish();
        return;
      case 'change_opened': {
        const c = changeOf(e.ref, e.state, this.step(e.stepId)?.change ?? 'normal', this.ctx.now);
        s.changes = { ...s.changes, [e.stepId]: c };
        this.decide({ kind: 'change', stepId: e.stepId, number: c.number, event: 'opened', state: c.state });
        return this.changeRead(e.stepId, e.state);
      }
      case 'change_read':
        if (this.updateChange(e.stepId, { readMs: this.ctx.now }) && e.state) this.changeRead(e.stepId, e.state);
        return;
      case 'change_implementing': {
        const c = this.updateChange(e.stepId, { state: e.state.state.label, implementing: true });
        if (c) this.decide({ kind: 'change', stepId: e.stepId, number: c.number, event: 'implementing', state: c.state });
        return;
      }
      case 'change_settled': {
        const c = this.updateChange(e.stepId, { state: e.state.state.label, settled: e.how });
        if (!c) return;
        this.decide({ kind: 'change', stepId: e.stepId, number: c.number, event: e.how, state: c.state, ...(e.outcome ? { outcome: e.outcome } : {}), ...(e.reason ? { reason: e.reason } : {}) });
        this.publish();
        return;
      }
      case 'change_unsettled': {
        const c = this.updateChange(e.stepId, { settled: 'unsettled' });
        if (!c) return;
        this.decide({ kind: 'change', stepId: e.stepId, number: c.number, event: 'unsettled', state: c.state, reason: `could not ${e.how} it: ${e.error}` });
        this.publish();
        return;
      }
      case 'policy_answered': {
        s.policyAnswers = { ...s.policyAnswers };
        for (const a of e.answers) {
          s.policyAnswers[a.key] = a;
          const { key, path, result, decisionId, engine, revisions, error } = a;
          this.decide({ kind: 'policy_decision', key, path, ...(error === undefined ? { result } : { error }), ...(decisionId ? { decisionId } : {}), ...(engine ? { engine } : {}), ...(revisions && Object.keys(revisions).length ? { revisions } : {}) });
        }
        s.policyAsks = undefined;
        this.replan(`the policy engine answered ${[...new Set(e.answers.map((a) => a.path))].join(', ')}`);
        return;
      }
      case 'providers_missing':
        // Read before the first plan: planning blocks those kinds' steps (blockUnprovided).
        s.unprovided = e.unprovided;
        return;
      case 'continuing_as_new':
        this.decide({ kind: 'continued_as_new', historyLength: e.historyLength, run: s.runs + 1 });
        return;
      case 'finished':
        s.final = { status: e.status, resolution: e.resolution };
        this.decide({ kind: 'final', status: e.status, resolution: e.resolution });
        this.publish();
        return;
    }
  }

  // ---- messages: validated here, so a malformed one is recorded as rejected, never thrown

  private message(name: MessageName, payload: unknown, via: 'update' | 'signal'): void {
    const s = this.s;
    switch (name) {
      case 'approve':
      case 'deny': {
        const admitted = admitDecision(s, payload, name, this.ctx.now);
        if (!admitted.ok) {
          // A signal cannot answer; the refusal goes into the decision log instead.
          this.decide({ kind: 'rejected', message: name, error: admitted.refusal.message, ...(approverOf(payload) ? { by: approverOf(payload) } : {}) });
          this.publish();
          return;
        }
        return this.decision(admitted.decision, name, via);
      }
      case 'riskScoreChanged': {
        if (s.final) return;
        const m = this.parse(name, riskScoreChangedSchema, payload);
        if (!m) return;
        const from = s.facts.riskScore;
        s.facts = { ...s.facts, riskScore: m.riskScore };
        if (s.facts.provenance) {
          s.facts.provenance = { ...s.facts.provenance, riskScore: { value: m.riskScore, from: 'operator', why: m.reason ?? 'changed by an operator', ...(m.by ? { by: m.by } : {}) } };
        }
        this.decide({ kind: 'risk_changed', from, to: m.riskScore, reason: m.reason, ...(m.by ? { by: m.by } : {}) });
        this.replan(`risk score ${from} → ${m.riskScore}`, m.by);
        return;
      }
      case 'findingAdded': {
        if (s.final) return;
        const parsed = repeatSchema.safeParse(payload);
        if (!parsed.success) {
          this.decide({ kind: 'rejected', message: name, error: parsed.error.issues[0]?.message ?? 'invalid detection' });
          return;
        }
        const d = parsed.data;
        // Only a trusted channel's score counts; a repeat comes from the opening channel (or one configured to correlate).
        s.facts = withRepeat(s.facts, d, !s.factProvenance || riskTrusted(s.policy?.facts, s.requestedBy));
        s.unreportedRepeats++;
        if (s.facts.findingCount <= 3 || s.facts.findingCount % 100 === 0) {
          this.decide({ kind: 'repeat', findingCount: s.facts.findingCount, source: d.source, rule: d.rule, ...(d.observedAt ? { observedAt: d.observedAt } : {}) });
        }
        this.setSla();
        this.replan(`finding repeated (${s.facts.findingCount} in all)`);
        return;
      }
      case 'findingResolved': {
        if (s.final || s.resolvedAtSource) return;
        const m = this.parse(name, findingResolvedSchema, payload ?? {});
        if (!m) return;
        s.resolvedAtSource = { by: m.by ?? 'source', reason: m.reason ?? 'resolved at the source' };
        this.decide({ kind: 'resolved_at_source', reason: s.resolvedAtSource.reason, ...(m.by ? { by: m.by } : {}) });
        this.replan('finding resolved at the source', m.by);
        return;
      }
      case 'policyUpdated': {
        if (s.final) return;
        const m = this.parse(name, policyUpdatedSchema, payload ?? {});
        if (!m) return;
        s.policyReloadRequested = { ...(m.version ? { version: m.version } : {}), reason: m.reason ?? 'policy updated', ...(m.by ? { by: m.by } : {}) };
        return;
      }
      case 'ticketChanged': {
        if (s.final) return;
        const m = this.parse(name, ticketChangedSchema, payload);
        if (!m) return;
        if (!s.closedLoop) {
          this.decide({ kind: 'rejected', message: name, error: 'this remediation began before drw followed its tickets' });
          this.publish();
          return;
        }
        return this.ticketChanged(m);
      }
      case 'pause':
      case 'resume':
      case 'cancel':
      case 'falsePositive':
        return this.operator(name, payload);
    }
  }

  /** What the ticketing system shows of the ticket: a person's close is checked, a reopen re-plans. */
  private ticketChanged(m: TicketChanged): void {
    const s = this.s;
    if (!s.ticket || m.ticketId !== s.ticket.ticketId) {
      this.decide({ kind: 'rejected', message: 'ticketChanged', error: `ticket ${m.ticketId} is not this remediation's (${s.ticket?.ticketId ?? 'it has none'})` });
      this.publish();
      return;
    }
    const wasClosed = Boolean(s.ticketSeen?.closed);
    s.ticketSeen = { status: m.status, closed: m.closed, ...(m.by ? { by: m.by } : {}), via: m.via };
    if (m.closed === wasClosed) return;
    // drw's own close (a ticket.close step) echoed by the webhook is no person's decision.
    if (m.closed && s.plan.steps.some((x) => x.action === 'ticket.close' && (x.status === 'running' || x.status === 'done'))) return;
    const by = m.by ?? `someone at ${s.ticket.system}`;
    this.decide({ kind: 'ticket_changed', ticketId: m.ticketId, status: m.status, closed: m.closed, via: m.via, by, ...(m.resolution ? { resolution: m.resolution } : {}) });
    if (m.closed) {
      // A plan without a verification has nothing to confirm: the owner's close resolves it.
      const verify = s.plan.steps.some((x) => x.action === 'verify' && x.status !== 'cancelled' && x.status !== 'skipped');
      s.ownerClosure = { ticketId: m.ticketId, by, phase: verify ? 'check' : 'resolve' };
      this.publish();
    } else {
      s.ownerClosure = undefined;
      this.replan(`ticket ${m.ticketId} reopened by ${by}`, m.by);
    }
  }

  private operator(name: 'pause' | 'resume' | 'cancel' | 'falsePositive', payload: unknown): void {
    const s = this.s;
    const ignored = name === 'resume' ? !s.paused : s.final || (name === 'pause' ? s.paused : name === 'cancel' ? s.cancelled : s.falsePositive);
    if (ignored) return;
    const m = this.parse(name, operatorActionSchema, payload);
    if (!m) return;
    const mark = { by: m.by, reason: m.reason };
    const verb: OperatorVerb = name === 'falsePositive' ? 'false_positive' : name;
    if (name === 'pause') s.paused = mark;
    if (name === 'resume') s.paused = undefined;
    if (name === 'cancel') s.cancelled = mark;
    if (name === 'falsePositive') s.falsePositive = mark;
    this.decide({ kind: 'operator', action: verb, by: m.by, reason: m.reason });
    if (name === 'cancel') this.replan('cancelled by an operator', m.by);
    else if (name === 'falsePositive') this.replan('false positive', m.by);
    else this.publish();
  }

  private parse<T>(name: MessageName, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, payload: unknown): T | undefined {
    const r = schema.safeParse(payload);
    if (r.success) return r.data;
    this.decide({ kind: 'rejected', message: name, error: issuesText(r.error.issues) });
    this.publish();
    return undefined;
  }

  private decision(d: AdmittedDecision, kind: 'approve' | 'deny', via: 'update' | 'signal'): void {
    const step = this.step(d.stepId)!;
    const { approvedBy: _counted, deniedBy: _denier, ...required } = step.approval!;
    const rec: ApprovalRecord = {
      stepId: step.id,
      fingerprint: step.fingerprint,
      digest: step.digest,
      approver: d.approver,
      groups: d.groups ?? [],
      decision: kind,
      reason: d.reason,
      at: new Date(this.ctx.now).toISOString(),
      via,
      ...(kind === 'deny' ? { required } : {}),
    };
    this.s.approvals.push(rec);
    this.decide({ kind: 'approval', decision: kind, stepId: step.id, fingerprint: step.fingerprint, approver: d.approver, groups: rec.groups, via, reason: d.reason, by: d.approver });
    this.replan(`${kind} of ${step.id} by ${d.approver}`);
  }

  // ---- time

  private tick(only?: 'sla'): void {
    const s = this.s;
    if (s.slaDeadlineMs !== undefined && !s.slaBreached && this.ctx.now >= s.slaDeadlineMs) {
      s.slaBreached = true;
      this.escalate('sla_breached', `exposure window ended at ${new Date(s.slaDeadlineMs).toISOString()}${s.running.length ? ` (during ${s.running[0]})` : ''}`);
    }
    if (only === 'sla') return;
    for (const st of [...s.plan.steps]) {
      if (st.status !== 'awaiting_approval' || !st.approval) continue;
      const key = `${st.id}@${st.fingerprint}`;
      const at = s.approvalDeadlines[key];
      if (at === undefined || this.ctx.now < at || s.expiredApprovals.includes(key)) continue;
      this.expire(st);
    }
  }

  /** An approval request ran out of time: the policy's onExpiry decides. */
  private expire(st: PlanStep): void {
    const s = this.s;
    const a = st.approval!;
    s.expiredApprovals.push(`${st.id}@${st.fingerprint}`);
    this.decide({ kind: 'approval_expired', stepId: st.id, fingerprint: st.fingerprint, onExpiry: a.onExpiry, afterMs: a.expiresAfterMs ?? 0, by: 'drw:expiry' });
    const rec = (decision: 'approve' | 'deny', approver: string): ApprovalRecord => ({
      stepId: st.id,
      fingerprint: st.fingerprint,
      digest: st.digest,
      approver,
      groups: [],
      decision,
      reason: `approval expired (policy: ${a.onExpiry})`,
      at: new Date(this.ctx.now).toISOString(),
      via: 'expiry',
    });
    if (a.onExpiry === 'deny') {
      s.approvals.push(rec('deny', 'drw:expiry'));
      this.replan(`approval of ${st.id} expired (deny)`);
    } else if (a.onExpiry === 'auto_approve') {
      // Counts as the whole quorum; audited as the policy's decision, not a person's.
      for (let i = a.approvedBy.length; i < a.quorum; i++) s.approvals.push(rec('approve', `drw:expiry#${i + 1}`));
      this.replan(`approval of ${st.id} expired (auto-approve)`);
    } else {
      this.escalate('approval_expired', `approval of ${st.id} not given in time`);
    }
  }

  // ---- step outcomes

  private stepDone(e: Extract<CoreEvent, { kind: 'step_done' }>): void {
    const s = this.s;
    if (e.ticket) {
      s.ticket = e.ticket;
      if (s.closedLoop) s.ticketPolledMs = this.ctx.now;
    }
    if (e.cmdb) s.cmdb = e.cmdb;
    const step = this.step(e.stepId);
    if (s.closedLoop && step?.action === 'ticket.close') s.ticketSeen = { status: 'closed by drw', closed: true, via: 'drw' };
    if (step) {
      step.status = 'done';
      const change = s.changes?.[step.id];
      step.result = change ? { ...e.result, change: change.number } : e.result;
      if (step.action === 'cmdb.lookup') {
        // The asset facts again, from the fresh answer; the risk score stays what it became (an operator's, a repeat's).
        const { facts } = factsAfterLookup(s, s.cmdb);
        const risk = s.facts.provenance?.riskScore;
        s.facts = { ...s.facts, asset: facts.asset, ...(facts.provenance ? { provenance: { ...facts.provenance, ...(risk ? { riskScore: risk } : {}) } } : {}) };
      }
    }
    this.decide({ kind: 'step_done', stepId: e.stepId, result: e.result });
    s.running = s.running.filter((x) => x !== e.stepId);
    this.replan(`${e.stepId} finished`);
  }

  private stepFailed(e: Extract<CoreEvent, { kind: 'step_failed' }>): void {
    const s = this.s;
    const step = this.step(e.stepId);
    s.running = s.running.filter((x) => x !== e.stepId);
    if (e.cancelled && step?.status === 'cancelled') {
      this.decide({ kind: 'step_cancelled', stepId: e.stepId, note: step.note ?? 'withdrawn by a re-plan' });
      this.replan(`${e.stepId} finished`);
      return;
    }
    if (step) {
      step.status = e.blocked ? 'blocked' : 'failed';
      step.note = e.error;
    }
    if (e.blocked) {
      // A missing input is not a fix and not a vendor failure: a person must supply it.
      this.blocked(e.stepId, e.error);
      return;
    }
    if (e.verification) {
      s.verificationFailures++;
      this.decide({ kind: 'verification_failed', stepId: e.stepId, error: e.error });
      this.escalate('verification_failed', e.error);
      return;
    }
    this.decide({ kind: 'step_failed', stepId: e.stepId, error: e.error });
    if (step?.reason.section === 'steps') this.escalate('step_failed', `${e.stepId}: ${e.error}`);
    else this.replan(`${e.stepId} failed`);
  }

  // ---- shared moves

  private escalate(trigger: EscalationTrigger, why: string): void {
    if (!this.s.escalations.includes(trigger)) this.s.escalations.push(trigger);
    this.decide({ kind: 'escalation', trigger, why });
    this.replan(`escalation: ${trigger}`);
  }

  /** Re-plans on the current facts; records the new version; withdraws running work the plan cancelled. */
  private replan(why: string, by?: string): void {
    const s = this.s;
    if (!s.policy || s.final) return;
    const before = s.plan.version;
    const blockedBefore = new Set(s.plan.steps.filter((x) => x.status === 'blocked').map((x) => x.id));
    const r = buildPlan(s.policy, plannerState(s, by ?? s.requestedBy));
    s.plan = r.plan;
    s.policyAsks = r.policyAsks;
    // Approvals of content the step no longer has are void for good: coming back to that content needs a new approval.
    const open = new Map(r.plan.steps.filter((x) => !SETTLED.has(x.status) && x.status !== 'running').map((x) => [x.id, x.digest]));
    if (s.approvals.some((a) => a.digest && !a.void && open.has(a.stepId) && open.get(a.stepId) !== a.digest)) {
      s.approvals = s.approvals.map((a) => (a.digest && !a.void && open.has(a.stepId) && open.get(a.stepId) !== a.digest ? { ...a, void: true } : a));
    }
    if (r.plan.version !== before) {
      this.decide({ kind: 'plan', planVersion: r.plan.version, policyVersion: r.plan.policyVersion, playbook: r.plan.playbook, selection: r.selection, diff: r.diff, trigger: why, ...(by ? { by } : {}) });
    }
    for (const st of s.plan.steps) if (st.status === 'cancelled' && s.running.includes(st.id)) this.effects.push({ kind: 'cancel_running', stepId: st.id });
    this.blockUnprovided();
    // Steps the planner itself blocked (the policy engine gave no answer): each recorded, and people paged once for them all.
    const newlyBlocked = s.plan.steps.filter(
      (x) => x.status === 'blocked' && !blockedBefore.has(x.id) && !s.running.includes(x.id) && !s.decisions.some((d) => d.kind === 'step_blocked' && d.stepId === x.id),
    );
    if (newlyBlocked.length) {
      for (const x of newlyBlocked) this.decide({ kind: 'step_blocked', stepId: x.id, reason: x.note ?? 'blocked' });
      this.escalate('step_blocked', newlyBlocked.map((x) => `${x.id}: ${x.note ?? 'blocked'}`).join('; '));
    }
    for (const st of s.plan.steps) {
      if (st.status !== 'awaiting_approval' || !st.approval?.expiresAfterMs) continue;
      const key = `${st.id}@${st.fingerprint}`;
      if (s.approvalDeadlines[key] === undefined) s.approvalDeadlines[key] = this.ctx.now + scaled(this.ctx, st.approval.expiresAfterMs);
    }
    this.publish();
  }

  /** A step's change record with `patch` applied (undefined when the step has none). */
  private updateChange(stepId: string, patch: Partial<StepChange>): StepChange | undefined {
    const s = this.s;
    const before = s.changes?.[stepId];
    if (!before) return undefined;
    const c = { ...before, ...patch };
    s.changes = { ...s.changes, [stepId]: c };
    return c;
  }

  /** What the change system says of a step's change: the CAB's approval or rejection is recorded with who; a rejection blocks the step. */
  private changeRead(stepId: string, st: ChangeState): void {
    const s = this.s;
    const before = s.changes![stepId];
    const c = this.updateChange(stepId, { state: st.state.label, implementable: st.implementable, approval: st.approval, ...(st.approvedBy ? { approvedBy: st.approvedBy } : {}), ...(st.rejectedBy ? { rejectedBy: st.rejectedBy } : {}), ...(st.plannedStart ? { plannedStart: st.plannedStart } : {}), ...(st.plannedEnd ? { plannedEnd: st.plannedEnd } : {}) })!;
    if (st.implementable && !before.implementable) {
      this.decide({ kind: 'change', stepId, number: c.number, event: 'approved', state: c.state, ...(c.approvedBy?.length ? { people: c.approvedBy } : {}), ...(c.plannedStart ? { plannedStart: c.plannedStart } : {}) });
      this.publish();
      return;
    }
    const step = this.step(stepId);
    const refused = st.approval === 'rejected' || (st.closed && !before.settled);
    if (refused && step && (step.status === 'pending' || step.status === 'awaiting_approval')) {
      const why = st.approval === 'rejected' ? `change ${c.number} was rejected${c.rejectedBy?.length ? ` by ${c.rejectedBy.join(', ')}` : ''} in the change system` : `change ${c.number} was ${c.state.toLowerCase()} in the change system`;
      this.decide({ kind: 'change', stepId, number: c.number, event: 'rejected', state: c.state, ...(c.rejectedBy?.length ? { people: c.rejectedBy } : {}) });
      // The change is over; nothing of drw's to close or cancel.
      this.updateChange(stepId, { settled: 'canceled' });
      this.stepFailed({ kind: 'step_failed', stepId, error: why, blocked: true });
    }
  }

  /** Steps whose kind of system the worker has no provider for are blocked before they run or ask anyone (fail closed). */
  private blockUnprovided(): void {
    const s = this.s;
    const unprovided = s.unprovided;
    if (!unprovided) return;
    const missing = (x: PlanStep) => kindsOf(x, s.closedLoop).map((k) => unprovided[k]).find(Boolean);
    const st = s.plan.steps.find((x) => (x.status === 'pending' || x.status === 'awaiting_approval') && missing(x));
    if (!st) return;
    const why = missing(st)!;
    st.status = 'blocked';
    st.note = why;
    // The escalation re-plans, which blocks the next such step (an escalation's own, too).
    this.blocked(st.id, why);
  }

  /** A blocked step is recorded with its reason and pages people (escalation step_blocked). */
  private blocked(stepId: string, reason: string): void {
    this.decide({ kind: 'step_blocked', stepId, reason });
    this.escalate('step_blocked', `${stepId}: ${reason}`);
  }

  /** The exposure window of the current severity; a worse severity only brings it closer. */
  private setSla(): void {
    const s = this.s;
    const pb = s.policy ? choosePlaybook(s.policy, s.facts).playbook : undefined;
    const windowMs = pb?.sla[s.facts.severity];
    if (windowMs === undefined) return;
    const start = Date.parse(s.detection.observedAt ?? '') || Date.parse(s.receivedAt) || this.ctx.now;
    const deadline = start + scaled(this.ctx, windowMs);
    if (s.slaDeadlineMs === undefined || deadline < s.slaDeadlineMs) {
      s.slaDeadlineMs = deadline;
      this.decide({ kind: 'sla', severity: s.facts.severity, windowMs, deadline: new Date(deadline).toISOString() });
    }
  }

  private step(id: string): PlanStep | undefined {
    return this.s.plan.steps.find((x) => x.id === id);
  }

  private decide(e: DecisionEvent): void {
    pushDecision(this.s, e, this.ctx.now);
  }

  private publish(): void {
    if (!this.effects.some((x) => x.kind === 'publish')) this.effects.push({ kind: 'publish' });
  }
}

function approverOf(payload: unknown): string | undefined {
  const a = (payload as { approver?: unknown } | undefined)?.approver;
  return typeof a === 'string' && a.length > 0 ? a : undefined;
}

function issuesText(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');
}

// ---------------------------------------------------------------------------------------------
// pure reads the driver needs

/** Why an approve/deny would be refused, or undefined when it counts. */
/** An approve/deny as it counts: the identity proven by a signed assertion, or the body's where unsigned ones count. */
export type AdmittedDecision = ApprovalDecision & { signedBy?: string };

/**
 * Whether an approve/deny counts, and as whose: the step awaits approval, the decision is for the
 * content (digest) the approver saw, the identity is proven (a signed assertion verified against
 * the remediation's trusted keys, unless unsigned approvals are allowed), and that identity may
 * decide (users/groups, not the requester, not twice). Names compare normalized.
 */
export function admitDecision(s: RemediationState, payload: unknown, kind: 'approve' | 'deny', now: number): { ok: true; decision: AdmittedDecision } | { ok: false; refusal: Refusal } {
  const no = (type: Refusal['type'], message: string) => ({ ok: false as const, refusal: { type, message } });
  const parsed = approvalDecisionSchema.safeParse(payload);
  if (!parsed.success) return no('InvalidInput', `invalid ${kind}: ${issuesText(parsed.error.issues)}`);
  let d: AdmittedDecision = parsed.data;
  const step = s.plan.steps.find((x) => x.id === d.stepId);
  if (!step) return no('UnknownStep', `unknown step "${d.stepId}"; steps: ${s.plan.steps.map((x) => x.id).join(', ')}`);
  if (s.final) return no('NotAwaitingApproval', `remediation is ${s.final.status}; nothing awaits approval`);
  if (step.status !== 'awaiting_approval' || !step.approval) return no('NotAwaitingApproval', `step "${step.id}" is ${step.status}, not awaiting approval`);
  if (s.previewChanges && step.action === 'iac.pull_request' && !step.target) {
    return no('ChangeNotPreviewed', `the change of step "${step.id}" is still being prepared for review; decide once its repository, files and diff are shown`);
  }
  const trust = s.trust ?? OPEN_TRUST;
  if (d.digest !== undefined && step.digest && d.digest !== step.digest) {
    return no('DigestMismatch', `step "${step.id}" changed since it was shown (digest ${d.digest.slice(0, 12)}…); it is now ${step.digest}: review it and decide again`);
  }
  if (d.digest === undefined && trust.requireDigest) return no('InvalidInput', `invalid ${kind}: digest is required (the step digest you reviewed, from GET /v1/remediations/{id})`);
  if (d.assertion !== undefined) {
    const v = verifyAssertion(d.assertion, trust.keys, now);
    if (!v.ok) return no('Unauthorized', `the ${kind} of "${step.id}" carries an assertion that does not verify: ${v.error}`);
    const c = v.claims;
    if (c.wf !== s.id || c.step !== step.id || c.decision !== kind || c.digest !== step.digest || (d.digest !== undefined && c.digest !== d.digest)) {
      return no('Unauthorized', `the signed assertion is for ${c.decision} of "${c.step}" in ${c.wf} at digest ${c.digest.slice(0, 12)}…, not this ${kind} of "${step.id}" at ${step.digest.slice(0, 12)}…`);
    }
    // The signed identity, not the body's, is who decided.
    d = { ...d, approver: normalizeIdentity(c.approver), groups: c.groups.map(normalizeIdentity), reason: c.reason, digest: c.digest, signedBy: v.kid };
    if (isReservedIdentity(d.approver)) return no('InvalidInput', `approver names starting with "drw:" are reserved for drw's own decisions`);
  } else if (!trust.unsigned) {
    return no('Unauthorized', `an unsigned ${kind} does not count here: decide through drw's API (or CLI), which proves who you are`);
  }
  const a = step.approval;
  const same = (x: string, y: string) => normalizeIdentity(x) === normalizeIdentity(y);
  const userOk = a.users.some((u) => same(u, d.approver));
  const groupOk = a.groups.some((g) => d.groups.some((x) => same(x, g)));
  if (!userOk && !groupOk) {
    const needs = [a.users.length ? `one of users [${a.users.join(', ')}]` : '', a.groups.length ? `a member of [${a.groups.join(', ')}]` : ''].filter(Boolean).join(' or ');
    return no('Unauthorized', `${d.approver} may not ${kind} step "${step.id}": it needs ${needs}`);
  }
  if (!a.allowRequester && same(d.approver, step.requestedBy)) return no('SelfApproval', `${d.approver} requested step "${step.id}" and may not ${kind} their own change`);
  if (kind === 'approve' && a.approvedBy.some((x) => same(x, d.approver))) return no('DuplicateApproval', `${d.approver} already approved step "${step.id}"; quorum needs distinct approvers`);
  return { ok: true, decision: d };
}

export function validateDecision(s: RemediationState, payload: unknown, kind: 'approve' | 'deny', now: number): Refusal | undefined {
  const r = admitDecision(s, payload, kind, now);
  return r.ok ? undefined : r.refusal;
}

/** A step whose safeguard an operator action would take away, and who may take it away. */
export interface Safeguard {
  step: PlanStep;
  /** What the action does to it. */
  effect: 'approval_removed' | 'undone';
  mayUndo: { users: string[]; groups: string[] };
}

/**
 * What an operator message would undo, computed by applying it to a copy of the state (the core
 * is pure): a pending approval the re-plan no longer asks for (a risk change across a policy
 * threshold), or an executed step with a compensation (cancel, false positive), or one a step kept
 * after a resolve lifts (resolve) — a contained host released. The API refuses the action to anyone who could not have approved those steps.
 */
export function safeguardsUndoneBy(s: RemediationState, name: 'riskScoreChanged' | 'cancel' | 'falsePositive' | 'findingResolved', payload: unknown, ctx: CoreContext): Safeguard[] {
  const after = apply(s, { kind: 'message', name, payload, via: 'signal' }, ctx).state;
  const out: Safeguard[] = [];
  // A step the policy lets nobody in particular approve is no safeguard.
  const rule = (st: PlanStep) => (st.approval ? { users: st.approval.users, groups: st.approval.groups } : st.approvalRule);
  for (const before of s.plan.steps) {
    if (before.status !== 'awaiting_approval') continue;
    const now = after.plan.steps.find((x) => x.id === before.id);
    const r = rule(before);
    if (r && now && now.status === 'pending' && !now.approval) out.push({ step: before, effect: 'approval_removed', mayUndo: r });
  }
  const windingDown = (!s.cancelled && after.cancelled) || (!s.falsePositive && after.falsePositive);
  if (windingDown) {
    for (const st of compensations(s)) {
      const r = rule(st);
      if (r) out.push({ step: st, effect: 'undone', mayUndo: r });
    }
  }
  if (!s.resolvedAtSource && after.resolvedAtSource) {
    // A resolve keeps the steps that lift what drw did (KEEP_WHEN_RESOLVED): the contained host is released.
    const lifting = new Set(after.plan.steps.filter((x) => x.status === 'pending' || x.status === 'awaiting_approval').map((x) => x.action));
    for (const st of compensations(s)) {
      const r = rule(st);
      if (r && lifting.has(st.compensation!.action)) out.push({ step: st, effect: 'undone', mayUndo: r });
    }
  }
  return out;
}

/** Whether a person (user and groups) may approve, and so undo, what `mayUndo` guards. */
export function mayUndo(actor: { user: string; groups: string[] }, g: Safeguard['mayUndo']): boolean {
  const user = normalizeIdentity(actor.user);
  const groups = actor.groups.map(normalizeIdentity);
  return g.users.some((u) => normalizeIdentity(u) === user) || g.groups.some((x) => groups.includes(normalizeIdentity(x)));
}

/** Endpoint actions act on a device: it is resolved before the first plan and is part of their digest. */
export const DEVICE_ACTIONS = ['endpoint.isolate', 'endpoint.release'] as const;

/**
 * Whether the playbook the facts (with this CMDB answer) choose acts on an endpoint, so the driver
 * resolves the device before planning; and what to ask the EDR (the CMDB's ids as hints, its name).
 */
export function deviceLookup(s: RemediationState, cmdb: AssetFacts | undefined): { assetId: string; hostname?: string; hint?: { crowdstrike?: string; defender?: string } | string } | undefined {
  if (!s.policy) return undefined;
  const { facts } = factsAfterLookup(s, cmdb);
  const asset = facts.asset;
  const pb = choosePlaybook(s.policy, facts).playbook;
  const acts = [...pb.steps, ...pb.escalation].some((d) => (DEVICE_ACTIONS as readonly string[]).includes(d.action) || (d.compensation && (DEVICE_ACTIONS as readonly string[]).includes(d.compensation.action)));
  if (!acts) return undefined;
  const fromDetection = deviceIdFor({ detection: s.detection, cmdb: undefined });
  const hint = cmdb?.endpointIds && Object.keys(cmdb.endpointIds).length ? cmdb.endpointIds : fromDetection;
  return { assetId: asset.id, ...(cmdb?.name ? { hostname: cmdb.name } : {}), ...(hint ? { hint } : {}) };
}

/** The next step that may run now (verification waits for every remediation step before it). */
export function nextRunnable(s: Pick<RemediationState, 'plan'> & Partial<Pick<RemediationState, 'previewChanges' | 'changes'>>): PlanStep | undefined {
  for (const [i, st] of s.plan.steps.entries()) {
    if (st.status !== 'pending') continue;
    // A pull request runs only with the change its approvers (or nobody, when none is needed) saw previewed.
    if (s.previewChanges && st.action === 'iac.pull_request' && !st.target) continue;
    // Waiting for the CAB is waiting for an approval: the steps after it go on, as after one of drw's.
    if (awaitingCab(s, st)) continue;
    if (st.action === 'verify' && s.plan.steps.slice(0, i).some((x) => x.reason.section === 'steps' && ['pending', 'awaiting_approval', 'running'].includes(x.status))) continue;
    return st;
  }
  return undefined;
}

/** An escalation step (paging people) to run at once while a verification holds the loop. */
export function pendingEscalationStep(s: RemediationState): PlanStep | undefined {
  return s.plan.steps.find((x) => x.status === 'pending' && x.reason.section === 'escalation' && x.action !== 'verify' && !x.disruptive);
}

/** When a disruptive step must wait for its playbook's change window, the time it opens. */
function windowOpensAt(s: RemediationState, step: PlanStep, now: number): number | undefined {
  if (!step.disruptive || step.windowOverride || !s.policy) return undefined;
  const cw = choosePlaybook(s.policy, s.facts).playbook.changeWindow;
  if (!cw) return undefined;
  const open = nextWindowOpen(cw, now);
  return open !== undefined && open > now ? open : undefined;
}

/** All steps settled: how the remediation ends, or undefined to keep waiting (for a person or the source). */
export function settle(s: Pick<RemediationState, 'plan' | 'resolvedAtSource'>): { status: FinalStatus; resolution: string } | undefined {
  if (s.resolvedAtSource) return { status: 'resolved', resolution: 'resolved_at_source' };
  const failed = s.plan.steps.filter((x) => x.status === 'failed');
  if (failed.length === 0) {
    // Only a verification shows that something was remediated. A plan without one (triage, a
    // vulnerability with no fixed version yet) stays open for a person or the source to resolve.
    if (!s.plan.steps.some((x) => x.action === 'verify' && x.status === 'done')) return undefined;
    return { status: 'remediated', resolution: 'remediated' };
  }
  // With escalation steps the remediation waits for a person (or the source) to resolve it.
  if (s.plan.steps.some((x) => x.reason.section === 'escalation')) return undefined;
  return { status: 'failed', resolution: `failed: ${failed.map((x) => x.id).join(', ')}` };
}

/**
 * The earliest deadline the driver must wake for while it waits for messages. `idleChangeReads`:
 * also the reads of changes whose step waits for an approval, which nothing reads (what runs begun
 * before CHANGE_READ_WAKE_PATCH woke for: a deadline in the past, again and again, until the approval).
 */
export function nextWake(s: RemediationState, ctx: CoreContext, o: { idleChangeReads?: boolean } = {}): { at: number; what: string } | undefined {
  const cands: { at: number; what: string }[] = [];
  if (s.slaDeadlineMs !== undefined && !s.slaBreached) cands.push({ at: s.slaDeadlineMs, what: `SLA deadline (${s.facts.severity})` });
  for (const st of s.plan.steps) {
    if (st.status !== 'awaiting_approval') continue;
    const at = s.approvalDeadlines[`${st.id}@${st.fingerprint}`];
    if (at !== undefined) cands.push({ at, what: `approval of ${st.id} expires (${st.approval?.onExpiry})` });
  }
  if (s.unreportedRepeats > 0 && s.ticket) cands.push({ at: s.lastRepeatReportMs + scaled(ctx, REPEAT_REPORT_EVERY_MS), what: 'report repeats to the ticket' });
  const poll = ticketPollAt(s, ctx);
  if (poll !== undefined) cands.push({ at: poll, what: `read ticket ${s.ticket!.ticketId}` });
  for (const [stepId, c] of Object.entries(s.changes ?? {})) {
    const step = s.plan.steps.find((x) => x.id === stepId);
    const read = step !== undefined && awaitingCab(s, step);
    if (read || (o.idleChangeReads && !c.settled && !c.implementable)) cands.push({ at: c.readMs + changePollEvery(ctx), what: `read change ${c.number} of ${stepId}` });
  }
  cands.sort((a, b) => a.at - b.at);
  return cands[0];
}

/** When drw next reads its ticket: while the loop is closed, the ticket open, and no person's close is being handled. */
function ticketPollAt(s: RemediationState, ctx: CoreContext): number | undefined {
  if (!s.closedLoop || !s.ticket || s.ticketSeen?.closed || s.ownerClosure || s.ticketPolledMs === undefined) return undefined;
  return s.ticketPolledMs + scaled(ctx, TICKET_POLL_EVERY_MS);
}

function timeHasCome(s: RemediationState, ctx: CoreContext): boolean {
  if (s.slaDeadlineMs !== undefined && !s.slaBreached && ctx.now >= s.slaDeadlineMs) return true;
  return s.plan.steps.some((st) => {
    if (st.status !== 'awaiting_approval' || !st.approval) return false;
    const key = `${st.id}@${st.fingerprint}`;
    const at = s.approvalDeadlines[key];
    return at !== undefined && ctx.now >= at && !s.expiredApprovals.includes(key);
  });
}

/** What the driver does next, in order of precedence. */
export function nextWork(s: RemediationState, ctx: CoreContext): Work {
  if (s.policyReloadRequested) return { kind: 'reload_policy', request: s.policyReloadRequested };
  if (timeHasCome(s, ctx)) return { kind: 'tick' };
  const settleChange = changeToSettle(s);
  if (settleChange) return settleChange;
  if (s.cancelled) return { kind: 'wind_down', status: 'cancelled', resolution: 'cancelled' };
  if (s.falsePositive) return { kind: 'wind_down', status: 'resolved', resolution: 'false_positive' };
  if (s.paused) return { kind: 'paused' };
  const owner = ownerClosureWork(s);
  if (owner) return owner;
  if (s.policyAsks?.length) return { kind: 'ask_policy_engine', asks: s.policyAsks };
  if (s.unreportedRepeats > 0 && s.ticket && ctx.now - s.lastRepeatReportMs >= scaled(ctx, REPEAT_REPORT_EVERY_MS)) return { kind: 'report_repeats' };
  const preview = changeToPreview(s);
  if (preview) return preview;
  const read = changeToRead(s, ctx);
  if (read) return read;
  const step = nextRunnable(s);
  if (step) {
    const gate = changeGate(s, step, ctx.now);
    if (gate) return gate;
    const until = windowOpensAt(s, step, ctx.now);
    return until !== undefined ? { kind: 'hold', step, untilMs: until } : { kind: 'run', step };
  }
  if (s.plan.steps.every((x) => x.status !== 'awaiting_approval' && x.status !== 'pending' && x.status !== 'running')) {
    const outcome = settle(s);
    if (outcome) return { kind: 'finish', ...outcome };
  }
  const poll = ticketPollAt(s, ctx);
  if (poll !== undefined && ctx.now >= poll) return { kind: 'poll_ticket', ticketId: s.ticket!.ticketId };
  const wake = nextWake(s, ctx);
  const before = nextWake(s, ctx, { idleChangeReads: true });
  return { kind: 'wait', wake, ...(before && (before.at !== wake?.at || before.what !== wake?.what) ? { wakeBeforeFix: before } : {}) };
}

/** A step under a change record runs only inside an approved change: open it (changeToRead reads it while the CAB decides), wait for its window. */
function changeGate(s: RemediationState, step: PlanStep, now: number): Work | undefined {
  if (!s.closedLoop || !step.change) return undefined;
  const c = s.changes?.[step.id];
  if (!c || c.settled === 'canceled') return { kind: 'open_change', step };
  const start = c.plannedStart ? Date.parse(c.plannedStart) : NaN;
  // Inside the window the CAB scheduled (ServiceNow holds the change until then).
  if (start > now) return { kind: 'hold', step, untilMs: start };
  return undefined;
}

const changePollEvery = (ctx: CoreContext) => ctx.changePollMs ?? scaled(ctx, CHANGE_POLL_EVERY_MS);

/** A change the CAB is deciding, due to be read again (DRW_CHANGE_POLL_INTERVAL, else every CHANGE_POLL_EVERY_MS, scaled). */
function changeToRead(s: RemediationState, ctx: CoreContext): Work | undefined {
  for (const st of s.plan.steps) {
    const c = awaitingCab(s, st) ? s.changes![st.id] : undefined;
    if (c && ctx.now >= c.readMs + changePollEvery(ctx)) return { kind: 'read_change', stepId: st.id, changeId: c.changeId };
  }
  return undefined;
}

/** A change whose step is settled (closed with its outcome) or no longer wanted (canceled). */
function changeToSettle(s: RemediationState): Work | undefined {
  for (const [stepId, c] of Object.entries(s.changes ?? {})) {
    if (c.settled) continue;
    const step = s.plan.steps.find((x) => x.id === stepId);
    const status = step?.status;
    if (status === 'running') continue;
    if (c.implementing && (status === 'done' || status === 'failed' || status === 'blocked' || status === 'compensated' || status === 'cancelled')) {
      const ok = status === 'done' || status === 'compensated';
      return { kind: 'settle_change', stepId, changeId: c.changeId, how: 'close', outcome: ok ? 'successful' : 'unsuccessful', reason: `${stepId} ${status}${step?.note ? `: ${step.note}` : ''}` };
    }
    const unwanted = !step || status === 'cancelled' || status === 'skipped' || status === 'blocked' || status === 'failed' || s.cancelled || s.falsePositive || s.resolvedAtSource;
    if (!c.implementing && unwanted) {
      return { kind: 'settle_change', stepId, changeId: c.changeId, how: 'cancel', outcome: 'unsuccessful', reason: step?.note ?? (s.cancelled ? 'remediation cancelled' : s.falsePositive ? 'false positive' : 'the step is no longer planned') };
    }
  }
  return undefined;
}

/** What a person's close of the ticket asks for now: check, reopen, or end (confirmed, or nothing to confirm). */
function ownerClosureWork(s: RemediationState): Work | undefined {
  const oc = s.ownerClosure;
  if (!oc) return undefined;
  switch (oc.phase) {
    case 'verified':
      return { kind: 'finish', status: 'remediated', resolution: 'verified_after_ticket_closed' };
    case 'resolve':
      return { kind: 'finish', status: 'resolved', resolution: 'ticket_closed_by_owner' };
    case 'reopen':
      return { kind: 'reopen_ticket', ticketId: oc.ticketId, evidence: oc.evidence ?? [] };
    case 'check': {
      const step = [...s.plan.steps].reverse().find((x) => x.action === 'verify' && x.status !== 'cancelled' && x.status !== 'skipped');
      // The verification was withdrawn meanwhile: nothing to confirm.
      return step ? { kind: 'owner_check', step } : { kind: 'finish', status: 'resolved', resolution: 'ticket_closed_by_owner' };
    }
  }
}

/** What an IaC step asks of the IaC system: the same for the preview and the pull request, so their digests agree. */
export interface PullRequestRequest {
  template: string;
  repository: string;
  params: Record<string, string>;
}

export function pullRequestRequest(s: Pick<RemediationState, 'cmdb'>, step: Pick<PlanStep, 'params' | 'target'>): PullRequestRequest | { blocked: string } {
  const p = step.params;
  const params = Object.fromEntries(Object.entries(p).filter(([k, v]) => k !== 'template' && k !== 'repository' && v !== '' && v !== undefined).map(([k, v]) => [k, String(v)]));
  const given = typeof p.repository === 'string' && p.repository !== '' ? p.repository : undefined;
  const repository = step.target?.kind === 'repository' ? step.target.id : (given ?? s.cmdb?.repository);
  if (!repository) return { blocked: 'no repository known for this asset (details.repository or the CMDB)' };
  return { template: String(p.template ?? ''), repository, params };
}

/** The first IaC step whose change has not been previewed for its current parameters (runs with change previews). */
function changeToPreview(s: RemediationState): Work | undefined {
  if (!s.previewChanges) return undefined;
  const step = s.plan.steps.find((x) => x.action === 'iac.pull_request' && (x.status === 'pending' || x.status === 'awaiting_approval') && !x.target);
  if (!step) return undefined;
  return { kind: 'preview_change', step, request: pullRequestRequest(s, step), forParams: paramsDigest(step.params) };
}

/** Completed steps to undo, newest first (saga order). */
export function compensations(s: RemediationState): PlanStep[] {
  return s.plan.steps.filter((x) => x.status === 'done' && x.compensation).reverse();
}

/** Whether the ticket still needs closing when the remediation ends. */
export function ticketNeedsClosing(s: RemediationState): boolean {
  return Boolean(s.ticket) && !s.ticketSeen?.closed && !s.plan.steps.some((x) => x.action === 'ticket.close' && x.status === 'done');
}

/** The ticket's resolution for a final status. */
export function ticketResolution(status: FinalStatus, resolution: string): 'remediated' | 'resolved' | 'false_positive' | 'cancelled' | 'failed' {
  return status === 'resolved' && resolution === 'false_positive' ? 'false_positive' : status;
}

// ---------------------------------------------------------------------------------------------
// verification

/** The verify step's check names turned into concrete checks from what earlier steps did. */
export function checksFor(
  s: Pick<RemediationState, 'plan' | 'facts' | 'ticket' | 'detection' | 'cmdb' | 'targets'> & Partial<Pick<RemediationState, 'closedLoop'>>,
  step: PlanStep,
): { checks: VerifyCheck[]; internal: string[]; vacuous: string[] } {
  const names: unknown[] = Array.isArray(step.params.checks) ? step.params.checks : [];
  const checks: VerifyCheck[] = [];
  const internal: string[] = [];
  const vacuous: string[] = [];
  const done = (action: string) => s.plan.steps.filter((x) => x.action === action && x.status === 'done');
  for (const raw of names) {
    const name = typeof raw === 'string' ? raw : typeof raw === 'object' && raw && 'kind' in raw ? String((raw as { kind: unknown }).kind) : '';
    switch (name) {
      case 'pr_merged': {
        const prs = done('iac.pull_request').filter((x) => typeof x.result?.number === 'number' && !x.result?.noChange);
        if (prs.length === 0) vacuous.push('pr_merged: no pull request was opened');
        for (const pr of prs) checks.push({ kind: 'pr_merged', repository: String(pr.result!.repository), number: Number(pr.result!.number) });
        break;
      }
      case 'host_contained':
        if (done('endpoint.isolate').length === 0) vacuous.push('host_contained: the host was not contained');
        else checks.push({ kind: 'host_contained', assetId: s.facts.asset.id, deviceId: verifiedDevice(s) });
        break;
      case 'host_released':
        checks.push({ kind: 'host_released', assetId: s.facts.asset.id, deviceId: verifiedDevice(s) });
        break;
      case 'ticket_closed':
        if (s.ticket) checks.push({ kind: 'ticket_state', ticketId: s.ticket.ticketId, closed: true });
        else vacuous.push('ticket_closed: no ticket');
        break;
      case 'account_disabled':
      case 'account_enabled':
        checks.push({ kind: name, userId: userIdFor(s, step.params) });
        break;
      case 'finding_resolved': {
        // A source with an API is asked (closed loop); the others tell drw through their resolve events.
        const ref = s.closedLoop ? sourceFindingRef(s.detection) : undefined;
        if (ref) checks.push({ kind: 'source_finding', ref });
        else internal.push('finding_resolved');
        break;
      }
      case 'http': {
        const r = raw as { url?: string; expectStatus?: number; expectBodyIncludes?: string };
        if (r.url) checks.push({ kind: 'http', url: r.url, expectStatus: r.expectStatus, expectBodyIncludes: r.expectBodyIncludes });
        break;
      }
      default:
        vacuous.push(`unknown check ${JSON.stringify(raw)}`);
    }
  }
  return { checks, internal, vacuous };
}

/**
 * Why a verification cannot confirm anything, or [] when it can: a check that cannot be
 * evaluated (nothing to check it against) or no check at all. Such a step is not verified;
 * "remediated" needs at least one check tied to this finding positively confirmed.
 */
export function unverifiable(found: { checks: VerifyCheck[]; internal: string[]; vacuous: string[] }): string[] {
  if (found.vacuous.length) return found.vacuous;
  return found.checks.length + found.internal.length === 0 ? ['no check tied to this finding'] : [];
}

/** What the workflow's own checks (answered by signals, not activities) still miss. */
export function internalFailures(s: RemediationState, internal: string[]): string[] {
  return internal.filter((name) => name === 'finding_resolved' && !s.resolvedAtSource).map(() => 'finding not yet resolved at the source');
}

/** The account an identity step acts on: the step's `user` parameter, else the asset (asset type user). */
export function userIdFor(s: Pick<RemediationState, 'facts'>, params: Record<string, unknown>): string {
  return typeof params.user === 'string' && params.user.length > 0 ? params.user : s.facts.asset.id;
}

/** The EDR device a step acts on: the detection's own id, else the CMDB's. */
/** The device the endpoint steps act on: the one resolved at planning (runs begun before: as they began). */
function verifiedDevice(s: Pick<RemediationState, 'detection' | 'cmdb' | 'targets'>): string | undefined {
  return s.targets?.['endpoint.isolate']?.id ?? deviceIdFor(s);
}

export function deviceIdFor(s: Pick<RemediationState, 'detection' | 'cmdb'>): string | undefined {
  const d = s.detection.details ?? {};
  const fromDetection = d.crowdstrikeDeviceId ?? d.defenderMachineId ?? d.deviceId;
  if (typeof fromDetection === 'string') return fromDetection;
  return s.cmdb?.endpointIds?.crowdstrike ?? s.cmdb?.endpointIds?.defender;
}

function changeOf(ref: ChangeRef, st: ChangeState, type: StepChange['type'], now: number): StepChange {
  return { changeId: ref.changeId, number: ref.number, ...(ref.url ? { url: ref.url } : {}), type: st.type ?? type, state: st.state.label, implementable: false, approval: st.approval, readMs: now };
}
