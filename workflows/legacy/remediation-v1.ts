/**
 * The remediation workflow as it was before the remediation core (remediation/core.ts): runs
 * started by that code (no `remediation-core` patch marker in their history) keep running
 * here and replay exactly. Frozen: fix nothing here that would change its commands. Delete
 * this folder once no such run is open and no such history needs replaying.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
  patched,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { detectionSchema, type Detection } from '../../domain/detection';
import { buildPlan } from '../../planner/plan';
import { scoreRisk } from '../../planner/risk';
import { factsOf, withRepeat } from '../../planner/facts';
import { nextWindowOpen } from '../../planner/windows';
import { formatDuration } from '../../planner/durations';
import { choosePlaybook } from '../../planner/plan';
import type { FixedFacts } from '../../planner/match';
import type { ApprovalRecord, EscalationTrigger, PlanStep } from '../../planner/types';
import {
  approvalDecisionSchema,
  approveSignal,
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
  stateQuery,
  type ApprovalDecision,
  type RemediationView,
} from '../../signals';
import { SA } from '../../signals/search-attributes';
import type { RemediationInput } from '../input';
import { addDecision, deriveStatus, enrichAsset, plannerState, typedLegacyDecision, view, type RemediationState } from './state';
// The same pure reads the core uses: identical answers, so replays are unchanged.
import { checksFor, nextRunnable, settle } from '../../remediation/core';
import { StepBlocked, runStep, type RunnableStep } from '../effects';
import { activitiesFor, failureMessage } from '../activities';

const CORE_CALL = { maximumAttempts: 10, initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 30_000 };

export async function remediationV1(input: RemediationInput): Promise<RemediationView> {
  const opts = input.options;
  const scale = (ms: number) => Math.max(1, Math.round(ms * opts.timeScale));
  const now = () => new Date();
  const s: RemediationState = (input.carried as RemediationState | undefined) ?? initialState(input);
  s.runs += input.carried ? 1 : 0;
  let dirty = false;
  let runningScope: CancellationScope | undefined;
  let runningStepId: string | undefined;
  let published: Record<string, unknown> = {};
  // Decided once per run, so a history recorded before the change replays with the old status values.
  const waitingIsEscalated = patched('escalated-while-waiting-for-a-person');
  // Handlers ask for a publish; it happens once per activation, not once per message: a flood
  // of risk changes would otherwise add a search-attribute upsert to the history per signal.
  const coalescePublish = patched('publish-once-per-activation');
  let publishWanted = false;

  const decide = (entry: Parameters<typeof addDecision>[2]) => {
    const e = addDecision(s, now(), entry);
    log.info(`decision: ${e.summary}`, { remediation: s.id, kind: e.kind });
  };

  /** Re-plans synchronously (handlers call it too), logs the new version, cancels withdrawn running work. */
  const replan = (why: string, by?: string) => {
    if (!s.policy || s.final) return;
    const before = s.plan.version;
    const requested = s.requestedBy;
    if (by) s.requestedBy = by;
    const r = buildPlan(s.policy, plannerState(s));
    s.requestedBy = requested;
    s.plan = r.plan;
    if (r.plan.version !== before) {
      decide({
        kind: 'plan',
        summary: `plan v${r.plan.version}: ${why}`,
        planVersion: r.plan.version,
        policyVersion: r.plan.policyVersion,
        playbook: r.plan.playbook,
        selection: r.selection,
        diff: r.diff,
        ...(by ? { by } : {}),
      });
    }
    const running = s.plan.steps.find((x) => x.id === runningStepId);
    if (running && running.status === 'cancelled' && runningScope) runningScope.cancel();
    trackApprovalDeadlines();
    dirty = true;
    publishSoon();
  };

  const publishSoon = () => {
    if (coalescePublish) publishWanted = true;
    else publish();
  };

  const trackApprovalDeadlines = () => {
    for (const st of s.plan.steps) {
      if (st.status !== 'awaiting_approval' || !st.approval?.expiresAfterMs) continue;
      const key = `${st.id}@${st.fingerprint}`;
      if (s.approvalDeadlines[key] === undefined) s.approvalDeadlines[key] = Date.now() + scale(st.approval.expiresAfterMs);
    }
  };

  const publish = () => {
    const status = deriveStatus(s, waitingIsEscalated);
    const pending = s.plan.steps.some((x) => x.status === 'awaiting_approval');
    const next: Record<string, unknown> = {
      status,
      severity: s.facts.severity,
      risk: s.facts.riskScore,
      pending,
      policy: s.plan.policyVersion,
      playbook: s.plan.playbook,
      sla: s.slaDeadlineMs,
    };
    const changed = Object.keys(next).some((k) => next[k] !== published[k]);
    if (changed) {
      const pairs: SearchAttributeUpdatePair[] = [
        { key: SA.status, value: status },
        { key: SA.severity, value: s.facts.severity },
        { key: SA.riskScore, value: s.facts.riskScore },
        { key: SA.pendingApproval, value: pending },
      ];
      if (s.plan.policyVersion) pairs.push({ key: SA.policyVersion, value: s.plan.policyVersion });
      if (s.plan.playbook) pairs.push({ key: SA.playbook, value: s.plan.playbook });
      if (s.slaDeadlineMs !== undefined) pairs.push({ key: SA.slaDeadline, value: new Date(s.slaDeadlineMs) });
      upsertSearchAttributes(pairs);
      published = next;
    }
    const waiting = s.plan.steps.filter((x) => x.status === 'awaiting_approval').map((x) => x.id);
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

  const setSla = () => {
    const pb = s.policy ? choosePlaybook(s.policy, s.facts).playbook : undefined;
    const window = pb?.sla[s.facts.severity];
    if (window === undefined) return;
    const start = Date.parse(s.detection.observedAt ?? '') || Date.parse(input.receivedAt) || Date.now();
    const deadline = start + scale(window);
    // A worse severity can only bring the deadline closer; it never extends exposure.
    if (s.slaDeadlineMs === undefined || deadline < s.slaDeadlineMs) {
      s.slaDeadlineMs = deadline;
      decide({ kind: 'sla', summary: `exposure window for ${s.facts.severity}: ${formatDuration(window)} (until ${new Date(deadline).toISOString()})` });
    }
  };

  const escalate = (trigger: EscalationTrigger, why: string) => {
    if (!s.escalations.includes(trigger)) s.escalations.push(trigger);
    decide({ kind: trigger === 'sla_breached' ? 'sla' : 'note', summary: `escalation (${trigger}): ${why}` });
    replan(`escalation: ${trigger}`);
  };

  // ---- message handlers: validate, record, re-plan; never do I/O ----

  const validateDecision = (d: ApprovalDecision, kind: 'approve' | 'deny'): void => {
    const parsed = approvalDecisionSchema.safeParse(d);
    if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid ${kind}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'InvalidInput');
    const step = s.plan.steps.find((x) => x.id === d.stepId);
    if (!step) throw ApplicationFailure.nonRetryable(`unknown step "${d.stepId}"; steps: ${s.plan.steps.map((x) => x.id).join(', ')}`, 'UnknownStep');
    if (s.final) throw ApplicationFailure.nonRetryable(`remediation is ${s.final.status}; nothing awaits approval`, 'NotAwaitingApproval');
    if (step.status !== 'awaiting_approval' || !step.approval) {
      throw ApplicationFailure.nonRetryable(`step "${step.id}" is ${step.status}, not awaiting approval`, 'NotAwaitingApproval');
    }
    const a = step.approval;
    const userOk = a.users.some((u) => u.toLowerCase() === d.approver.toLowerCase());
    const groupOk = a.groups.some((g) => (d.groups ?? []).some((x) => x.toLowerCase() === g.toLowerCase()));
    if (!userOk && !groupOk) {
      throw ApplicationFailure.nonRetryable(
        `${d.approver} may not ${kind} step "${step.id}": it needs ${[a.users.length ? `one of users [${a.users.join(', ')}]` : '', a.groups.length ? `a member of [${a.groups.join(', ')}]` : ''].filter(Boolean).join(' or ')}`,
        'Unauthorized',
      );
    }
    if (!a.allowRequester && d.approver.toLowerCase() === step.requestedBy.toLowerCase()) {
      throw ApplicationFailure.nonRetryable(`${d.approver} requested step "${step.id}" and may not ${kind} their own change`, 'SelfApproval');
    }
    if (kind === 'approve' && a.approvedBy.some((x) => x.toLowerCase() === d.approver.toLowerCase())) {
      throw ApplicationFailure.nonRetryable(`${d.approver} already approved step "${step.id}"; quorum needs distinct approvers`, 'DuplicateApproval');
    }
  };

  const applyDecision = (d: ApprovalDecision, kind: 'approve' | 'deny', via: ApprovalRecord['via']) => {
    const step = s.plan.steps.find((x) => x.id === d.stepId)!;
    const rec: ApprovalRecord = {
      stepId: step.id,
      fingerprint: step.fingerprint,
      approver: d.approver,
      groups: d.groups ?? [],
      decision: kind,
      reason: d.reason,
      at: now().toISOString(),
      via,
    };
    s.approvals.push(rec);
    decide({ kind: kind === 'approve' ? 'approval' : 'denial', summary: `${d.approver} ${kind === 'approve' ? 'approved' : 'denied'} ${step.id}: ${d.reason}`, by: d.approver, data: { stepId: step.id, fingerprint: step.fingerprint, groups: rec.groups, via } });
    replan(`${kind} of ${step.id} by ${d.approver}`);
  };

  const decisionHandler = (kind: 'approve' | 'deny') => (d: ApprovalDecision) => {
    try {
      validateDecision(d, kind);
    } catch (e) {
      // A signal cannot answer; the refusal goes into the decision log instead.
      decide({ kind: 'rejected', summary: `${kind} signal refused: ${(e as Error).message}`, by: d?.approver });
      publishSoon();
      return;
    }
    applyDecision(d, kind, 'signal');
  };

  setHandler(approveUpdate, (d) => (applyDecision(d, 'approve', 'update'), s.plan), { validator: (d) => validateDecision(d, 'approve') });
  setHandler(denyUpdate, (d) => (applyDecision(d, 'deny', 'update'), s.plan), { validator: (d) => validateDecision(d, 'deny') });
  setHandler(approveSignal, decisionHandler('approve'));
  setHandler(denySignal, decisionHandler('deny'));

  setHandler(riskScoreChangedSignal, (m) => {
    if (s.final || typeof m?.riskScore !== 'number' || m.riskScore < 0 || m.riskScore > 100) return;
    const from = s.facts.riskScore;
    s.facts = { ...s.facts, riskScore: m.riskScore };
    decide({ kind: 'signal', summary: `risk score ${from} → ${m.riskScore}: ${m.reason ?? 'no reason given'}`, by: m.by });
    replan(`risk score ${from} → ${m.riskScore}`, m.by);
  });

  setHandler(findingAddedSignal, (raw: Detection) => {
    if (s.final) return;
    const parsed = detectionSchema.safeParse(raw);
    if (!parsed.success) {
      decide({ kind: 'rejected', summary: `findingAdded refused: ${parsed.error.issues[0]?.message ?? 'invalid detection'}` });
      return;
    }
    const d = parsed.data;
    s.facts = withRepeat(s.facts, d);
    s.unreportedRepeats++;
    if (s.facts.findingCount <= 3 || s.facts.findingCount % 100 === 0) {
      decide({ kind: 'signal', summary: `repeat #${s.facts.findingCount - 1} of this finding (${d.source}/${d.rule}) at ${d.observedAt ?? 'unknown time'}` });
    }
    setSla();
    replan(`finding repeated (${s.facts.findingCount} in all)`);
  });

  setHandler(findingResolvedSignal, (m) => {
    if (s.final || s.resolvedAtSource) return;
    s.resolvedAtSource = { by: m?.by ?? 'source', reason: m?.reason ?? 'resolved at the source' };
    decide({ kind: 'signal', summary: `finding resolved at the source: ${s.resolvedAtSource.reason}`, by: m?.by });
    replan('finding resolved at the source', m?.by);
  });

  setHandler(policyUpdatedSignal, (m) => {
    if (s.final) return;
    s.policyReloadRequested = { version: m?.version, reason: m?.reason ?? 'policy updated', by: m?.by };
    dirty = true;
  });

  setHandler(pauseSignal, (m) => {
    if (s.final || s.paused) return;
    s.paused = { by: m.by, reason: m.reason };
    decide({ kind: 'operator', summary: `paused by ${m.by}: ${m.reason}`, by: m.by });
    dirty = true;
    publishSoon();
  });
  setHandler(resumeSignal, (m) => {
    if (!s.paused) return;
    s.paused = undefined;
    decide({ kind: 'operator', summary: `resumed by ${m.by}: ${m.reason}`, by: m.by });
    dirty = true;
    publishSoon();
  });
  setHandler(cancelSignal, (m) => {
    if (s.final || s.cancelled) return;
    s.cancelled = { by: m.by, reason: m.reason };
    decide({ kind: 'operator', summary: `cancel requested by ${m.by}: ${m.reason}`, by: m.by });
    replan('cancelled by an operator', m.by);
  });
  setHandler(falsePositiveSignal, (m) => {
    if (s.final || s.falsePositive) return;
    s.falsePositive = { by: m.by, reason: m.reason };
    decide({ kind: 'operator', summary: `marked a false positive by ${m.by}: ${m.reason}`, by: m.by });
    replan('false positive', m.by);
  });

  if (coalescePublish) {
    // Conditions are checked after all of an activation's signals are applied: one publish for all.
    void (async () => {
      for (;;) {
        await condition(() => publishWanted);
        publishWanted = false;
        publish();
      }
    })();
  }

  setHandler(stateQuery, () => view(s, waitingIsEscalated));
  setHandler(planQuery, () => s.plan);
  setHandler(decisionsQuery, () => s.decisions.map(typedLegacyDecision));

  // ---- start: policy, enrichment, risk ----

  const core = (summary: string) => activitiesFor('policy', opts, { timeoutMs: 30_000, retry: CORE_CALL, summary });
  if (!input.carried) {
    decide({ kind: 'signal', summary: `detection received from ${s.detection.source}: ${s.detection.title}`, by: s.requestedBy, data: { dedupeKey: s.dedupeKey, rawRef: s.detection.rawRef } });
    s.policy = await core('load the policy').loadPolicy({ for: fixedFacts() });
    try {
      s.cmdb = await activitiesFor('cmdb', opts, { timeoutMs: 30_000, retry: { ...CORE_CALL, maximumAttempts: 5 }, summary: `enrich ${s.detection.asset.id} from the CMDB` }).lookupAsset({ assetId: s.detection.asset.id });
    } catch (e) {
      // Enrichment improves the plan; its absence must not stop remediation.
      decide({ kind: 'note', summary: `CMDB lookup failed, planning on the detection's facts: ${(e as Error).message}` });
    }
    const asset = enrichAsset(s.detection.asset, s.cmdb);
    const risk = scoreRisk({ severity: s.detection.severity, riskScore: s.detection.riskScore, asset });
    s.facts = { ...s.facts, asset, riskScore: risk.score };
    decide({
      kind: 'note',
      summary: `facts: ${s.cmdb?.found ? `CMDB ${s.cmdb.ciId ?? s.cmdb.name ?? 'record'} found` : 'asset not in the CMDB'}; risk ${risk.score} (${risk.why})`,
      data: { asset, cmdbFound: Boolean(s.cmdb?.found) },
    });
    upsertSearchAttributes([
      { key: SA.asset, value: s.facts.asset.id },
      { key: SA.source, value: s.facts.source },
      { key: SA.dedupeKey, value: s.dedupeKey },
    ]);
    setSla();
    replan('initial plan');
  } else {
    published = {};
    publish();
  }

  // ---- main loop ----

  while (!s.final) {
    if (shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      decide({ kind: 'note', summary: `continuing as new after ${workflowInfo().historyLength} history events (run ${s.runs + 1})` });
      await continueAsNew<typeof remediationV1>({ ...input, carried: s });
    }
    dirty = false;

    if (s.policyReloadRequested) {
      const req = s.policyReloadRequested;
      s.policyReloadRequested = undefined;
      const next = await core('reload the policy').loadPolicy({ expectVersion: req.version, for: fixedFacts() });
      const from = s.policy?.version;
      s.policy = next;
      decide({ kind: 'signal', summary: `policy ${from} → ${next.version}: ${req.reason}`, by: req.by, policyVersion: next.version });
      replan(`policy updated to ${next.version}`, req.by);
      continue;
    }

    if (s.slaDeadlineMs !== undefined && !s.slaBreached && Date.now() >= s.slaDeadlineMs) {
      s.slaBreached = true;
      escalate('sla_breached', `exposure window ended at ${new Date(s.slaDeadlineMs).toISOString()}`);
      continue;
    }
    if (expireApprovals()) continue;

    if (s.cancelled || s.falsePositive) {
      await compensate();
      await finish(s.cancelled ? 'cancelled' : 'resolved', s.cancelled ? 'cancelled' : 'false_positive');
      break;
    }
    if (s.paused) {
      publish();
      await condition(() => dirty || !s.paused || Boolean(s.cancelled) || Boolean(s.falsePositive));
      continue;
    }
    if (s.unreportedRepeats > 0 && s.ticket && Date.now() - s.lastRepeatReportMs >= scale(60_000)) {
      await reportRepeats();
      continue;
    }

    const step = nextRunnable(s);
    if (step) {
      const wait = windowWait(step);
      if (wait !== undefined) {
        s.waitingWindowUntilMs = wait;
        publish();
        decide({ kind: 'note', summary: `${step.id} is disruptive; held until the change window opens at ${new Date(wait).toISOString()}` });
        await condition(() => dirty || Date.now() >= wait, Math.max(1, wait - Date.now()), { summary: `change window for ${step.id}` });
        if (Date.now() >= wait) s.waitingWindowUntilMs = undefined;
        continue;
      }
      s.waitingWindowUntilMs = undefined;
      await execute(step);
      continue;
    }

    if (s.plan.steps.every((x) => x.status !== 'awaiting_approval' && x.status !== 'pending' && x.status !== 'running')) {
      const outcome = settle(s);
      if (outcome) {
        await finish(outcome.status, outcome.resolution);
        break;
      }
    }

    // Nothing to do now: wait for a message or the next deadline.
    publish();
    const wake = nextWake();
    if (wake) {
      await condition(() => dirty || shouldContinueAsNew(), Math.max(1, wake.at - Date.now()), { summary: wake.what });
    } else {
      await condition(() => dirty || shouldContinueAsNew());
    }
  }
  return view(s, waitingIsEscalated);

  // ---- helpers (closures over the state) ----

  function fixedFacts(): FixedFacts {
    return { source: s.facts.source, rule: s.facts.rule, category: s.facts.category };
  }

  function shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || (opts.maxHistoryEvents !== undefined && info.historyLength >= opts.maxHistoryEvents);
  }

  function windowWait(step: PlanStep): number | undefined {
    if (!step.disruptive || step.windowOverride || !s.policy) return undefined;
    const cw = choosePlaybook(s.policy, s.facts).playbook.changeWindow;
    if (!cw) return undefined;
    const open = nextWindowOpen(cw, Date.now());
    return open !== undefined && open > Date.now() ? open : undefined;
  }

  function nextWake(): { at: number; what: string } | undefined {
    const cands: { at: number; what: string }[] = [];
    if (s.slaDeadlineMs !== undefined && !s.slaBreached) cands.push({ at: s.slaDeadlineMs, what: `SLA deadline (${s.facts.severity})` });
    for (const st of s.plan.steps) {
      if (st.status !== 'awaiting_approval') continue;
      const at = s.approvalDeadlines[`${st.id}@${st.fingerprint}`];
      if (at !== undefined) cands.push({ at, what: `approval of ${st.id} expires (${st.approval?.onExpiry})` });
    }
    if (s.unreportedRepeats > 0 && s.ticket) cands.push({ at: s.lastRepeatReportMs + scale(60_000), what: 'report repeats to the ticket' });
    cands.sort((a, b) => a.at - b.at);
    return cands[0];
  }

  function expireApprovals(): boolean {
    let any = false;
    for (const st of s.plan.steps) {
      if (st.status !== 'awaiting_approval' || !st.approval) continue;
      const key = `${st.id}@${st.fingerprint}`;
      const at = s.approvalDeadlines[key];
      if (at === undefined || Date.now() < at || s.expiredApprovals.includes(key)) continue;
      s.expiredApprovals.push(key);
      any = true;
      const onExpiry = st.approval.onExpiry;
      const rec = (decision: 'approve' | 'deny'): ApprovalRecord => ({
        stepId: st.id,
        fingerprint: st.fingerprint,
        approver: 'drw:expiry',
        groups: [],
        decision,
        reason: `approval expired after ${formatDuration(st.approval!.expiresAfterMs ?? 0)} (policy: ${onExpiry})`,
        at: now().toISOString(),
        via: 'expiry',
      });
      if (onExpiry === 'deny') {
        s.approvals.push(rec('deny'));
        decide({ kind: 'denial', summary: `approval of ${st.id} expired: denied by policy`, by: 'drw:expiry' });
        replan(`approval of ${st.id} expired (deny)`);
      } else if (onExpiry === 'auto_approve') {
        // Counts as the whole quorum; audited as the policy's decision, not a person's.
        for (let i = st.approval.approvedBy.length; i < st.approval.quorum; i++) s.approvals.push({ ...rec('approve'), approver: `drw:expiry#${i + 1}` });
        decide({ kind: 'approval', summary: `approval of ${st.id} expired: auto-approved by policy`, by: 'drw:expiry' });
        replan(`approval of ${st.id} expired (auto-approve)`);
      } else {
        escalate('approval_expired', `approval of ${st.id} not given in time`);
      }
    }
    return any;
  }

  async function execute(step: PlanStep): Promise<void> {
    step.status = 'running';
    runningStepId = step.id;
    decide({ kind: 'step', summary: `${step.id} started (${step.action})` });
    publish();
    try {
      const result =
        step.action === 'verify'
          ? await CancellationScope.cancellable(async () => {
              runningScope = CancellationScope.current();
              return verifyLoop(step);
            })
          : await CancellationScope.cancellable(async () => {
              runningScope = CancellationScope.current();
              return runAction(s, opts, step);
            });
      const current = s.plan.steps.find((x) => x.id === step.id)!;
      current.status = 'done';
      current.result = result;
      if (step.action === 'cmdb.lookup') {
        s.facts = { ...s.facts, asset: enrichAsset(s.detection.asset, s.cmdb) };
      }
      decide({ kind: 'step', summary: `${step.id} done${result.skipped ? ` (nothing to do: ${String(result.skipped)})` : ''}`, data: result });
    } catch (e) {
      const current = s.plan.steps.find((x) => x.id === step.id)!;
      if (isCancellation(e) && current.status === 'cancelled') {
        decide({ kind: 'step', summary: `${step.id} cancelled: ${current.note ?? 'withdrawn by a re-plan'}` });
      } else if (step.action === 'verify' && (e as Error).message?.startsWith('verification')) {
        current.status = 'failed';
        current.note = (e as Error).message;
        s.verificationFailures++;
        decide({ kind: 'verification', summary: `${step.id} failed: ${(e as Error).message}` });
        runningStepId = undefined;
        runningScope = undefined;
        escalate('verification_failed', (e as Error).message);
        return;
      } else {
        current.status = 'failed';
        current.note = failureMessage(e);
        decide({ kind: 'step', summary: `${step.id} failed: ${current.note}` });
        runningStepId = undefined;
        runningScope = undefined;
        if (current.reason.section === 'steps') escalate('step_failed', `${step.id}: ${current.note}`);
        else replan(`${step.id} failed`);
        return;
      }
    }
    runningStepId = undefined;
    runningScope = undefined;
    replan(`${step.id} finished`);
  }

  async function verifyLoop(step: PlanStep): Promise<Record<string, unknown>> {
    const spec = step.verify ?? { intervalMs: 30_000, deadlineMs: 3_600_000 };
    const deadline = Date.now() + scale(spec.deadlineMs);
    const interval = scale(spec.intervalMs);
    const verifyActs = activitiesFor('verify', opts, { timeoutMs: step.timeoutMs, retry: step.retry, summary: `${step.id}: ${step.title}` });
    let attempt = 0;
    for (;;) {
      attempt++;
      const { checks, internal, vacuous } = checksFor(s, step);
      const failing: string[] = [];
      for (const name of internal) if (name === 'finding_resolved' && !s.resolvedAtSource) failing.push('finding not yet resolved at the source');
      for (const check of checks) {
        const r = await verifyActs.verify({ check });
        if (!r.ok) failing.push(`${check.kind}: ${r.detail}`);
      }
      if (failing.length === 0) return { verified: true, attempts: attempt, ...(vacuous.length ? { notApplicable: vacuous } : {}) };
      if (Date.now() + interval > deadline) throw new Error(`verification not confirmed by its deadline (${attempt} checks): ${failing.join('; ')}`);
      // finding_resolved is a signal, not a poll: wake as soon as it arrives. Wake at the SLA
      // deadline too: this step holds the main loop, so a breach is escalated from here.
      const slaAt = s.slaDeadlineMs !== undefined && !s.slaBreached ? s.slaDeadlineMs : Infinity;
      await condition(() => internal.length > 0 && Boolean(s.resolvedAtSource), Math.max(1, Math.min(interval, slaAt - Date.now())), { summary: `verify ${step.id} again (attempt ${attempt + 1})` });
      await escalateDuring(step);
    }
  }

  /**
   * While a long step (verification) holds the main loop: escalate an SLA deadline that passes
   * and run pending escalation steps (paging people) at once, not after the step, which may take
   * days. Escalation steps come after the verify step in the plan, so the main loop would not.
   */
  async function escalateDuring(outer: PlanStep): Promise<void> {
    if (s.slaDeadlineMs !== undefined && !s.slaBreached && Date.now() >= s.slaDeadlineMs) {
      s.slaBreached = true;
      escalate('sla_breached', `exposure window ended at ${new Date(s.slaDeadlineMs).toISOString()} (during ${outer.id})`);
    }
    const pending = () => s.plan.steps.find((x) => x.status === 'pending' && x.reason.section === 'escalation' && x.action !== 'verify' && !x.disruptive);
    if (!pending()) return;
    const scope = runningScope;
    for (let next = pending(); next; next = pending()) await execute(next);
    // execute() tracks one running step: give the tracking back to the outer step.
    runningStepId = outer.id;
    runningScope = scope;
    if (s.plan.steps.find((x) => x.id === outer.id)?.status === 'cancelled') scope?.cancel();
  }

  async function compensate(): Promise<void> {
    const done = s.plan.steps.filter((x) => x.status === 'done' && x.compensation).reverse();
    for (const st of done) {
      const comp = { id: st.id, action: st.compensation!.action, params: st.compensation!.params, timeoutMs: st.timeoutMs, retry: st.retry, title: `compensate ${st.id} (${st.compensation!.action})` };
      try {
        const r = await runAction(s, opts, comp, ':compensate');
        st.status = 'compensated';
        st.note = `compensated by ${comp.action}`;
        decide({ kind: 'compensation', summary: `${st.id} compensated with ${comp.action}`, data: r });
      } catch (e) {
        decide({ kind: 'compensation', summary: `compensation of ${st.id} failed: ${failureMessage(e)}` });
      }
    }
  }

  async function reportRepeats(): Promise<void> {
    const n = s.unreportedRepeats;
    s.unreportedRepeats = 0;
    s.lastRepeatReportMs = Date.now();
    try {
      await activitiesFor('ticketing', opts, { timeoutMs: 30_000, retry: CORE_CALL, summary: `tell the ticket about ${n} repeat(s)` }).updateTicket({
        idempotencyKey: `${s.id}:repeats:${s.facts.findingCount}`,
        remediationId: s.id,
        ticketId: s.ticket!.ticketId,
        comment: `drw: ${n} more detection(s) of this finding (${s.facts.findingCount} in all); severity ${s.facts.severity}, risk ${s.facts.riskScore}. No second remediation was started.`,
      });
    } catch (e) {
      decide({ kind: 'note', summary: `could not update the ticket with repeats: ${failureMessage(e)}` });
    }
  }

  async function finish(status: 'remediated' | 'resolved' | 'failed' | 'cancelled', resolution: string): Promise<void> {
    if (s.ticket && !s.plan.steps.some((x) => x.action === 'ticket.close' && x.status === 'done')) {
      const ticketResolution = status === 'resolved' && resolution === 'false_positive' ? 'false_positive' : status;
      try {
        await activitiesFor('ticketing', opts, { timeoutMs: 30_000, retry: CORE_CALL, summary: `close the ticket (${status})` }).closeTicket({
          idempotencyKey: `${s.id}:close`,
          remediationId: s.id,
          ticketId: s.ticket.ticketId,
          resolution: ticketResolution,
          comment: `drw: remediation ${status} (${resolution}). Plan v${s.plan.version}; ${s.decisions.length + s.decisionsDropped} decisions in the log.`,
        });
      } catch (e) {
        decide({ kind: 'note', summary: `could not close the ticket: ${failureMessage(e)}` });
      }
    }
    s.final = { status, resolution };
    decide({ kind: 'note', summary: `remediation ${status} (${resolution})` });
    publish();
  }
}

/** The shared step runner, with the state changes this code made inside its own runner. */
async function runAction(s: RemediationState, opts: RemediationInput['options'], step: RunnableStep, suffix = ''): Promise<Record<string, unknown>> {
  let out;
  try {
    out = await runStep(s, opts, step, suffix);
  } catch (e) {
    // This code called a step without its repository done, with nothing to do; keep it so.
    if (e instanceof StepBlocked) return { skipped: 'no repository known for this asset (details.repository or CMDB)' };
    throw e;
  }
  if (out.ticket) s.ticket = out.ticket;
  if (out.cmdb) s.cmdb = out.cmdb;
  return out.result;
}

function initialState(input: RemediationInput): RemediationState {
  const d = input.detection;
  return {
    id: workflowInfo().workflowId,
    dedupeKey: input.dedupeKey,
    requestedBy: input.requestedBy,
    detection: d,
    facts: factsOf(d),
    plan: { version: 0, policyVersion: '', playbook: '', steps: [] },
    approvals: [],
    escalations: [],
    verificationFailures: 0,
    slaBreached: false,
    unreportedRepeats: 0,
    lastRepeatReportMs: 0,
    approvalDeadlines: {},
    expiredApprovals: [],
    decisions: [],
    decisionsDropped: 0,
    seq: 0,
    runs: 0,
  };
}
