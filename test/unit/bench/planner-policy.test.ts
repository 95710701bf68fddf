import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchDetection, benchPlannerState, generatePlaybooks, playbookFiles } from '../../../bench/planner-policy';
import { loadPolicyDir } from '../../../planner/load';
import { buildPlan } from '../../../planner/plan';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'drw-bench-policy-test-'));
  for (const [name, text] of Object.entries(playbookFiles(generatePlaybooks(50)))) writeFileSync(path.join(dir, name), text);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the generated policy is 50 valid playbooks with distinct ids and priorities', () => {
  const policy = loadPolicyDir(dir);
  expect(policy.playbooks).toHaveLength(50);
  expect(new Set(policy.playbooks.map((p) => p.id)).size).toBe(50);
  expect(new Set(policy.playbooks.map((p) => p.priority)).size).toBe(50);
  expect(policy.playbooks.filter((p) => p.changeWindow)).not.toHaveLength(0);
});

test('the benchmark detection is matched by the lowest-priority playbook only, with a plan in progress re-planned', () => {
  const policy = loadPolicyDir(dir);
  const state = benchPlannerState(benchDetection(50));
  const first = buildPlan(policy, state);
  expect(first.plan.playbook).toBe('gen-049');
  expect(first.plan.steps.map((s) => s.id.split('.')[1])).toEqual(['ticket', 'notify', 'contain', 'patch', 'verify']);
  expect(first.plan.steps.find((s) => s.id.endsWith('.contain'))!.status).toBe('awaiting_approval');
  const again = buildPlan(policy, { ...state, facts: { ...state.facts, riskScore: 71 }, previous: first.plan });
  expect(again.plan.version).toBe(2);
  expect(again.diff.some((d) => d.step.endsWith('.contain') && d.change === 'params')).toBe(true);
  for (let i = 0; i < 49; i++) {
    expect(buildPlan(policy, benchPlannerState({ ...benchDetection(50), rule: `GEN-${i}-0001` })).plan.playbook).toBe(`gen-${String(i).padStart(3, '0')}`);
  }
});
