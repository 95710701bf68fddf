import * as path from 'node:path';
import type { Detection } from '../../../domain/detection';
import { loadPolicyDir } from '../../../planner/load';
import type { PolicySet } from '../../../planner/policy-schema';
import type { ApprovalRecord, Plan, PlannerState, PlanResult, PlanStep, StepStatus } from '../../../planner/types';
import { startFacts } from '../../../planner/facts';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'policies-unit');

export const loadDefault = (): PolicySet => loadPolicyDir(path.join(ROOT, 'policies', 'default'));
export const loadFixture = (name: string): PolicySet => loadPolicyDir(path.join(FIXTURES, name));

export const INGEST = 'ingest:api-key:scanner';

/**
 * The PlannerState a remediation workflow has after enrichment: facts from the detection,
 * risk scored the way the workflow scores it (the detection's own score wins).
 */
export function stateFor(d: Detection, over: Partial<PlannerState> = {}): PlannerState {
  return {
    remediationId: `rem-${d.source}-${d.asset.id}`,
    detection: d,
    facts: startFacts(d).facts,
    approvals: [],
    escalations: [],
    requestedBy: INGEST,
    cancelled: false,
    falsePositive: false,
    resolvedAtSource: false,
    verificationFailures: 0,
    ...over,
  };
}

/** The next planner call after `r`: same remediation, the previous plan carried, changes applied. */
export function next(st: PlannerState, r: PlanResult, over: Partial<PlannerState> = {}): PlannerState {
  return { ...st, previous: r.plan, ...over };
}

export function withRisk(st: PlannerState, riskScore: number): Partial<PlannerState> {
  return { facts: { ...st.facts, riskScore } };
}

/** What the workflow does to the plan as it runs steps (the planner never sets these). */
export function mark(plan: Plan, statuses: Record<string, StepStatus>): Plan {
  for (const id of Object.keys(statuses)) if (!plan.steps.some((s) => s.id === id)) throw new Error(`no step ${id} in ${ids(plan)}`);
  return { ...plan, steps: plan.steps.map((s) => (statuses[s.id] ? { ...s, status: statuses[s.id] } : s)) };
}

export function step(plan: Plan, id: string): PlanStep {
  const s = plan.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${ids(plan).join(', ')}`);
  return s;
}

export const ids = (plan: Plan): string[] => plan.steps.map((s) => s.id);
export const statuses = (plan: Plan): Record<string, StepStatus> => Object.fromEntries(plan.steps.map((s) => [s.id, s.status]));

export function decision(s: PlanStep, approver: string, decision: 'approve' | 'deny' = 'approve', over: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    stepId: s.id,
    fingerprint: s.fingerprint,
    approver,
    groups: ['secops'],
    decision,
    reason: decision === 'approve' ? 'looks right' : 'not on a production host during the sale',
    at: '2030-01-01T00:00:00.000Z',
    via: 'update',
    ...over,
  };
}


/** Structured-clone-and-freeze, so a test fails if the planner writes into its input. */
export function frozen<T>(v: T): T {
  const c = structuredClone(v);
  const freeze = (x: unknown): void => {
    if (x && typeof x === 'object') {
      Object.freeze(x);
      for (const y of Object.values(x)) freeze(y);
    }
  };
  freeze(c);
  return c;
}

/** Shaped like the normalizers' output (ingest/formats), enriched as the workflow would. */
export const DETECTIONS = {
  criticalVuln: (over: Partial<Detection> = {}): Detection => ({
    source: 'trivy',
    rule: 'CVE-2024-3094',
    title: 'xz-utils backdoor (CVE-2024-3094)',
    severity: 'critical',
    category: 'vulnerability',
    asset: { id: 'web-01', type: 'host', environment: 'production', internetFacing: true, criticality: 'high', owner: 'team-web' },
    details: { cve: 'CVE-2024-3094', package: 'xz-utils', installedVersion: '5.6.0', fixedVersion: '5.6.2', repository: 'acme/web', manifestPath: 'images/web/Dockerfile' },
    ...over,
  }),
  falcon: (riskScore: number, over: Partial<Detection> = {}): Detection => ({
    source: 'crowdstrike',
    rule: 'MaliciousPowerShell',
    title: 'Encoded PowerShell spawned by Word',
    severity: 'critical',
    category: 'malware',
    riskScore,
    asset: { id: 'laptop-42', type: 'host', environment: 'production', owner: 'jdoe' },
    details: { sha256: 'a'.repeat(64), tactic: 'Execution' },
    ...over,
  }),
  /** For the gated fixture policy (test/fixtures/policies-unit/gated). */
  exposure: (riskScore: number, environment = 'production'): Detection => ({
    source: 'ocsf',
    rule: 'open-admin-port',
    title: 'Admin port open to the internet',
    severity: 'high',
    category: 'exposure',
    riskScore,
    asset: { id: 'db-7', type: 'host', environment },
  }),
};
