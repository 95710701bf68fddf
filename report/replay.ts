/**
 * Re-plays a remediation's decision inputs through the pure planner, the way the workflow's
 * handlers would: facts change on risk signals and repeats, approvals bind to the step's
 * fingerprint, steps run when reality ran them, escalations insert their steps. Used by
 * `drw policy whatif` (recorded inputs, candidate policy) and `drw policy test` (inputs
 * written in a test file). No clock, no I/O.
 */
import { detectionSchema, type Asset, type Detection } from '../domain/detection';
import { buildPlan } from '../planner/plan';
import type { PolicySet } from '../planner/policy-schema';
import { scoreRisk } from '../planner/risk';
import type { ApprovalRecord, EscalationTrigger, Facts, Plan, PlanDiffEntry, PlannerState, PlanStep } from '../planner/types';
import { factsOf, withRepeat } from '../planner/facts';

export type ReplayEvent =
  | { kind: 'policy'; policy: PolicySet }
  | { kind: 'enrich'; asset: Asset }
  | { kind: 'risk'; riskScore: number; by?: string }
  | { kind: 'repeat'; detection: unknown }
  | { kind: 'resolved'; by?: string }
  | { kind: 'decision'; decision: 'approve' | 'deny'; stepId: string; approver: string; groups: string[]; reason: string; via: 'update' | 'signal' }
  | { kind: 'expiry'; decision: 'approve' | 'deny'; stepId: string }
  | { kind: 'escalate'; trigger: EscalationTrigger }
  | { kind: 'verificationFailed'; stepId: string; note?: string }
  | { kind: 'operator'; action: 'cancel' | 'falsePositive' | 'pause' | 'resume'; by: string }
  | { kind: 'step'; stepId: string; outcome: 'started' | 'done' | 'failed' | 'cancelled' | 'compensated'; result?: Record<string, unknown>; note?: string }
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
  /** Fixed policy (a candidate); without it the replay uses the `policy` inputs (what was recorded). */
  fixedPolicy?: PolicySet;
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

export class Replayer {
  readonly plans: PlanSnapshot[] = [];
  readonly notes: ReplayNote[] = [];
  facts: Facts;
  plan: Plan = { version: 0, policyVersion: '', playbook: '', steps: [] };
  approvals: ApprovalRecord[] = [];
  escalations: EscalationTrigger[] = [];
  verificationFailures = 0;
  cancelled = false;
  falsePositive = false;
  resolvedAtSource = false;
  final?: { status: string; resolution?: string };
  private policy?: PolicySet;
  private policyLoaded = false;
  private requestedBy: string;
  /** Steps of this replay that reality ran under another id (another playbook, same step). */
  private readonly aliases = new Map<string, string>();

  constructor(private readonly init: ReplayInit) {
    const d = init.detection;
    this.requestedBy = init.requestedBy;
    this.facts = factsOf(d);
    const c = init.carried;
    if (c) {
      this.facts = clone(c.facts);
      this.approvals = clone(c.approvals);
      this.escalations = [...c.escalations];
      this.verificationFailures = c.verificationFailures;
      this.cancelled = c.cancelled;
      this.falsePositive = c.falsePositive;
      this.resolvedAtSource = c.resolvedAtSource;
      this.policyLoaded = true;
      this.policy = init.fixedPolicy ?? c.policy;
      this.plan = clone(c.plan);
      this.snapshot('', 'state carried over from the previous run', [], '');
      // Another policy re-plans the carried state, as a policy reload would: what ran stays.
      if (init.fixedPolicy) this.replan('', 'state carried over from the previous run, re-planned with this policy');
    }
  }

  get currentPolicy(): PolicySet | undefined {
    return this.policy;
  }

  /** Applies one input; returns true when the plan version changed. */
  apply(input: ReplayInput): boolean {
    const before = this.plan.version;
    if (this.final && input.kind !== 'final') return false;
    switch (input.kind) {
      case 'policy':
        this.policyLoaded = true;
        if (!this.init.fixedPolicy) {
          const reload = this.policy !== undefined;
          this.policy = input.policy;
          if (reload) this.replan(input.at, `policy updated to ${input.policy.version}`);
        } else {
          this.policy = this.init.fixedPolicy;
        }
        break;
      case 'enrich': {
        const risk = scoreRisk({ severity: this.init.detection.severity, riskScore: this.init.detection.riskScore, asset: input.asset });
        this.facts = { ...this.facts, asset: input.asset, riskScore: risk.score };
        this.replan(input.at, 'initial plan');
        break;
      }
      case 'risk': {
        const from = this.facts.riskScore;
        if (typeof input.riskScore !== 'number' || input.riskScore < 0 || input.riskScore > 100) return false;
        this.facts = { ...this.facts, riskScore: input.riskScore };
        this.replan(input.at, `risk score ${from} → ${input.riskScore}`, input.by);
        break;
      }
      case 'repeat': {
        const parsed = detectionSchema.safeParse(input.detection);
        if (!parsed.success) {
          this.note(input, 'repeat refused: invalid detection');
          return false;
        }
        const d = parsed.data;
        this.facts = withRepeat(this.facts, d);
        this.replan(input.at, `finding repeated (${this.facts.findingCount} in all)`);
        break;
      }
      case 'resolved':
        if (this.resolvedAtSource) return false;
        this.resolvedAtSource = true;
        this.replan(input.at, 'finding resolved at the source', input.by);
        break;
      case 'decision': {
        const refusal = this.refusal(input.stepId, input.approver, input.groups, input.decision);
        if (refusal) {
          const st = this.step(input.stepId);
          const what = `${input.approver}'s ${input.decision === 'approve' ? 'approval' : 'denial'} of ${input.stepId}`;
          this.note(input, st && !st.approval ? `${what} would not be asked for: the step needs no approval here (${st.status})` : `${what} would be refused: ${refusal}`);
          return false;
        }
        const step = this.step(input.stepId)!;
        this.approvals.push({ stepId: step.id, fingerprint: step.fingerprint, approver: input.approver, groups: input.groups, decision: input.decision, reason: input.reason, at: input.at, via: input.via });
        this.replan(input.at, `${input.decision} of ${step.id} by ${input.approver}`);
        break;
      }
      case 'expiry': {
        const step = this.step(input.stepId);
        if (!step || step.status !== 'awaiting_approval' || !step.approval) {
          this.note(input, `approval of ${input.stepId} expired in reality; here the step is ${step ? step.status : 'not in the plan'}`);
          return false;
        }
        const rec = (approver: string): ApprovalRecord => ({ stepId: step.id, fingerprint: step.fingerprint, approver, groups: [], decision: input.decision, reason: 'approval expired', at: input.at, via: 'expiry' });
        if (input.decision === 'deny') this.approvals.push(rec('drw:expiry'));
        else for (let i = step.approval.approvedBy.length; i < step.approval.quorum; i++) this.approvals.push(rec(`drw:expiry#${i + 1}`));
        this.replan(input.at, `approval of ${step.id} expired (${input.decision === 'deny' ? 'deny' : 'auto-approve'})`);
        break;
      }
      case 'escalate':
        if (!this.escalations.includes(input.trigger)) this.escalations.push(input.trigger);
        this.replan(input.at, `escalation: ${input.trigger}`);
        break;
      case 'verificationFailed': {
        this.verificationFailures++;
        const step = this.step(input.stepId);
        if (step && step.status === 'running') {
          step.status = 'failed';
          step.note = input.note;
        }
        break;
      }
      case 'operator':
        if (input.action === 'cancel' && !this.cancelled) {
          this.cancelled = true;
          this.replan(input.at, 'cancelled by an operator', input.by);
        } else if (input.action === 'falsePositive' && !this.falsePositive) {
          this.falsePositive = true;
          this.replan(input.at, 'false positive', input.by);
        }
        break;
      case 'step':
        this.stepOutcome(input);
        break;
      case 'final':
        this.final = { status: input.status, resolution: input.resolution };
        break;
    }
    return this.plan.version !== before;
  }

  /** This replay's step for an id reality used: the same id, or the same step of another playbook. */
  step(id: string): PlanStep | undefined {
    const exact = this.plan.steps.find((s) => s.id === id);
    if (exact) return exact;
    const alias = this.aliases.get(id);
    if (alias) return this.plan.steps.find((s) => s.id === alias);
    return undefined;
  }

  private stepOutcome(input: Extract<ReplayInput, { kind: 'step' }>): void {
    let step = this.step(input.stepId);
    if (!step && input.outcome === 'started') {
      // Reality ran "<other-playbook>.<step>": the same step here, if it would run now, is its counterpart.
      const cand = this.plan.steps.find((s) => short(s.id) === short(input.stepId) && s.status === 'pending');
      if (cand) {
        this.aliases.set(input.stepId, cand.id);
        step = cand;
      }
    }
    switch (input.outcome) {
      case 'started':
        if (!step) {
          this.note(input, `${input.stepId} ran in reality; it is not in this plan`);
        } else if (step.status === 'pending') {
          step.status = 'running';
        } else {
          this.note(input, `${input.stepId} ran in reality; here it is ${step.status}${step.status === 'awaiting_approval' ? ' (it would still wait for approval)' : ''}`);
        }
        return;
      case 'done':
        if (step?.status === 'running') {
          step.status = 'done';
          if (input.result) step.result = input.result;
          this.replan(input.at, `${step.id} finished`);
        }
        return;
      case 'failed':
        if (step?.status === 'running') {
          step.status = 'failed';
          step.note = input.note;
          if (step.reason.section !== 'steps') this.replan(input.at, `${step.id} failed`);
        }
        return;
      case 'cancelled':
        if (step?.status === 'running') step.status = 'cancelled';
        this.replan(input.at, `${input.stepId} finished`);
        return;
      case 'compensated':
        if (step?.status === 'done') {
          step.status = 'compensated';
          step.note = input.note;
        }
        return;
    }
  }

  /** Why this replay's workflow would refuse an approve/deny (validateDecision), or undefined. */
  refusal(stepId: string, approver: string, groups: string[], kind: 'approve' | 'deny'): string | undefined {
    const step = this.step(stepId);
    if (!step) return `no step ${stepId} in this plan`;
    if (step.status !== 'awaiting_approval' || !step.approval) return `${step.id} is ${step.status}, not awaiting approval`;
    const a = step.approval;
    const userOk = a.users.some((u) => u.toLowerCase() === approver.toLowerCase());
    const groupOk = a.groups.some((g) => groups.some((x) => x.toLowerCase() === g.toLowerCase()));
    if (!userOk && !groupOk) {
      return `it needs ${[a.users.length ? `one of users [${a.users.join(', ')}]` : '', a.groups.length ? `a member of [${a.groups.join(', ')}]` : ''].filter(Boolean).join(' or ')}`;
    }
    if (!a.allowRequester && approver.toLowerCase() === step.requestedBy.toLowerCase()) return `${approver} requested ${step.id}`;
    if (kind === 'approve' && a.approvedBy.some((x) => x.toLowerCase() === approver.toLowerCase())) return `${approver} already approved ${step.id}`;
    return undefined;
  }

  plannerState(): PlannerState {
    return {
      remediationId: this.init.remediationId,
      detection: this.init.detection,
      facts: this.facts,
      previous: this.plan.version === 0 ? undefined : this.plan,
      approvals: this.approvals,
      escalations: this.escalations,
      requestedBy: this.requestedBy,
      cancelled: this.cancelled,
      falsePositive: this.falsePositive,
      resolvedAtSource: this.resolvedAtSource,
      verificationFailures: this.verificationFailures,
    };
  }

  private replan(at: string, why: string, by?: string): void {
    if (!this.policyLoaded || !this.policy || this.final) return;
    const requested = this.requestedBy;
    if (by) this.requestedBy = by;
    const r = buildPlan(this.policy, this.plannerState());
    this.requestedBy = requested;
    const before = this.plan.version;
    this.plan = r.plan;
    if (r.plan.version !== before) this.snapshot(at, why, r.diff, r.selection);
  }

  private snapshot(at: string, why: string, diff: PlanDiffEntry[], selection: string): void {
    this.plans.push({ version: this.plan.version, at, trigger: why, playbook: this.plan.playbook, policyVersion: this.plan.policyVersion, selection, diff: clone(diff), plan: clone(this.plan) });
  }

  private note(input: { at: string; label: string }, message: string): void {
    this.notes.push({ at: input.at, input: input.label, message });
  }
}
