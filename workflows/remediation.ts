/**
 * The remediation workflow: a thin driver over the remediation core (remediation/core.ts).
 * Handlers hand each message to the core; the main loop asks the core what to do next, runs
 * it through activities and feeds the outcome back. Every decision the core makes reaches the
 * history in the activation that made it (a memo upsert), so the history alone carries the
 * decision log of a running, continued or terminated remediation.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { AssetFacts, ResolvedDevice } from '../activities/interfaces';
import type { PlanStep } from '../planner/types';
import { answerOf, type PolicyAnswer, type PolicyAsk } from '../planner/policy-engine';
import {
  checksFor,
  compensations,
  deviceLookup,
  internalFailures,
  nextWork,
  pendingEscalationStep,
  scaled,
  ticketNeedsClosing,
  ticketResolution,
  unverifiable,
  validateDecision,
  apply,
  type CoreContext,
  type CoreEvent,
  type FinalStatus,
  type Work,
} from '../remediation/core';
import { decisionsSince, describe, described, type Decision, type DecisionEvent } from '../remediation/events';
import { CHANGE_CANCEL, CHANGE_CLOSE, CHANGE_OPEN, CHANGE_READ, CHANGE_START, EVALUATE_POLICY, LOAD_POLICY, LOOKUP_ASSET, NO_PROVIDER, PREVIEW_CHANGE, RESOLVE_DEVICE, TICKET_CLOSE, TICKET_READ, TICKET_REOPEN, TICKET_UPDATE, VERIFY_CHECK } from '../remediation/routing';
import { deriveStatus, initialState, isCoreState, remediationRef, resultPlan, view, withDecision, type RemediationState } from '../remediation/state';
import {
  approveSignal,
  coreStateQuery,
  approveUpdate,
  cancelSignal,
  decisionsQuery,
  denySignal,
  denyUpdate,
  falsePositiveSignal,
  findingAddedSignal,
  findingResolvedSignal,
  pauseSignal,
  planQuery,
  policyUpdatedSignal,
  resumeSignal,
  riskScoreChangedSignal,
  ticketChangedSignal,
  stateQuery,
  type RemediationResult,
} from '../signals';
import { SA } from '../signals/search-attributes';
import { CORE_CALL, activitiesFor, failureMessage, failureType } from './activities';
import { StepBlocked, runStep } from './effects';
import type { RemediationInput } from './input';
import { remediationV1 } from './legacy/remediation-v1';
import { APPROVAL_REQUESTS_PATCH, AWAITING_MEMO, CHANGE_READ_WAKE_PATCH, CLOSED_LOOP_PATCH, CORE_PATCH, DECISIONS_MEMO, PLANNING_CHECKS_PATCH, PUBLISH_WHEN_BLOCKED_PATCH, WAKE_TIMER_PATCH } from './memo';
import { approvalMessenger, approversOf, awaitingOf, type ApprovalMessenger } from './approval-messages';
import { startSealOnClose } from './seal-sweep';
import { expandPolicy } from '../planner/policy-wire';


export async function remediation(input: RemediationInput): Promise<RemediationResult> {
  // A continued run carries its rules in its state; one begun before the core finishes on the code it began with.
  // (A continued run that posts approval requests carries what it posted.)
  if (input.carried !== undefined) {
    if (!isCoreState(input.carried)) return remediationV1(input);
    return drive(input, { planningChecks: false, closedLoop: false, approvalRequests: input.approvalMessages !== undefined, publishWhenBlocked: input.publishWhenBlocked === true, keepWakeTimer: input.keepWakeTimer === true });
  }
  // One marker per new run (each marker also costs an upsert of TemporalChangeVersion): the newest
  // marker implies every earlier one; a run without any began before the core.
  if (patched(WAKE_TIMER_PATCH)) return drive(input, { planningChecks: true, closedLoop: true, approvalRequests: true, publishWhenBlocked: true, keepWakeTimer: true });
  if (patched(PUBLISH_WHEN_BLOCKED_PATCH)) return drive(input, { planningChecks: true, closedLoop: true, approvalRequests: true, publishWhenBlocked: true, keepWakeTimer: false });
  if (patched(APPROVAL_REQUESTS_PATCH)) return drive(input, { planningChecks: true, closedLoop: true, approvalRequests: true, publishWhenBlocked: false, keepWakeTimer: false });
  if (patched(CLOSED_LOOP_PATCH)) return drive(input, { planningChecks: true, closedLoop: true, approvalRequests: false, publishWhenBlocked: false, keepWakeTimer: false });
  const checks = patched(PLANNING_CHECKS_PATCH);
  if (!checks && !patched(CORE_PATCH)) return remediationV1(input);
  return drive(input, { planningChecks: checks, closedLoop: false, approvalRequests: false, publishWhenBlocked: false, keepWakeTimer: false });
}

/**
 * The rules a run drives with. `approvalRequests`: approval requests in chat and the DrwApprovers
 * search attribute. `publishWhenBlocked`: the main loop publishes as it blocks (PUBLISH_WHEN_BLOCKED_PATCH).
 * `keepWakeTimer`: the main loop's wake-up timer outlives the messages that leave its time unchanged (WAKE_TIMER_PATCH).
 */
interface DriveRules {
  planningChecks: boolean;
  closedLoop: boolean;
  approvalRequests: boolean;
  publishWhenBlocked: boolean;
  keepWakeTimer: boolean;
}

class VerificationFailed extends Error {}

/** The main loop's wake-up timer (keepWakeTimer): when it fires, and the scope that drops it. */
interface WakeTimer {
  at: number;
  fired: boolean;
  scope: CancellationScope;
}

/** Decisions that say no more than the activity events beside them in the history (publishWhenBlocked defers their memo write). */
const MIRRORS_ACTIVITY: ReadonlySet<string> = new Set(['step_started', 'step_done']);

/** The run's search attributes as `publish` compares them (an unset list is no list; a time is its ms). */
function searchAttributesNow(): Record<string, unknown> {
  const sa = workflowInfo().typedSearchAttributes;
  const sla = sa.get(SA.slaDeadline);
  const approvers = sa.get(SA.approvers);
  return {
    status: sa.get(SA.status),
    severity: sa.get(SA.severity),
    risk: sa.get(SA.riskScore),
    pending: sa.get(SA.pendingApproval),
    policy: sa.get(SA.policyVersion),
    playbook: sa.get(SA.playbook),
    sla: sla?.getTime(),
    asset: sa.get(SA.asset),
    source: sa.get(SA.source),
    dedupe: sa.get(SA.dedupeKey),
    approvers: approvers?.length ? approvers.join('\n') : undefined,
  };
}

async function drive(input: RemediationInput, rules: DriveRules): Promise<RemediationResult> {
  const opts = input.options;
  const ctx = (): CoreContext => ({ now: Date.now(), timeScale: opts.timeScale, ...(opts.changePollMs ? { changePollMs: opts.changePollMs } : {}) });
  const carried = isCoreState(input.carried) ? input.carried : undefined;
  let s: RemediationState = carried
    ? { ...carried, runs: carried.runs + 1 }
    : initialState({
        id: workflowInfo().workflowId,
        dedupeKey: input.dedupeKey,
        requestedBy: input.requestedBy,
        receivedAt: input.receivedAt,
        detection: input.detection,
        trust: input.options.approvals,
        planningChecks: rules.planningChecks,
        closedLoop: rules.closedLoop,
        firstRunId: workflowInfo().firstExecutionRunId,
      });
  /** Set by messages: the main loop looks again at what to do. */
  let dirty = false;
  /** Set by every change: search attributes, details and new decisions go out once, at the end of the activation. */
  let publishWanted = false;
  /** The main loop waits on a condition a message wakes (publishWhenBlocked: it then publishes itself). */
  let loopWakesForMessages = false;
  /** The outcome finish is closing the remediation with (publishWhenBlocked: the status published from then on). */
  let deciding: FinalStatus | undefined;
  /** Nothing is published before the first plan: the starter set status "planning", and the input holds the detection. */
  let planned = Boolean(carried);
  /** The run is ending: its last decisions go in the result (or, cancelled or sealed, one last memo write). */
  let closing = false;
  const scopes = new Map<string, CancellationScope>();
  /** (keepWakeTimer) The main loop's wake-up timer while it waits for one time. */
  let wakeTimer: WakeTimer | undefined;
  // When to upsert: whenever what publish() derives changed (the activations runs always upserted in).
  let published: Record<string, unknown> = {};
  // What to send: only what the run's search attributes do not hold already (the API's start, the previous run's, the last upsert).
  let onServer = searchAttributesNow();
  /** Decisions made since the last memo write (kept here: the state's log drops its oldest entries). */
  let unwritten: Decision[] = [];
  /** Other memo fields to write with them (the steps awaiting approval, AWAITING_MEMO), and what was last written. */
  let memoWanted: Record<string, unknown> | undefined;
  let publishedAwaiting = '';

  const feed = (event: CoreEvent, fromMessage = false) => {
    const r = apply(s, event, ctx());
    for (const d of decisionsSince(r.state.decisions, s.seq)) {
      unwritten.push(d);
      publishWanted = true;
      log.info(`decision: ${describe(d)}`, { remediation: s.id, kind: d.kind });
    }
    s = r.state;
    for (const e of r.effects) {
      if (e.kind === 'cancel_running') scopes.get(e.stepId)?.cancel();
      else publishWanted = true;
    }
    if (fromMessage) dirty = true;
  };

  /** A decision about what the driver's own side effects did (the approval requests in chat). */
  const note = (e: DecisionEvent) => {
    s = withDecision(s, e, Date.now());
    const d = s.decisions[s.decisions.length - 1];
    unwritten.push(d);
    publishWanted = true;
    log.info(`decision: ${describe(d)}`, { remediation: s.id, kind: d.kind });
  };
  const approvalMessages = rules.approvalRequests ? (input.approvalMessages ?? { steps: {} }) : undefined;
  const messenger: ApprovalMessenger | undefined = approvalMessages && approvalMessenger({ state: () => s, opts, record: approvalMessages, note });
  /** Nothing of the approval requests is in flight (they are not cut short by continuing as new or closing). */
  const messagesIdle = () => messenger?.idle() ?? true;

  /**
   * Search attributes and current details when they changed; the activation's new decisions into
   * the memo. Each write is a history event: once per activation, and none for the last one.
   * With publishWhenBlocked, decisions that only say what the activity events beside them say (a
   * step started, a step done with the activity's result) wait for the next write: another
   * decision, the inbox's memo, the main loop waiting for a message or a time, continue-as-new, or
   * the result. Each memo write (like each search-attribute upsert) is also an update of the
   * visibility record on the server, about 2 ms of its CPU on the bench.
   */
  const publish = () => {
    publishWanted = false;
    // (publishWhenBlocked) Once the outcome is decided, the list shows it while the ticket closes: one upsert, not two.
    const status = deciding ?? deriveStatus(s);
    const pending = s.plan.steps.some((x) => x.status === 'awaiting_approval');
    const approvers = messenger ? approversOf(s) : undefined;
    const next: Record<string, unknown> = { status, severity: s.facts.severity, risk: s.facts.riskScore, pending, policy: s.plan.policyVersion, playbook: s.plan.playbook, sla: s.slaDeadlineMs, asset: s.facts.asset.id, source: s.facts.source, approvers: approvers?.join('\n') };
    if (Object.keys(next).some((k) => next[k] !== published[k])) {
      // Only what the server does not hold (each attribute costs its bytes in history every time it is sent).
      const sending: Record<string, unknown> = { ...next, dedupe: s.dedupeKey, approvers: approvers?.length ? next.approvers : undefined };
      const pairs: SearchAttributeUpdatePair[] = [];
      const put = (k: string, pair: SearchAttributeUpdatePair) => sending[k] !== onServer[k] && pairs.push(pair);
      put('asset', { key: SA.asset, value: s.facts.asset.id });
      put('source', { key: SA.source, value: s.facts.source });
      put('dedupe', { key: SA.dedupeKey, value: s.dedupeKey });
      put('status', { key: SA.status, value: status });
      put('severity', { key: SA.severity, value: s.facts.severity });
      put('risk', { key: SA.riskScore, value: s.facts.riskScore });
      put('pending', { key: SA.pendingApproval, value: pending });
      if (s.plan.policyVersion) put('policy', { key: SA.policyVersion, value: s.plan.policyVersion });
      if (s.plan.playbook) put('playbook', { key: SA.playbook, value: s.plan.playbook });
      if (s.slaDeadlineMs !== undefined) put('sla', { key: SA.slaDeadline, value: new Date(s.slaDeadlineMs) });
      // An empty list removes the attribute: nobody's inbox finds the remediation.
      if (approvers) put('approvers', { key: SA.approvers, value: approvers });
      // Still one upsert in this activation, as runs recorded before this always made (replay compares commands).
      upsertSearchAttributes(pairs.length ? pairs : [{ key: SA.status, value: status }]);
      published = next;
      onServer = sending;
    }
    if (messenger && approvalMessages) {
      messenger.sync();
      // What the inbox lists, when it changed: written with the decisions (one memo write).
      const awaiting = awaitingOf(s, approvalMessages);
      const text = JSON.stringify(awaiting);
      if (text !== publishedAwaiting) {
        // (publishWhenBlocked) Nothing awaits and nothing was listed: no memo yet, the inbox lists none.
        if (!(rules.publishWhenBlocked && publishedAwaiting === '' && awaiting.steps.length === 0)) memoWanted = { [AWAITING_MEMO]: awaiting };
        publishedAwaiting = text;
      }
    }
    if (!closing && (!rules.publishWhenBlocked || memoWanted || loopWakesForMessages || unwritten.some((d) => !MIRRORS_ACTIVITY.has(d.kind)))) writeDecisions();
    // What each waiting step acts on, so the Temporal UI shows what an approval would let happen.
    const waiting = s.plan.steps
      .filter((x) => x.status === 'awaiting_approval')
      .map((x) => (x.target ? `${x.id} → ${x.target.kind} ${x.target.id}${x.target.name && x.target.name !== x.target.id ? ` (${x.target.name})` : ''}` : x.id));
    setCurrentDetails(
      [
        `**${status}** · ${s.facts.severity} · risk ${s.facts.riskScore} · ${s.facts.asset.id}`,
        `playbook ${s.plan.playbook || '-'} · plan v${s.plan.version} · policy ${s.plan.policyVersion || '-'}`,
        waiting.length ? `awaiting approval: ${waiting.join(', ')}` : '',
        s.slaDeadlineMs !== undefined ? `SLA ${s.slaBreached ? 'breached' : 'until'} ${new Date(s.slaDeadlineMs).toISOString()}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  };

  const writeDecisions = () => {
    if (!unwritten.length && !memoWanted) return;
    upsertMemo({ ...memoWanted, ...(unwritten.length ? { [DECISIONS_MEMO]: unwritten } : {}) });
    unwritten = [];
    memoWanted = undefined;
  };

  // ---- messages: validated by the core; a malformed one is recorded as rejected, never thrown

  const decisionUpdate = (kind: 'approve' | 'deny') => ({
    validator: (d: unknown) => {
      const refusal = validateDecision(s, d, kind, Date.now());
      if (refusal) throw ApplicationFailure.nonRetryable(refusal.message, refusal.type);
    },
  });
  setHandler(approveUpdate, (d) => (feed({ kind: 'message', name: 'approve', payload: d, via: 'update' }, true), s.plan), decisionUpdate('approve'));
  setHandler(denyUpdate, (d) => (feed({ kind: 'message', name: 'deny', payload: d, via: 'update' }, true), s.plan), decisionUpdate('deny'));
  const signal = (name: Extract<CoreEvent, { kind: 'message' }>['name']) => (payload: unknown) => feed({ kind: 'message', name, payload, via: 'signal' }, true);
  setHandler(approveSignal, signal('approve'));
  setHandler(denySignal, signal('deny'));
  setHandler(riskScoreChangedSignal, signal('riskScoreChanged'));
  setHandler(findingAddedSignal, signal('findingAdded'));
  setHandler(findingResolvedSignal, signal('findingResolved'));
  setHandler(policyUpdatedSignal, signal('policyUpdated'));
  setHandler(ticketChangedSignal, signal('ticketChanged'));
  setHandler(pauseSignal, signal('pause'));
  setHandler(resumeSignal, signal('resume'));
  setHandler(cancelSignal, signal('cancel'));
  setHandler(falsePositiveSignal, signal('falsePositive'));
  setHandler(stateQuery, () => view(s));
  setHandler(coreStateQuery, () => s);
  setHandler(planQuery, () => s.plan);
  setHandler(decisionsQuery, () => s.decisions.map(described));

  // Conditions are checked once an activation's messages are applied: one publish for all of them.
  // Not cancellable: a workflow cancellation must not leave this loop's wait rejected and unhandled.
  // With publishWhenBlocked, a message the main loop wakes for is left to it (it publishes as it
  // blocks again); this condition publishes what the loop does not see, e.g. a message while a step runs.
  void CancellationScope.nonCancellable(async () => {
    for (;;) {
      await condition(() => publishWanted && planned && !(rules.publishWhenBlocked && loopWakesForMessages && dirty));
      publish();
    }
  });

  // ---- start: policy, enrichment, risk, first plan

  const call = (route: { kind: Parameters<typeof activitiesFor>[0] }, summary: string, maximumAttempts = CORE_CALL.maximumAttempts) =>
    activitiesFor(route.kind, opts, { timeoutMs: 30_000, retry: { ...CORE_CALL, maximumAttempts }, summary });
  const fixedFacts = () => ({ source: s.facts.source, rule: s.facts.rule, category: s.facts.category });
  // (publishWhenBlocked) The policy without each step's defaults in the history; an older activity worker sends it whole.
  const compactPolicyAsked = () => (rules.publishWhenBlocked ? { compact: true } : {});

  if (!carried) {
    feed({ kind: 'started', ...(input.previous ? { previous: input.previous } : {}) });
    const { unprovided, ...sent } = await call(LOAD_POLICY, 'load the policy').loadPolicy({ for: fixedFacts(), ...compactPolicyAsked() });
    feed({ kind: 'policy_loaded', policy: expandPolicy(sent) });
    // Kinds the worker has no provider for: their steps are blocked when planned, before anyone is asked.
    if (s.closedLoop && unprovided && Object.keys(unprovided).length) feed({ kind: 'providers_missing', unprovided });
    // A lookup is several CMDB requests (CI, its class, the services that depend on it, tags): as many attempts as drw's own calls.
    try {
      const cmdb = await call(LOOKUP_ASSET, `enrich ${s.detection.asset.id} from the CMDB`).lookupAsset({ assetId: s.detection.asset.id });
      feed({ kind: 'asset_looked_up', cmdb, ...(await resolveDevice(cmdb)) });
    } catch (e) {
      if (isCancellation(e)) throw e;
      // Enrichment improves the plan; its absence must not stop remediation.
      feed({ kind: 'asset_looked_up', error: (e as Error).message, ...(await resolveDevice(undefined)) });
    }
  }
  planned = true;
  publishWanted = true;

  /** The device endpoint steps will act on, confirmed by the EDR to be the asset's; never a detection's unchecked id. */
  async function resolveDevice(cmdb: AssetFacts | undefined): Promise<{ device?: ResolvedDevice; deviceError?: string }> {
    const ask = deviceLookup(s, cmdb);
    if (!ask) return {};
    try {
      return { device: await call(RESOLVE_DEVICE, `find the EDR device of ${ask.assetId}`).resolveDevice(ask) };
    } catch (e) {
      if (isCancellation(e)) throw e;
      return { deviceError: failureMessage(e) };
    }
  }

  // ---- main loop

  const shouldContinueAsNew = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || (opts.maxHistoryEvents !== undefined && info.historyLength >= opts.maxHistoryEvents);
  };

  try {
    await mainLoop();
  } catch (e) {
    // A cancellation request (Temporal UI, `temporal workflow cancel`, a client) in any state:
    // undo what was done and close the ticket, out of reach of the cancellation, then end as cancelled.
    if (!isCancellation(e) || s.final) throw e;
    await CancellationScope.nonCancellable(async () => {
      feed({ kind: 'message', name: 'cancel', payload: { by: 'temporal', reason: 'cancellation requested through Temporal (the history names who)' } });
      await compensate();
      await finish('cancelled', 'cancelled');
      await condition(messagesIdle);
    });
    // Cancelled: no result carries the last decisions.
    writeDecisions();
    throw e;
  }

  // The approval requests' last updates (the outcome of each step) before the run closes.
  if (messenger) await condition(messagesIdle);
  if (opts.auditTaskQueue) {
    // Sealing takes another workflow task, during which the run could be terminated: the decisions first.
    writeDecisions();
    await startSealOnClose(opts.auditTaskQueue);
  }
  // The decision log is in the history (memo writes) up to this last activation, whose decisions the result carries.
  // The detection, its facts and the enrichment are in the history already (input, enrichment decision).
  const { decisions: _inHistory, plan, facts: _facts, asset: _asset, source: _source, rule: _rule, title: _title, dedupeKey: _dedupeKey, paused: _paused, ...result } = view(s);
  return { ...result, plan: resultPlan(plan), ...(unwritten.length ? { decisions: unwritten } : {}) };

  /**
   * `work` has issued its commands and now blocks: with publishWhenBlocked the activation's publish
   * goes out here, after them, and the publisher's condition has nothing left to do. Returns the
   * same promise, so awaiting it takes no more turns than awaiting `work` (runs before the rule
   * replay as they were recorded).
   */
  function blocked<T>(work: Promise<T>): Promise<T> {
    if (rules.publishWhenBlocked && publishWanted && planned) publish();
    return work;
  }

  /** A wait a message wakes: the main loop publishes once it wakes, so the publisher leaves a message's changes to it. */
  function waitingForMessages(wait: () => Promise<unknown>): Promise<unknown> {
    // Only publishWhenBlocked reads the flag: older runs wait as they always did.
    if (!rules.publishWhenBlocked) return wait();
    loopWakesForMessages = true;
    const waiting = blocked(wait());
    // Whatever ends the wait (a message, its time, a cancellation), the loop runs next.
    waiting.then(
      () => (loopWakesForMessages = false),
      () => (loopWakesForMessages = false),
    );
    return waiting;
  }

  /** (keepWakeTimer) A timer for the main loop's next wake, in its own scope so the loop can drop it without waking. */
  function startWakeTimer(wake: { at: number; what: string }): WakeTimer {
    const scope = new CancellationScope();
    const timer: WakeTimer = { at: wake.at, fired: false, scope };
    scope.run(() => sleep(Math.max(1, wake.at - Date.now()), { summary: wake.what })).then(
      () => (timer.fired = true),
      // Cancelled: the loop waits for another time, or for none (or the run is being cancelled).
      () => undefined,
    );
    return timer;
  }

  async function mainLoop(): Promise<void> {
    while (!s.final) {
      if (shouldContinueAsNew()) {
        await condition(messenger ? () => allHandlersFinished() && messagesIdle() : allHandlersFinished);
        feed({ kind: 'continuing_as_new', historyLength: workflowInfo().historyLength });
        publish();
        if (messenger) await condition(messagesIdle);
        // (Without a messenger publish wrote them, unless they were step mirrors publishWhenBlocked defers.)
        if (messenger || rules.publishWhenBlocked) writeDecisions();
        if (opts.auditTaskQueue) await startSealOnClose(opts.auditTaskQueue);
        await continueAsNew<typeof remediation>({
          ...input,
          carried: s,
          ...(approvalMessages ? { approvalMessages } : {}),
          ...(rules.publishWhenBlocked ? { publishWhenBlocked: true as const } : {}),
          ...(rules.keepWakeTimer ? { keepWakeTimer: true as const } : {}),
        });
      }
      dirty = false;
      const work = nextWork(s, ctx());
      const wake = work.kind === 'wait' ? (work.wakeBeforeFix && !patched(CHANGE_READ_WAKE_PATCH) ? work.wakeBeforeFix : work.wake) : undefined;
      // (keepWakeTimer) A timer for another time, or for nothing the loop waits for now, goes.
      if (wakeTimer && wakeTimer.at !== wake?.at) {
        wakeTimer.scope.cancel();
        wakeTimer = undefined;
      }
      switch (work.kind) {
        case 'reload_policy':
          feed({ kind: 'policy_reload_started' });
          try {
            // A worker that has not picked up the announced version yet fails the attempt; about half a minute, then give up.
            const reload = call(LOAD_POLICY, `reload the policy (${work.request.version ?? 'latest'})`, 6);
            const { unprovided: _planning, ...sent } = await blocked(reload.loadPolicy({ expectVersion: work.request.version, for: fixedFacts(), ...compactPolicyAsked() }));
            feed({ kind: 'policy_reloaded', request: work.request, policy: expandPolicy(sent) });
          } catch (e) {
            if (isCancellation(e)) throw e;
            feed({ kind: 'policy_reload_failed', request: work.request, error: failureMessage(e) });
          }
          break;
        case 'tick':
          feed({ kind: 'tick' });
          break;
        case 'wind_down':
          await blocked(compensate());
          await blocked(finish(work.status, work.resolution));
          break;
        case 'paused':
          await waitingForMessages(() => condition(() => dirty || !s.paused || Boolean(s.cancelled) || Boolean(s.falsePositive)));
          break;
        case 'report_repeats':
          await blocked(reportRepeats());
          break;
        case 'hold': {
          const until = work.untilMs;
          feed({ kind: 'window_hold', stepId: work.step.id, untilMs: until });
          await waitingForMessages(() => condition(() => dirty || Date.now() >= until, Math.max(1, until - Date.now()), { summary: `change window for ${work.step.id}` }));
          if (Date.now() >= until) feed({ kind: 'window_open' });
          break;
        }
        case 'preview_change':
          await blocked(previewChange(work));
          break;
        case 'open_change':
          await blocked(openChange(work.step));
          break;
        case 'read_change':
          await blocked(readChange(work.stepId, work.changeId));
          break;
        case 'settle_change':
          await blocked(settleChange(work));
          break;
        case 'ask_policy_engine':
          await blocked(askPolicyEngine(work.asks));
          break;
        case 'poll_ticket':
          await blocked(pollTicket(work.ticketId));
          break;
        case 'owner_check':
          await blocked(ownerCheck(work.step));
          break;
        case 'reopen_ticket':
          await blocked(reopenTicket(work.ticketId, work.evidence));
          break;
        case 'run':
          await blocked(execute(work.step));
          break;
        case 'finish':
          await blocked(finish(work.status, work.resolution));
          break;
        case 'wait': {
          if (wake && rules.keepWakeTimer) {
            const timer = (wakeTimer ??= startWakeTimer(wake));
            await waitingForMessages(() => condition(() => dirty || timer.fired || shouldContinueAsNew()));
            if (timer.fired) wakeTimer = undefined;
          } else if (wake) await waitingForMessages(() => condition(() => dirty || shouldContinueAsNew(), Math.max(1, wake.at - Date.now()), { summary: wake.what }));
          else await waitingForMessages(() => condition(() => dirty || shouldContinueAsNew()));
          break;
        }
      }
    }
  }

  // ---- effects: each runs activities and feeds its outcome back to the core

  /** The change an IaC step would push, before anyone approves it. */
  async function previewChange(work: Extract<Work, { kind: 'preview_change' }>): Promise<void> {
    const { step, request, forParams } = work;
    if ('blocked' in request) return feed({ kind: 'change_preview_failed', stepId: step.id, error: request.blocked });
    try {
      const iac = call(PREVIEW_CHANGE, `preview the change of ${step.id} in ${request.repository}`);
      const preview = await iac.previewChange({ ...request, template: request.template as never, remediationId: remediationRef(s), idempotencyKey: `${remediationRef(s)}:${step.id}:preview` });
      feed({ kind: 'change_previewed', stepId: step.id, forParams, preview });
    } catch (e) {
      if (isCancellation(e)) throw e;
      feed({ kind: 'change_preview_failed', stepId: step.id, error: failureMessage(e) });
    }
  }

  async function execute(step: PlanStep): Promise<void> {
    feed({ kind: 'step_started', stepId: step.id });
    try {
      const change = s.closedLoop && step.change ? s.changes?.[step.id] : undefined;
      if (change && !change.implementing) {
        // The change system knows the work begins now (Scheduled → Implement).
        const key = `${remediationRef(s)}:${step.id}:change:start`;
        feed({ kind: 'change_implementing', stepId: step.id, state: await call(CHANGE_START, `implement change ${change.number}`).markChangeImplementing({ idempotencyKey: key, remediationId: remediationRef(s), changeId: change.changeId }) });
      }
      const outcome = await CancellationScope.cancellable(async () => {
        scopes.set(step.id, CancellationScope.current());
        return step.action === 'verify' ? { result: await verifyLoop(step) } : runStep(s, opts, step);
      });
      feed({ kind: 'step_done', stepId: step.id, ...outcome });
    } catch (e) {
      // The whole workflow is being cancelled: not this step's failure; the cleanup handles it.
      if (isCancellation(e) && CancellationScope.current().consideredCancelled) throw e;
      const verification = e instanceof VerificationFailed;
      // No provider for the step's kind on the worker: blocked with the reason (fail closed), like a missing input.
      const blocked = e instanceof StepBlocked || failureType(e) === NO_PROVIDER;
      feed({ kind: 'step_failed', stepId: step.id, error: e instanceof VerificationFailed || e instanceof StepBlocked ? e.message : failureMessage(e), cancelled: isCancellation(e), verification, blocked });
    } finally {
      scopes.delete(step.id);
    }
  }

  /** The step's change record, with what will be done, to what, and the digest people approved: the CAB decides in the change system. */
  async function openChange(step: PlanStep): Promise<void> {
    const changes = call(CHANGE_OPEN, `open a ${step.change} change for ${step.id}`);
    try {
      const ref = await changes.openChange({
        idempotencyKey: `${remediationRef(s)}:${step.id}:change`,
        remediationId: remediationRef(s),
        type: step.change!,
        shortDescription: `drw: ${step.title} on ${s.facts.asset.id}`.slice(0, 160),
        description: [`${step.action} on ${s.facts.asset.id}${step.target ? ` (${step.target.kind} ${step.target.id})` : ''}`, `why: playbook ${step.reason.playbook}, when ${step.reason.rule}`, `parameters: ${JSON.stringify(step.params)}`, `finding: ${s.detection.title} (${s.facts.severity}, risk ${s.facts.riskScore})`].join('\n'),
        digest: step.digest,
        ...(opts.linkBase ? { link: `${opts.linkBase.replace(/\/$/, '')}/v1/remediations/${s.id}` } : {}),
        ci: { ...(s.cmdb?.ciId ? { ciId: s.cmdb.ciId } : {}), name: s.cmdb?.name ?? s.facts.asset.id },
      });
      // Opened: what it says now, or (unread) nothing implementable until the next read.
      const state = await call(CHANGE_READ, `read change ${ref.number}`)
        .getChange({ changeId: ref.changeId })
        .catch((e: unknown) => {
          if (isCancellation(e)) throw e;
          return { changeId: ref.changeId, number: ref.number, state: { label: 'not read yet', value: NaN }, implementable: false, approval: 'requested' as const, closed: false };
        });
      feed({ kind: 'change_opened', stepId: step.id, ref, state });
    } catch (e) {
      if (isCancellation(e)) throw e;
      // Without its change the step may not run: blocked, and people are paged.
      feed({ kind: 'step_failed', stepId: step.id, error: `its change record could not be opened: ${failureMessage(e)}`, blocked: true });
    }
  }

  async function readChange(stepId: string, changeId: string): Promise<void> {
    try {
      feed({ kind: 'change_read', stepId, state: await call(CHANGE_READ, `read the change of ${stepId}`).getChange({ changeId }) });
    } catch (e) {
      if (isCancellation(e)) throw e;
      feed({ kind: 'change_read', stepId, error: failureMessage(e) });
    }
  }

  /** The change is closed with the step's outcome, or canceled when the step is no longer wanted; out of a cancellation's reach. */
  async function settleChange(work: Extract<Work, { kind: 'settle_change' }>): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      const changes = call(work.how === 'close' ? CHANGE_CLOSE : CHANGE_CANCEL, `${work.how} the change of ${work.stepId}`);
      const key = `${remediationRef(s)}:${work.stepId}:change:${work.how}`;
      try {
        const state =
          work.how === 'close'
            ? await changes.closeChange({ idempotencyKey: key, remediationId: remediationRef(s), changeId: work.changeId, outcome: work.outcome, notes: `drw: ${work.reason}` })
            : await changes.cancelChange({ idempotencyKey: key, remediationId: remediationRef(s), changeId: work.changeId, reason: `drw: ${work.reason}` });
        feed({ kind: 'change_settled', stepId: work.stepId, how: work.how === 'close' ? 'closed' : 'canceled', state, ...(work.how === 'close' ? { outcome: work.outcome } : {}), reason: work.reason });
      } catch (e) {
        // Recorded; the change stays as it is for people to settle (the step's outcome is in the log).
        feed({ kind: 'change_unsettled', stepId: work.stepId, how: work.how, error: failureMessage(e) });
      }
    });
  }

  /** The policy engine's answers to what the plan asks; an engine that does not answer is an answer too (the planner fails closed). */
  async function askPolicyEngine(asks: PolicyAsk[]): Promise<void> {
    // A few attempts, not the core's ten: an unreachable engine should block a step in seconds, not minutes.
    const engine = call(EVALUATE_POLICY, `ask the policy engine ${asks.map((a) => a.path).join(', ')}`, 4);
    const answers: PolicyAnswer[] = [];
    for (const ask of asks) {
      try {
        answers.push(answerOf(ask, await engine.evaluatePolicy({ path: ask.path, input: ask.input })));
      } catch (e) {
        if (isCancellation(e)) throw e;
        answers.push(answerOf(ask, { error: failureMessage(e) }));
      }
    }
    feed({ kind: 'policy_answered', answers });
  }

  /** The ticket as its system shows it now: a person may have closed or reopened it. */
  async function pollTicket(ticketId: string): Promise<void> {
    try {
      feed({ kind: 'ticket_polled', state: await call(TICKET_READ, `read ticket ${ticketId}`).getTicketState({ ticketId }) });
    } catch (e) {
      if (isCancellation(e)) throw e;
      // Reading again at the next poll is the remedy.
      feed({ kind: 'ticket_polled', error: failureMessage(e) });
    }
  }

  /** A person closed the ticket: the verification's checks, once, now. */
  async function ownerCheck(step: PlanStep): Promise<void> {
    const found = checksFor(s, step);
    const cannot = unverifiable(found);
    // A check that cannot be read now is a failure to confirm, not a failure of the remediation.
    const failures = cannot.length
      ? [...cannot]
      : await failingChecks(found, activitiesFor(VERIFY_CHECK.kind, opts, { timeoutMs: step.timeoutMs, retry: step.retry, summary: `${step.id}: after the ticket was closed` }), true);
    feed({ kind: 'owner_checked', failures, checks: found.checks.length + found.internal.length });
  }

  /**
   * A verification's checks, once: what is not confirmed ([] = all confirmed). `tolerate`: a check
   * whose activity fails counts as not confirmed; otherwise the failure is the step's.
   */
  async function failingChecks(found: ReturnType<typeof checksFor>, checker: ReturnType<typeof activitiesFor>, tolerate: boolean): Promise<string[]> {
    const failing = internalFailures(s, found.internal);
    for (const check of found.checks) {
      try {
        const r = await checker.verify({ check });
        if (!r.ok) failing.push(`${check.kind}: ${r.detail}`);
      } catch (e) {
        if (!tolerate || isCancellation(e)) throw e;
        failing.push(`${check.kind}: ${failureMessage(e)}`);
      }
    }
    return failing;
  }

  async function reopenTicket(ticketId: string, evidence: string[]): Promise<void> {
    try {
      await call(TICKET_REOPEN, `reopen ticket ${ticketId}`).reopenTicket({
        idempotencyKey: `${remediationRef(s)}:reopen:${s.seq}`,
        remediationId: remediationRef(s),
        ticketId,
        comment: `drw: this ticket was closed, but the fix is not verified, so it is reopened.\n${evidence.map((x) => `- ${x}`).join('\n')}`,
      });
      feed({ kind: 'ticket_reopened', ticketId, evidence });
    } catch (e) {
      if (isCancellation(e)) throw e;
      feed({ kind: 'ticket_update_failed', purpose: 'reopen', error: failureMessage(e) });
    }
  }

  async function verifyLoop(step: PlanStep): Promise<Record<string, unknown>> {
    const spec = step.verify ?? { intervalMs: 30_000, deadlineMs: 3_600_000 };
    const deadline = Date.now() + scaled(ctx(), spec.deadlineMs);
    const interval = scaled(ctx(), spec.intervalMs);
    const checker = activitiesFor(VERIFY_CHECK.kind, opts, { timeoutMs: step.timeoutMs, retry: step.retry, summary: `${step.id}: ${step.title}` });
    for (let attempt = 1; ; attempt++) {
      const found = checksFor(s, step);
      const { checks, internal } = found;
      const cannot = unverifiable(found);
      if (cannot.length) throw new VerificationFailed(`not verified: ${cannot.join('; ')}`);
      const failing = await failingChecks(found, checker, false);
      if (failing.length === 0) return { verified: true, attempts: attempt, checks: checks.length + internal.length };
      if (Date.now() + interval > deadline) throw new VerificationFailed(`verification not confirmed by its deadline (${attempt} checks): ${failing.join('; ')}`);
      // finding_resolved is a signal, not a poll: wake as soon as it arrives. Wake at the SLA
      // deadline too: this step holds the main loop, so a breach is escalated from here.
      const slaAt = s.slaDeadlineMs !== undefined && !s.slaBreached ? s.slaDeadlineMs : Infinity;
      await condition(() => internal.length > 0 && Boolean(s.resolvedAtSource), Math.max(1, Math.min(interval, slaAt - Date.now())), { summary: `verify ${step.id} again (attempt ${attempt + 1})` });
      // Escalate a passed SLA and page people now, not after a verification that may take days.
      feed({ kind: 'tick', only: 'sla' });
      for (let next = pendingEscalationStep(s); next; next = pendingEscalationStep(s)) await execute(next);
    }
  }

  /** Undoes completed steps, newest first; a failed compensation is recorded and the rest still run. */
  async function compensate(): Promise<void> {
    for (const st of compensations(s)) {
      const comp = { id: st.id, action: st.compensation!.action, params: st.compensation!.params, timeoutMs: st.timeoutMs, retry: st.retry, title: `compensate ${st.id} (${st.compensation!.action})`, ...(st.target ? { target: st.target } : {}) };
      try {
        const out = await runStep(s, opts, comp, ':compensate');
        feed({ kind: 'compensated', stepId: st.id, action: comp.action, result: out.result });
      } catch (e) {
        feed({ kind: 'compensation_failed', stepId: st.id, error: failureMessage(e) });
      }
    }
  }

  async function reportRepeats(): Promise<void> {
    const n = s.unreportedRepeats;
    const ticketId = s.ticket!.ticketId;
    feed({ kind: 'repeats_reported' });
    try {
      await call(TICKET_UPDATE, `tell the ticket about ${n} repeat(s)`).updateTicket({
        idempotencyKey: `${remediationRef(s)}:repeats:${s.facts.findingCount}`,
        remediationId: remediationRef(s),
        ticketId,
        comment: `drw: ${n} more detection(s) of this finding (${s.facts.findingCount} in all); severity ${s.facts.severity}, risk ${s.facts.riskScore}. No second remediation was started.`,
      });
    } catch (e) {
      feed({ kind: 'ticket_update_failed', purpose: 'repeats', error: failureMessage(e) });
    }
  }

  async function finish(status: FinalStatus, resolution: string): Promise<void> {
    if (rules.publishWhenBlocked) deciding = status;
    const comment = `drw: remediation ${status} (${resolution}). Plan v${s.plan.version}; ${s.decisions.length + s.decisionsDropped} decisions in the log.`;
    const closeTicket = async () => {
      try {
        if (ticketNeedsClosing(s)) {
          if (s.closedLoop) feed({ kind: 'ticket_closing' });
          await call(TICKET_CLOSE, `close the ticket (${status})`).closeTicket({ idempotencyKey: `${remediationRef(s)}:close`, remediationId: remediationRef(s), ticketId: s.ticket!.ticketId, resolution: ticketResolution(status, resolution), comment });
        } else if (s.closedLoop && s.ticket && s.ticketSeen?.closed && s.ticketSeen.via !== 'drw') {
          // A person closed it: say what drw concluded, on the ticket they closed.
          await call(TICKET_UPDATE, `tell the ticket the outcome (${status})`).updateTicket({ idempotencyKey: `${remediationRef(s)}:outcome`, remediationId: remediationRef(s), ticketId: s.ticket.ticketId, comment });
        }
      } catch (e) {
        if (isCancellation(e)) throw e;
        feed({ kind: 'ticket_update_failed', purpose: 'close', error: failureMessage(e) });
      }
    };
    // Closed loop: a cancellation arriving now must not cut the last ticket update short.
    await (s.closedLoop ? CancellationScope.nonCancellable(closeTicket) : closeTicket());
    closing = true;
    feed({ kind: 'finished', status, resolution });
    publish();
  }
}
