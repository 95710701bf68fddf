/**
 * Histories recorded from a real Temporal server by test/e2e/report.test.ts
 * (DRW_RECORD_FIXTURES=1 npx jest test/e2e/report.test.ts):
 * - edr-approved: EDR malware at risk 60, a repeat, a risk change to 70, alice (secops) approves
 *   containment through the update, contained, verified, remediated. One run.
 * - misconfig-chain: a public production bucket, 30 repeats that push it through two
 *   continue-as-new, carol (cloud-owners) approves the IaC fix, merged, verified. Three runs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCondition } from '../../../planner/conditions';
import type { PolicySet } from '../../../planner/policy-schema';
import { extract } from '../../../report/extract';
import { runsFromText, type RunHistory } from '../../../report/history';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const EDR_FILE = path.join(FIXTURES, 'edr-approved.history.json');
export const CHAIN_FILE = path.join(FIXTURES, 'misconfig-chain.history.json');
/** edr-approved as the pre-core workflow (workflows/legacy) recorded it: a decision log of sentences. */
export const PRE_CORE_FILE = path.join(FIXTURES, 'pre-core-edr-approved.history.json');

export function fixtureText(file: string): string {
  return readFileSync(file, 'utf8');
}

export function fixtureRuns(file: string): RunHistory[] {
  return runsFromText(fixtureText(file)).runs;
}

/** The policy the workflow loaded, as recorded in its history (the loadPolicy result). */
export function recordedPolicy(runs: RunHistory[]): PolicySet {
  const p = extract(runs).policies[0]?.policy;
  if (!p) throw new Error('no policy recorded');
  return JSON.parse(JSON.stringify(p)) as PolicySet;
}

/** A candidate: the recorded policy with one step of one playbook changed. */
export function withStep(policy: PolicySet, playbook: string, step: string, change: (s: any) => void): PolicySet {
  const p = JSON.parse(JSON.stringify(policy)) as PolicySet;
  const pb = p.playbooks.find((x) => x.id === playbook)!;
  change(pb.steps.find((s) => s.id === step)!);
  p.version = `candidate-${Math.random().toString(16).slice(2, 10)}`;
  return p;
}

export function when(text: string) {
  return { text, cond: parseCondition(text) };
}
