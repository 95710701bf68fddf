/**
 * Drives the remediation core (remediation/core.ts) event by event, without a server: a
 * remediation's state, a clock the test moves, and the effects each event asked for.
 */
import { paramsDigest } from '../../../planner/digest';
import * as path from 'node:path';
import type { AssetFacts } from '../../../activities/interfaces';
import type { Detection } from '../../../domain/detection';
import { loadPolicyDir } from '../../../planner/load';
import type { PolicySet } from '../../../planner/policy-schema';
import type { PlanStep } from '../../../planner/types';
import { apply, nextWork, type CoreEvent, type Effect, type Work } from '../../../remediation/core';
import type { Decision, DecisionKind } from '../../../remediation/events';
import { initialState, type RemediationState } from '../../../remediation/state';

const ROOT = path.resolve(__dirname, '..', '..', '..');
export const DEFAULT_POLICY = (): PolicySet => loadPolicyDir(path.join(ROOT, 'policies', 'default'));
/** quorum, expiry-deny, expiry-auto-approve, expiry-escalate, sla, sla-verify (test/fixtures/policies). */
export const TEST_POLICY = (): PolicySet => loadPolicyDir(path.join(ROOT, 'test', 'fixtures', 'policies'));

export const T0 = Date.parse('2030-01-01T00:00:00.000Z');
/** Falcon's ingest channel: a trusted risk source in the default policy (policies/default/facts.yaml). */
export const SUBMITTER = 'ingest:falcon';

export class Remediation {
  s: RemediationState;
  now = T0;
  effects: Effect[] = [];

  /** `closedLoop`: a run begun with the closed loop (remediation/state.ts). */
  constructor(detection: Detection, o: { closedLoop?: boolean } = {}) {
    this.s = initialState({ id: 'rem-1', dedupeKey: 'key-1', requestedBy: SUBMITTER, receivedAt: new Date(T0).toISOString(), detection, planningChecks: true, closedLoop: o.closedLoop });
  }

  /** Starts as the workflow does: received, policy, CMDB answer (or none), first plan. */
  static started(detection: Detection, policy: PolicySet, cmdb?: AssetFacts, o: { closedLoop?: boolean } = {}): Remediation {
    const r = new Remediation(detection, o);
    r.on({ kind: 'started' }).on({ kind: 'policy_loaded', policy }).on({ kind: 'asset_looked_up', ...(cmdb ? { cmdb } : {}) });
    return r;
  }

  /** Previews IaC changes as the driver does before anything else (off: a test drives the preview itself). */
  autoPreview = true;

  on(event: CoreEvent): this {
    const out = apply(this.s, event, { now: this.now, timeScale: 1 });
    this.s = out.state;
    this.effects = out.effects;
    for (let w = this.work(); this.autoPreview && w.kind === 'preview_change' && !('blocked' in w.request); w = this.work()) {
      // A stand-in IaC system: the change follows from the parameters.
      const preview = { repository: w.request.repository, base: 'main', baseCommit: 'c0ffee'.repeat(6) + 'cafe', files: ['main.tf'], diff: '', digest: paramsDigest(w.step.params) };
      this.s = apply(this.s, { kind: 'change_previewed', stepId: w.step.id, forParams: w.forParams, preview }, { now: this.now, timeScale: 1 }).state;
    }
    return this;
  }

  message(name: Extract<CoreEvent, { kind: 'message' }>['name'], payload: unknown, via: 'update' | 'signal' = 'signal'): this {
    return this.on({ kind: 'message', name, payload, via });
  }

  later(ms: number): this {
    this.now += ms;
    return this;
  }

  /** Runs a step to completion with the given result, as the driver would. */
  ran(stepId: string, result: Record<string, unknown> = {}): this {
    return this.on({ kind: 'step_started', stepId }).on({ kind: 'step_done', stepId, result });
  }

  work(): Work {
    return nextWork(this.s, { now: this.now, timeScale: 1 });
  }

  step(id: string): PlanStep {
    const st = this.s.plan.steps.find((x) => x.id === id);
    if (!st) throw new Error(`no step ${id}: ${this.s.plan.steps.map((x) => x.id).join(', ')}`);
    return st;
  }

  statuses(): Record<string, string> {
    return Object.fromEntries(this.s.plan.steps.map((x) => [x.id, x.status]));
  }

  kinds(): DecisionKind[] {
    return this.s.decisions.map((d) => d.kind);
  }

  last<K extends DecisionKind>(kind: K): Extract<Decision, { kind: K }> | undefined {
    return [...this.s.decisions].reverse().find((d): d is Extract<Decision, { kind: K }> => d.kind === kind);
  }
}

export const malware = (riskScore: number, over: Partial<Detection> = {}): Detection => ({
  source: 'crowdstrike',
  rule: 'MaliciousPowerShell',
  title: 'Encoded PowerShell spawned by Word',
  severity: 'high',
  category: 'malware',
  riskScore,
  asset: { id: 'laptop-42', type: 'host', environment: 'production', owner: 'jdoe' },
  details: { tactic: 'Execution' },
  ...over,
});

export const testCategory = (category: string, over: Partial<Detection> = {}): Detection => ({
  source: 'test',
  rule: category,
  title: `${category} scenario`,
  severity: 'high',
  category,
  riskScore: 60,
  asset: { id: 'host-9', type: 'host', environment: 'production' },
  ...over,
});

export const approve = (stepId: string, approver = 'alice', groups = ['secops']) => ({ stepId, approver, groups, reason: 'confirmed' });
