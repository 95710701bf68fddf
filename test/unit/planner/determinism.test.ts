import { parsePlaybookText } from '../../../planner/load';
import { buildPlan } from '../../../planner/plan';
import type { Playbook, PolicySet } from '../../../planner/policy-schema';
import type { PlannerState, PlanResult } from '../../../planner/types';
import { DETECTIONS, decision, frozen, loadDefault, loadFixture, mark, next, stateFor, step, withRisk } from './helpers';

// Module scope, not beforeAll: it.each tables are built while the file is collected.
const policy = loadDefault();
const gated = loadFixture('gated');

/** Realistic moments in a remediation's life, each a (policy, state) the planner sees. */
function moments(): [string, PolicySet, PlannerState][] {
  const vuln = stateFor(DETECTIONS.criticalVuln());
  const v1 = buildPlan(policy, vuln);
  const edr = stateFor(DETECTIONS.falcon(70));
  const e1 = buildPlan(policy, edr);
  const exp = stateFor(DETECTIONS.exposure(85));
  const x1 = buildPlan(gated, exp);
  const xRan: PlanResult = { ...x1, plan: mark(x1.plan, { 'exposure.ticket': 'done', 'exposure.lookup': 'running' }) };
  return [
    ['first plan', policy, vuln],
    ['after some steps ran', policy, next(vuln, { ...v1, plan: mark(v1.plan, { 'critical-vuln-internet-prod.ticket': 'done', 'critical-vuln-internet-prod.notify': 'running' }) })],
    ['after an approval', policy, next(edr, e1, { approvals: [decision(step(e1.plan, 'edr-malware.contain'), 'alice')] })],
    ['after a denial', policy, next(edr, e1, { approvals: [decision(step(e1.plan, 'edr-malware.contain'), 'dave', 'deny')] })],
    ['after a risk jump', policy, next(edr, e1, withRisk(edr, 99))],
    ['after escalations', policy, next(edr, e1, { escalations: ['sla_breached', 'approval_expired'] })],
    ['after a risk drop with a running lookup', gated, next(exp, xRan, withRisk(exp, 40))],
    ['after a partial quorum', gated, next(exp, x1, { approvals: [decision(step(x1.plan, 'exposure.contain'), 'alice')] })],
    ['after cancel', policy, next(edr, e1, { cancelled: true })],
    ['after resolution', policy, next(vuln, v1, { resolvedAtSource: true })],
  ];
}

describe('re-planning with nothing new', () => {
  it.each(moments())('%s: settles, then keeps the same version and an empty diff', (_name, p, st) => {
    const settled = buildPlan(p, st);
    const again = buildPlan(p, next(st, settled));
    expect(again.diff).toEqual([]);
    expect(again.plan).toEqual(settled.plan);
    expect(again.plan.version).toBe(settled.plan.version);
    expect(again.selection).toBe(settled.selection);
  });
});

describe('buildPlan is a pure function', () => {
  it.each(moments())('%s: the same input twice gives deep-equal output', (_name, p, st) => {
    expect(buildPlan(p, st)).toEqual(buildPlan(p, st));
  });

  it.each(moments())('%s: does not write into the policy or the state', (_name, p, st) => {
    const fp = frozen(p);
    const fst = frozen(st);
    // Frozen input would make any write throw (strict mode) — and the answer is the same as from live input.
    expect(buildPlan(fp, fst)).toEqual(buildPlan(p, st));
    expect(fst).toEqual(st);
  });

  it.each(moments())('%s: playbook order in the policy set does not matter', (_name, p, st) => {
    const reversed: PolicySet = { ...p, playbooks: [...p.playbooks].reverse() };
    const rotated: PolicySet = { ...p, playbooks: [...p.playbooks.slice(2), ...p.playbooks.slice(0, 2)] };
    const want = buildPlan(p, st);
    expect(buildPlan(reversed, st)).toEqual(want);
    expect(buildPlan(rotated, st)).toEqual(want);
  });

  it.each(moments())('%s: a state that went through JSON (workflow history) plans the same', (_name, p, st) => {
    const viaJson = JSON.parse(JSON.stringify(st)) as PlannerState;
    expect(buildPlan(p, viaJson)).toEqual(buildPlan(p, st));
  });
});

describe('playbook choice with ties', () => {
  function pb(yaml: string): Playbook {
    const r = parsePlaybookText(yaml, 'inline.yaml');
    if (!r.playbook) throw new Error(JSON.stringify(r.problems));
    return r.playbook;
  }
  const broad = pb('id: broad\nname: b\npriority: 10\nmatch: { categories: [malware] }\nsteps: [{ id: t, action: ticket.open }]\n');
  const specific = pb('id: specific\nname: s\npriority: 10\nmatch: { categories: [malware], asset: { environments: [production] } }\nsteps: [{ id: t, action: ticket.open }]\n');
  const alpha = pb('id: alpha\nname: a\npriority: 10\nmatch: { sources: [crowdstrike] }\nsteps: [{ id: t, action: ticket.open }]\n');
  const higher = pb('id: higher\nname: h\npriority: 11\nmatch: {}\nsteps: [{ id: t, action: ticket.open }]\n');
  const set = (...playbooks: Playbook[]): PolicySet => ({ version: 'test', playbooks, files: {} });
  const st = stateFor(DETECTIONS.falcon(50));

  it('higher priority wins over specificity', () => {
    expect(buildPlan(set(specific, higher, broad), st).plan.playbook).toBe('higher');
  });

  it('at equal priority the more specific playbook wins, whatever the order', () => {
    expect(buildPlan(set(broad, specific), st).plan.playbook).toBe('specific');
    expect(buildPlan(set(specific, broad), st).plan.playbook).toBe('specific');
  });

  it('at equal priority and specificity the id decides, whatever the order', () => {
    expect(buildPlan(set(broad, alpha), st).plan.playbook).toBe('alpha');
    expect(buildPlan(set(alpha, broad), st).plan.playbook).toBe('alpha');
    expect(buildPlan(set(alpha, broad), st).selection).toBe('playbook alpha (priority 10) matched on source="crowdstrike"');
  });
});
