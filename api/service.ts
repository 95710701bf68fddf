/**
 * What the API and the CLI do with remediations, over a Temporal client. One place that
 * turns a detection into "start or signal", and Temporal errors into drw's answers.
 */
import { auditTaskQueue } from '../audit/schedule';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Detection } from '../domain/detection';
import { remediationId } from '../domain/ids';
import type { DrwConfig } from '../common/config';
import type { Correlation } from './auth/access';
import { channelOf, notOwnerReason, OWNER_MEMO } from './ownership';
import { publishPolicy, type PublishOutcome, type PublishRequest } from './policy-rollout';
import { KeyedQueue } from '../common/keyed-queue';
import { startFacts } from '../planner/facts';
import { dedupeKeyFor } from '../planner/dedupe';
import type { PolicySet } from '../planner/policy-schema';
import type { Plan, PlanStep } from '../planner/types';
import { mayUndo, safeguardsUndoneBy } from '../remediation/core';
import { isCoreState } from '../remediation/state';
import type { ApprovalSettings } from '../governance/approval-settings';
import { signAssertion } from '../governance/signer';
import {
  approveUpdate,
  cancelSignal,
  denyUpdate,
  falsePositiveSignal,
  findingAddedSignal,
  findingResolvedSignal,
  pauseSignal,
  policyUpdatedSignal,
  resumeSignal,
  riskScoreChangedSignal,
  stateQuery,
  coreStateQuery,
  ticketChangedSchema,
  ticketChangedSignal,
  type TicketChanged,
  approvalDecisionSchema,
  type ApprovalDecisionInput,
  type OperatorAction,
  type RemediationView,
  type RiskScoreChanged,
} from '../signals';
import { SA } from '../signals/search-attributes';
import type { remediation } from '../workflows';
import type { RemediationInput } from '../workflows/input';
import { ApiError } from './errors';
import { instanceOf, parseInstance } from '../common/remediation-ref';

export { ApiError };

export type SubmitOutcome = { id: string; outcome: 'started' | 'signalled' | 'ignored'; reason?: string };
export type TicketChangeOutcome = { signalled: { remediation: string; ticketId: string; status: string; closed: boolean } } | { ignored: string; remediation?: string };

/** A verified person acting through the API. */
export interface Actor {
  user: string;
  groups: string[];
}

export { OWNER_MEMO, channelOf } from './ownership';

/** The operator messages that can undo a safeguard, as a refusal says them. */
const UNDOING = { riskScoreChanged: 'change the risk score', cancel: 'cancel', falsePositive: 'mark a false positive', findingResolved: 'resolve' } as const;

export class RemediationService {
  /**
   * Signals to one remediation leave this process one at a time, in the order they came. A
   * flood of concurrent signals to one execution otherwise holds its lock on the server so
   * continuously that its workflow tasks wait, and the run cannot continue as new (its history
   * then grows with the flood). Remediations are independent: different ids run concurrently.
   */
  private readonly lanes = new KeyedQueue();

  constructor(
    private readonly client: Client,
    private readonly cfg: DrwConfig,
    private readonly policy: () => PolicySet,
    /** How approvals are proven (governance/approval-settings.ts); absent: unsigned, as before (tests of the message layer). */
    private readonly approvals?: ApprovalSettings,
    /** policies/access.yaml's `correlate`: which sources may join the remediations another opened. */
    private readonly correlate: Correlation = {},
    /**
     * A client on this process's workflow worker connection (cli/app.ts), when the process runs that
     * worker: starts through it are eager, the start's answer hands the first workflow task to the
     * worker here instead of the server queueing it for a poll.
     */
    private readonly eager?: Client,
  ) {}

  /** The deduplication key: the detection's own, else the matching playbook's template, else source|asset|rule. */
  dedupeKeyFor(d: Detection): string {
    return d.dedupeKey || dedupeKeyFor(this.policy(), d, startFacts(d).facts);
  }

  handle(id: string): WorkflowHandle<typeof remediation> {
    return this.client.workflow.getHandle<typeof remediation>(id);
  }

  /**
   * `actor`: the authenticated person submitting, whose groups decide whether their resolve may
   * undo a safeguard (a machine's credential, which owns what its source opened, resolves as the source).
   */
  async submit(detection: Detection, requestedBy: string, actor?: Actor): Promise<SubmitOutcome> {
    const dedupeKey = this.dedupeKeyFor(detection);
    const id = remediationId(dedupeKey);
    if (detection.status === 'resolved') {
      try {
        const refusal = await this.notOwner(id, requestedBy);
        if (refusal) return { id, outcome: 'ignored', reason: refusal };
        const resolved = resolvedMessage(detection, requestedBy);
        if (actor) await this.refuseUndoingSafeguards(id, 'findingResolved', resolved, actor);
        await this.lanes.run(id, () => this.handle(id).signal(findingResolvedSignal, resolved));
        return { id, outcome: 'signalled' };
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) return { id, outcome: 'ignored', reason: 'resolved, and no open remediation for this key' };
        throw e;
      }
    }
    const input: RemediationInput = {
      detection,
      dedupeKey,
      requestedBy,
      receivedAt: new Date().toISOString(),
      options: {
        // Every queue, though a current workflow derives the default ones (`<queue>-<kind>`): workflow code of
        // earlier releases requires them all, and may run what this API starts during a rolling upgrade.
        taskQueues: this.cfg.activityQueues,
        timeScale: this.cfg.timeScale,
        ...(this.cfg.maxHistoryEvents ? { maxHistoryEvents: this.cfg.maxHistoryEvents } : {}),
        ...(this.cfg.changePollMs ? { changePollMs: this.cfg.changePollMs } : {}),
        linkBase: this.cfg.api.publicUrl,
        ...(this.cfg.audit.archive.kind !== 'off' ? { auditTaskQueue: auditTaskQueue(this.cfg) } : {}),
        ...(this.approvals ? { approvals: this.approvals.trust } : {}),
      },
    };
    // Start and repeat in one lane: a repeat queued behind its start signals the new run.
    return this.lanes.run(id, () => this.startOrSignal(id, input));
  }

  /**
   * The 403 `submit` would answer `actor`'s resolve of `detection` with, before anything is sent:
   * a batch checks every resolve first, so a refused one submits none of it.
   */
  async refuseResolving(detection: Detection, requestedBy: string, actor: Actor): Promise<void> {
    const id = remediationId(this.dedupeKeyFor(detection));
    try {
      // Not its owner's, or no such remediation: submit ignores it, nothing to refuse.
      if (await this.notOwner(id, requestedBy)) return;
      await this.refuseUndoingSafeguards(id, 'findingResolved', resolvedMessage(detection, requestedBy), actor);
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    }
  }

  private async startOrSignal(id: string, input: RemediationInput): Promise<SubmitOutcome> {
    // A closed run with this id refuses the first start: the finding recurs, and the new remediation is told which one it follows.
    if (await this.start(id, input, 'REJECT_DUPLICATE')) return { id, outcome: 'started' };
    const d = await this.handle(id).describe();
    if (d.status.name !== 'RUNNING') {
      const outcome = d.typedSearchAttributes.get(SA.status);
      const previous = { runId: d.runId, status: d.status.name.toLowerCase(), ...(d.closeTime ? { closedAt: d.closeTime.toISOString() } : {}), ...(outcome ? { outcome } : {}) };
      if (await this.start(id, { ...input, previous }, 'ALLOW_DUPLICATE')) return { id, outcome: 'started' };
      // Another submission started it in between: this one is its repeat.
      return this.repeat(id, input, (await this.handle(id).describe()).memo);
    }
    return this.repeat(id, input, d.memo);
  }

  /** Starts the remediation; false when a run with the id is open (or, with REJECT_DUPLICATE, was ever). */
  private async start(id: string, input: RemediationInput, reuse: 'REJECT_DUPLICATE' | 'ALLOW_DUPLICATE'): Promise<boolean> {
    const { detection, dedupeKey } = input;
    try {
      await (this.eager ?? this.client).workflow.start<typeof remediation>('remediation', {
        ...(this.eager ? { requestEagerStart: true } : {}),
        taskQueue: this.cfg.taskQueue,
        workflowId: id,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: reuse,
        typedSearchAttributes: [
          { key: SA.status, value: 'planning' },
          { key: SA.severity, value: detection.severity },
          { key: SA.asset, value: detection.asset.id },
          { key: SA.source, value: detection.source },
          { key: SA.dedupeKey, value: dedupeKey },
          { key: SA.pendingApproval, value: false },
        ],
        staticSummary: `${detection.severity} · ${detection.rule} on ${detection.asset.id}`.slice(0, 200),
        memo: { [OWNER_MEMO]: channelOf(input.requestedBy) },
      });
      return true;
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw e;
    }
  }

  /** Same key already being remediated: a repeat, never a second remediation (from its owner, or a source correlated with it). */
  private async repeat(id: string, input: RemediationInput, memo: Record<string, unknown> | undefined): Promise<SubmitOutcome> {
    const refusal = this.notOwnerOf(id, memo, input.requestedBy);
    if (refusal) return { id, outcome: 'ignored', reason: refusal };
    await this.handle(id).signal(findingAddedSignal, input.detection);
    return { id, outcome: 'signalled' };
  }

  async state(id: string): Promise<RemediationView> {
    try {
      return await this.handle(id).query(stateQuery);
    } catch (e) {
      throw notFound(e, id);
    }
  }

  /** `actor`: the authenticated person, whose groups decide whether they may undo a safeguard (none on the loopback default). */
  async changeRisk(id: string, m: RiskScoreChanged, actor?: Actor): Promise<void> {
    if (actor) await this.refuseUndoingSafeguards(id, 'riskScoreChanged', m, actor);
    await this.signal(id, () => this.handle(id).signal(riskScoreChangedSignal, m));
  }

  /**
   * An operator action (or a person's resolve) that would remove a pending approval or undo an
   * executed step is refused (403) to anyone who could not have approved that step: the action is
   * applied to a copy of the remediation's state with the same core the workflow runs.
   */
  private async refuseUndoingSafeguards(id: string, name: keyof typeof UNDOING, payload: unknown, actor: Actor): Promise<void> {
    let state: unknown;
    try {
      state = await this.handle(id).query(coreStateQuery);
    } catch (e) {
      const nf = notFound(e, id);
      if (nf instanceof ApiError && nf.status === 404) throw nf;
      // A run begun before the core answers no such query: it keeps the old rule (anyone who may operate).
      return;
    }
    if (!isCoreState(state)) return;
    const undone = safeguardsUndoneBy(state, name, payload, { now: Date.now(), timeScale: this.cfg.timeScale }).filter((g) => !mayUndo(actor, g.mayUndo));
    if (!undone.length) return;
    const what = undone.map((g) => `${g.effect === 'undone' ? `undo ${g.step.id}${g.step.target ? ` (${g.step.target.kind} ${g.step.target.id})` : ''}` : `skip the approval of ${g.step.id}`}, which only ${[...g.mayUndo.users, ...g.mayUndo.groups.map((x) => `@${x}`)].join(' or ')} may approve`);
    throw new ApiError(403, `${actor.user} may not ${UNDOING[name]} here: it would ${what.join('; ')}`, { type: 'SafeguardUndone' });
  }

  /**
   * Sends an approve/deny as the (already authenticated) approver, with the API's signed assertion
   * of who decided what, for the step digest the approver saw. Outside the loopback default the
   * digest is required; in it, a missing digest means "the step as it is now".
   */
  async decide(id: string, kind: 'approve' | 'deny', body: ApprovalDecisionInput): Promise<Plan> {
    // Only this API signs: an assertion in the body is not the client's to give.
    const { assertion: _fromClient, ...unsigned } = body;
    let d: ApprovalDecisionInput = unsigned;
    if (this.approvals) {
      if (body.digest === undefined && !this.approvals.loopbackDefault) {
        throw new ApiError(400, `digest is required: the step digest you reviewed (steps[].digest in GET /v1/remediations/${id})`, { type: 'InvalidInput' });
      }
      const parsed = approvalDecisionSchema.safeParse(body);
      const digest = body.digest ?? (await this.currentStep(id, body.stepId))?.digest;
      if (parsed.success && digest) {
        const c = parsed.data;
        d = { ...body, assertion: signAssertion(this.approvals.signer, { v: 1, wf: id, step: c.stepId, digest, decision: kind, approver: c.approver, groups: c.groups, reason: c.reason, iat: Date.now() }) };
      }
    }
    try {
      return await this.handle(id).executeUpdate(kind === 'approve' ? approveUpdate : denyUpdate, { args: [d] });
    } catch (e) {
      if (e instanceof WorkflowUpdateFailedError) {
        const cause = e.cause as ApplicationFailure | undefined;
        const type = cause?.type ?? '';
        const status = type === 'Unauthorized' || type === 'SelfApproval' ? 403 : type === 'InvalidInput' ? 400 : 409;
        // A changed step: the approver gets what it is now, to review before deciding again.
        const step = type === 'DigestMismatch' ? await this.currentStep(id, body.stepId) : undefined;
        throw new ApiError(status, cause?.message ?? e.message, { type, ...(step ? { step } : {}) });
      }
      const nf = notFound(e, id);
      if (nf instanceof ApiError && nf.status === 404) {
        // A closed remediation exists but has nothing left to approve: a conflict, not "not found".
        const closed = await this.handle(id).describe().catch(() => undefined);
        if (closed) throw new ApiError(409, `remediation ${id} is closed (${closed.status.name.toLowerCase()}); nothing awaits approval`, { type: 'NotAwaitingApproval' });
      }
      throw nf;
    }
  }

  /** Why `requestedBy` may not add repeats to or resolve remediation `id` (undefined: it may). */
  private async notOwner(id: string, requestedBy: string): Promise<string | undefined> {
    return this.notOwnerOf(id, (await this.handle(id).describe()).memo, requestedBy);
  }

  private notOwnerOf(id: string, memo: Record<string, unknown> | undefined, requestedBy: string): string | undefined {
    const owner = memo?.[OWNER_MEMO];
    // Remediations opened before owners were recorded keep the old rule (anyone who may submit).
    if (typeof owner !== 'string') return undefined;
    return notOwnerReason(id, owner, channelOf(requestedBy), this.correlate);
  }

  private async currentStep(id: string, stepId: string): Promise<PlanStep | undefined> {
    try {
      return (await this.handle(id).query(stateQuery)).plan.steps.find((x) => x.id === stepId);
    } catch {
      return undefined;
    }
  }

  async operator(id: string, action: 'pause' | 'resume' | 'cancel' | 'falsePositive', m: OperatorAction, actor?: Actor): Promise<void> {
    if (actor && (action === 'cancel' || action === 'falsePositive')) await this.refuseUndoingSafeguards(id, action, m, actor);
    const def = { pause: pauseSignal, resume: resumeSignal, cancel: cancelSignal, falsePositive: falsePositiveSignal }[action];
    await this.signal(id, () => this.handle(id).signal(def, m));
  }

  async resolved(id: string, by: string, reason: string): Promise<void> {
    await this.signal(id, () => this.handle(id).signal(findingResolvedSignal, { by, reason }));
  }

  /** Tells this drw's open remediations (all, or a selection) to re-plan on the policy version it reads. */
  publishPolicy(req: PublishRequest): Promise<PublishOutcome> {
    return publishPolicy({ client: this.client, taskQueue: this.cfg.taskQueue, policy: this.policy, signal: (id, version, by, reason) => this.policyUpdated(id, version, by, reason) }, req);
  }

  async policyUpdated(id: string, version: string | undefined, by: string, reason: string): Promise<void> {
    await this.signal(id, () => this.handle(id).signal(policyUpdatedSignal, { version, by, reason }));
  }

  /**
   * A ticketing system says the ticket of remediation `instance` (`<id>~<first run>`) changed.
   * Signalled, in this remediation's lane like every message, only to the open run chain that
   * instance names: the ticket of an earlier remediation with the same id, or of a closed one,
   * is ignored with the reason (its remediation is over; the new one has its own ticket).
   */
  async ticketChanged(instance: string, m: TicketChanged): Promise<TicketChangeOutcome> {
    const ref = parseInstance(instance);
    if (!ref) return { ignored: `"${instance.slice(0, 150)}" is not a remediation instance (<id>~<first run>)` };
    const message = ticketChangedSchema.parse(m);
    const id = ref.workflowId;
    return this.lanes.run(id, async () => {
      try {
        const d = await this.handle(id).describe();
        const current = instanceOf(id, d.raw.workflowExecutionInfo?.firstRunId || d.runId);
        if (current !== instance) return { ignored: `${message.ticketId} belongs to an earlier remediation of ${id} (${instance}); the current one is ${current}`, remediation: id };
        if (d.status.name !== 'RUNNING') return { ignored: `remediation ${id} is ${d.status.name.toLowerCase()}`, remediation: id };
        await this.handle(id).signal(ticketChangedSignal, message);
        return { signalled: { remediation: id, ticketId: message.ticketId, status: message.status, closed: message.closed } };
      } catch (e) {
        if (notFound(e, id) instanceof ApiError) return { ignored: `no remediation ${id}` };
        throw e;
      }
    });
  }

  private async signal(id: string, send: () => Promise<void>): Promise<void> {
    try {
      await this.lanes.run(id, send);
    } catch (e) {
      throw notFound(e, id);
    }
  }
}

function resolvedMessage(d: Detection, requestedBy: string) {
  return { reason: `resolved at the source (${d.source})`, by: requestedBy, at: d.observedAt };
}

function notFound(e: unknown, id: string): unknown {
  if (e instanceof WorkflowNotFoundError) return new ApiError(404, `no remediation ${id}`);
  const msg = (e as Error)?.message ?? '';
  if (/not found/i.test(msg) && /workflow/i.test(msg)) return new ApiError(404, `no remediation ${id}`);
  return e;
}
