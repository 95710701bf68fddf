/**
 * Re-plays a remediation's decision inputs through the remediation core (remediation/core.ts),
 * the same `apply` the workflow calls: facts change on risk signals and repeats, approvals bind
 * to the step's fingerprint, steps run when reality ran them, escalations insert their steps.
 * Used by `drw policy whatif` (recorded inputs, candidate policy) and `drw policy test`
 * (inputs written in a test file). No clock of its own (each input carries its time), no I/O.
 */
import { paramsDigest } from '../planner/digest';
import type { Asset, Detection } from '../domain/detection';
import type { AssetFacts } from '../activities/interfaces';
import type { PolicySet } from '../planner/policy-schema';
import type { ApprovalRecord, EscalationTrigger, Facts, Plan, PlanDiffEntry, PlanStep } from '../planner/types';
import { apply, validateDecision, type CoreEvent, type FinalStatus } from '../remediation/core';
import { decisionsSince } from '../remediation/events';
import { initialState, type RemediationState } from '../remediation/state';

export type ReplayEvent =
  | { kind: 'policy'; policy: PolicySet }
  /** The CMDB record the workflow got (or none); `asset` stands for an asset known without one (policy tests). */
  | { kind: 'enrich'; cmdb?: AssetFacts; asset?: Asset }
  /** An IaC step's change previewed (from the decision log: the diff itself is not replayed). */
  | { kind: 'previewed'; stepId: string; repository: string; files: string[]; baseCommit: string; digest: string; noChange?: boolean }
  | { kind: 'risk'; riskScore: number; reason?: string; by?: string }
  | { kind: 'repeat'; detection: unknown }
  | { kind: 'resolved'; by?: string }
  | { kind: 'decision'; decision: 'approve' | 'deny'; stepId: string; approver: string; groups: string[]; reason: string; via: 'update' | 'signal' }
  | { kind: 'expiry'; decision: 'approve' | 'deny'; stepId: string }
  | { kind: 'escalate'; trigger: EscalationTrigger }
  | { kind: 'verificationFailed'; stepId: string; note?: string }
  | { kind: 'operator'; action: 'cancel' | 'falsePositive' | 'pause' | 'resume'; by: string }
  | { kind: 'step'; stepId: string; outcome: 'started' | 'done' | 'failed' | 'blocked' | 'cancelled' | 'compensated'; result?: Record<string, unknown>; note?: string }
  | { kind: 'final'; status: string; resolution?: string };

/** One decision input, when it happened and how to call it in a report. */
export type ReplayInput = { at: string; label: string } & ReplayEvent;

export interface PlanSnapshot {
  version: number;
  at: string;
  trigger: string;
  playbook: string;
  policyVersion: string;
  selection: string;
  diff: PlanDiffEntry[];
  plan: Plan;
}

export interface ReplayNote {
  at: string;
  input: string;
  message: string;
}

export interface ReplayInit {
  remediationId: string;
  detection: Detection;
  requestedBy: string;
  /** When the workflow received the detection (the SLA counts from it without an observedAt). */
  receivedAt?: string;
  /** The recorded time scale of durations (tests and demos run faster than policy time). */
  timeScale?: number;
  /** Fixed policy (a candidate); without it the replay uses the `policy` inputs (what was recorded). */
  fixedPolicy?: PolicySet;
  /** The run began with the planning checks (its history has the planning-checks marker): fact provenance, change previews. */
  planningChecks?: boolean;
  /** A state carried over from an earlier run, when the replay starts mid-chain. */
  carried?: {
    facts: Facts;
    plan: Plan;
    approvals: ApprovalRecord[];
    escalations: EscalationTrigger[];
    verificationFailures: number;
    cancelled: boolean;
    falsePositive: boolean;
    resolvedAtSource: boolean;
    policy?: PolicySet;
  };
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const short = (id: string) => id.slice(id.indexOf('.') + 1);
const REPLAYED = { by: 'replay', reason: 'replayed from the history' };

export class Replayer {
  readonly plans: PlanSnapshot[] = [];
  readonly notes: ReplayNote[] = [];
  private s: RemediationState;
  private now = 0;
  private readonly timeScale: number;
  /** Steps of this replay that reality ran under another id (another playbook, same step). */
  private readonly aliases = new Map<string, string>();

  constructor(private readonly init: ReplayInit) {
    this.timeScale = init.timeScale ?? 1;
    this.s = initialState({ id: init.remediationId, dedupeKey: '', requestedBy: init.requestedBy, receivedAt: init.receivedAt ?? '', detection: init.detection, planningChecks: init.planningChecks });
    const c = init.carried;
    if (c) {
      const mark = (v: boolean) => (v ? REPLAYED : undefined);
      this.s = {
        ...this.s,
        facts: clone(c.facts),
        plan: clone(c.plan),
        approvals: clone(c.approvals),
        escalations: [...c.escalations],
        verificationFailures: c.verificationFailures,
        cancelled: mark(c.cancelled),
        falsePositive: mark(c.falsePositive),
        resolvedAtSource: mark(c.resolvedAtSource),
        policy: init.fixedPolicy ?? c.policy,
      };
      this.snapshot('', 'state carried over from the previous run', [], '');
      // Another policy re-plans the carried state, as a policy reload would: what ran stays.
      if (init.fixedPolicy) this.feed('', { kind: 'policy_reloaded', policy: init.fixedPolicy, request: { reason: 'state carried over from the previous run, re-planned with this policy' } });
    }
  }

  get plan(): Plan {
    return this.s.plan;
  }
  get facts(): Facts {
    return this.s.facts;
  }
  get approvals(): ApprovalRecord[] {
    return this.s.approvals;
  }
  get escalations(): EscalationTrigger[] {
    return this.s.escalations;
  }
  get final(): { status: string; resolution?: string } | undefined {
    return this.s.final;
  }
  get currentPolicy(): PolicySet | undefined {
    return this.s.policy;
  }

  /** Applies one input; returns true when the plan version changed. */
  apply(input: ReplayInput): boolean {
    const before = this.s.plan.version;
    if (this.s.final && input.kind !== 'final') return false;
    this.now = Math.max(this.now, Date.parse(input.at) || 0);
    const at = input.at;
    switch (input.kind) {
      case 'policy':
        if (this.init.fixedPolicy) {
          if (!this.s.policy) this.feed(at, { kind: 'policy_loaded', policy: this.init.fixedPolicy });
        } else if (this.s.policy) {
          this.feed(at, { kind: 'policy_reloaded', policy: input.policy, request: { reason: `policy updated to ${input.policy.version}` } });
        } else {
          this.feed(at, { kind: 'policy_loaded', policy: input.policy });
        }
        break;
      case 'previewed': {
        const st = this.step(input.stepId);
        if (!st) break;
        const preview = { repository: input.repository, base: '', baseCommit: input.baseCommit, files: input.files, diff: '', digest: input.digest, ...(input.noChange ? { noChange: true } : {}) };
        this.feed(at, { kind: 'change_previewed', stepId: st.id, forParams: paramsDigest(st.params), preview });
        break;
      }
      case 'enrich':
        // An asset known without a CMDB record (policy tests) is the detection's own asset.
        if (input.asset) this.s = { ...this.s, detection: { ...this.s.detection, asset: input.asset } };
        this.feed(at, { kind: 'asset_looked_up', ...(input.cmdb ? { cmdb: input.cmdb } : {}) });
        break;
      case 'risk':
        this.message(at, 'riskScoreChanged', { riskScore: input.riskScore, reason: input.reason ?? input.label, ...(input.by ? { by: input.by } : {}) });
        break;
      case 'repeat':
        this.message(at, 'findingAdded', input.detection, () => this.note(input, 'repeat refused: invalid detection'));
        break;
      case 'resolved':
        this.message(at, 'findingResolved', input.by ? { by: input.by } : {});
        break;
      case 'decision': {
        const stepId = this.step(input.stepId)?.id ?? input.stepId;
        const payload = { stepId, approver: input.approver, groups: input.groups, reason: input.reason };
        const refusal = validateDecision(this.s, payload, input.decision, this.now);
        if (refusal) {
          const st = this.step(input.stepId);
          const what = `${input.approver}'s ${input.decision === 'approve' ? 'approval' : 'denial'} of ${input.stepId}`;
          this.note(input, st && !st.approval ? `${what} would not be asked for: the step needs no approval here (${st.status})` : `${what} would be refused: ${refusal.message}`);
          return false;
        }
        this.message(at, input.decision, payload, undefined, input.via);
        break;
      }
      case 'expiry': {
        const step = this.step(input.stepId);
        if (!step || step.status !== 'awaiting_approval' || !step.approval) {
          this.note(input, `approval of ${input.stepId} expired in reality; here the step is ${step ? step.status : 'not in the plan'}`);
          return false;
        }
        this.feed(at, { kind: 'expire_approval', stepId: step.id });
        break;
      }
      case 'escalate':
        this.feed(at, { kind: 'escalate', trigger: input.trigger, why: input.label });
        break;
      case 'verificationFailed': {
        const step = this.step(input.stepId);
        if (step?.status === 'running') this.feed(at, { kind: 'step_failed', stepId: step.id, error: input.note ?? 'verification failed', verification: true });
        break;
      }
      case 'operator':
        this.message(at, input.action, { by: input.by, reason: input.label });
        break;
      case 'step':
        this.stepOutcome(input);
        break;
      case 'final':
        this.feed(at, { kind: 'finished', status: input.status as FinalStatus, resolution: input.resolution ?? '' });
        break;
    }
    return this.s.plan.version !== before;
  }

  /** This replay's step for an id reality used: the same id, or the same step of another playbook. */
  step(id: string): PlanStep | undefined {
    const steps = this.s.plan.steps;
    const exact = steps.find((s) => s.id === id);
    if (exact) return exact;
    const alias = this.aliases.get(id);
    return alias ? steps.find((s) => s.id === alias) : undefined;
  }

  /** Why this replay's workflow would refuse an approve/deny, or undefined. */
  refusal(stepId: string, approver: string, groups: string[], kind: 'approve' | 'deny'): string | undefined {
    return validateDecision(this.s, { stepId: this.step(stepId)?.id ?? stepId, approver, groups, reason: 'what-if' }, kind, this.now)?.message;
  }

  private stepOutcome(input: Extract<ReplayInput, { kind: 'step' }>): void {
    let step = this.step(input.stepId);
    if (!step && input.outcome === 'started') {
      // Reality ran "<other-playbook>.<step>": the same step here, if it would run now, is its counterpart.
      const cand = this.s.plan.steps.find((s) => short(s.id) === short(input.stepId) && s.status === 'pending');
      if (cand) {
        this.aliases.set(input.stepId, cand.id);
        step = cand;
      }
    }
    const at = input.at;
    switch (input.outcome) {
      case 'started':
        if (!step) this.note(input, `${input.stepId} ran in reality; it is not in this plan`);
        else if (step.status === 'pending') this.feed(at, { kind: 'step_started', stepId: step.id });
        else this.note(input, `${input.stepId} ran in reality; here it is ${step.status}${step.status === 'awaiting_approval' ? ' (it would still wait for approval)' : ''}`);
        return;
      case 'done':
        if (step?.status === 'running') this.feed(at, { kind: 'step_done', stepId: step.id, result: input.result ?? {} });
        return;
      case 'failed':
      case 'blocked':
        if (step?.status === 'running') this.feed(at, { kind: 'step_failed', stepId: step.id, error: input.note ?? input.outcome, blocked: input.outcome === 'blocked' });
        return;
      case 'cancelled':
        if (step?.status === 'running' || step?.status === 'cancelled') this.feed(at, { kind: 'step_failed', stepId: step.id, error: 'cancelled', cancelled: true });
        return;
      case 'compensated':
        if (step?.status === 'done' && step.compensation) this.feed(at, { kind: 'compensated', stepId: step.id, action: step.compensation.action, result: {} });
        return;
    }
  }

  private message(at: string, name: Extract<CoreEvent, { kind: 'message' }>['name'], payload: unknown, onRejected?: () => void, via: 'update' | 'signal' = 'signal'): void {
    const seq = this.s.seq;
    this.feed(at, { kind: 'message', name, payload, via });
    if (onRejected && decisionsSince(this.s.decisions, seq).some((d) => d.kind === 'rejected')) onRejected();
  }

  /** Applies a core event at the input's time; every new plan the core records becomes a snapshot. */
  private feed(at: string, event: CoreEvent): void {
    const seq = this.s.seq;
    this.s = apply(this.s, event, { now: this.now, timeScale: this.timeScale }).state;
    for (const d of decisionsSince(this.s.decisions, seq)) if (d.kind === 'plan') this.snapshot(at, d.trigger, d.diff, d.selection, d);
  }

  private snapshot(at: string, why: string, diff: PlanDiffEntry[], selection: string, made: Pick<Plan, 'playbook' | 'policyVersion'> & { planVersion: number } = { ...this.s.plan, planVersion: this.s.plan.version }): void {
    this.plans.push({ version: made.planVersion, at, trigger: why, playbook: made.playbook, policyVersion: made.policyVersion, selection, diff: clone(diff), plan: clone(this.s.plan) });
  }

  private note(input: { at: string; label: string }, message: string): void {
    this.notes.push({ at: input.at, input: input.label, message });
  }
}
