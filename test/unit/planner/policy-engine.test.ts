/**
 * A playbook's questions to the policy engine (OPA): a step planned only on `true`, an approval
 * skipped only on `true`, an engine that cannot answer failing closed as the playbook says, and a
 * changed fact asking again. Pure: answers are handed in as the workflow would.
 */
import { parsePlaybookText } from '../../../planner/load';
import { buildPlan } from '../../../planner/plan';
import type { PolicyAnswer, PolicyAsk } from '../../../planner/policy-engine';
import type { PolicySet } from '../../../planner/policy-schema';
import type { Detection } from '../../../domain/detection';
import type { PlannerState } from '../../../planner/types';
import { next, statuses, stateFor, step, withRisk } from './helpers';

const playbook = (onUnavailable = 'block') => `id: contain
name: Contain when the policy engine allows
match: { categories: [malware] }
steps:
  - id: ticket
    action: ticket.open
  - id: isolate
    action: endpoint.isolate
    opa: { path: drw/containment/allow, onUnavailable: ${onUnavailable} }
  - id: notify
    action: notify
    params: { channel: secops }
    approval:
      groups: [secops]
      opa: { path: drw/notify/automatic, input: [severity, riskScore] }
`;

function policyOf(text: string): PolicySet {
  const r = parsePlaybookText(text, 'contain.yaml');
  if (!r.playbook) throw new Error(JSON.stringify(r.problems));
  return { version: 'test', playbooks: [r.playbook] } as PolicySet;
}

const malware: Detection = { source: 'crowdstrike', rule: 'Trojan', title: 'trojan on h1', severity: 'high', category: 'malware', riskScore: 95, asset: { id: 'h1', type: 'host', environment: 'production' } };

/** Answers every ask of `asks` (by path) as the workflow would hand them back. */
function answered(st: PlannerState, asks: PolicyAsk[] | undefined, by: Record<string, Omit<PolicyAnswer, 'key' | 'path'>>): PlannerState {
  const answers = Object.fromEntries((asks ?? []).map((a) => [a.key, { key: a.key, path: a.path, ...by[a.path] }]));
  return { ...st, policyAnswers: { ...st.policyAnswers, ...answers } };
}

test('before the engine answers, the step it decides is not planned, the approval stays, and both questions are asked with the facts', () => {
  const r = buildPlan(policyOf(playbook()), stateFor(malware));
  expect(Object.keys(statuses(r.plan))).toEqual(['contain.ticket', 'contain.notify']);
  expect(step(r.plan, 'contain.notify').status).toBe('awaiting_approval');
  expect(r.policyAsks?.map((a) => a.path)).toEqual(['drw/containment/allow', 'drw/notify/automatic']);
  expect(r.policyAsks![0].input).toMatchObject({ riskScore: 95, asset: { id: 'h1', environment: 'production' }, category: 'malware' });
  expect(r.policyAsks![1].input).toEqual({ severity: 'high', riskScore: 95 });
});

test('true plans the step with the decision in its reasons, and skips the approval; the answers are not asked again', () => {
  const st = stateFor(malware);
  const first = buildPlan(policyOf(playbook()), st);
  const withAnswers = answered(next(st, first), first.policyAsks, { 'drw/containment/allow': { result: true, decisionId: 'd-1', engine: 'opa' }, 'drw/notify/automatic': { result: true } });
  const r = buildPlan(policyOf(playbook()), withAnswers);
  expect(statuses(r.plan)).toEqual({ 'contain.ticket': 'pending', 'contain.isolate': 'pending', 'contain.notify': 'pending' });
  expect(step(r.plan, 'contain.isolate').reason).toMatchObject({ rule: 'policy engine drw/containment/allow is true', facts: { opa: { path: 'drw/containment/allow', value: true, from: 'policy-engine', decisionId: 'd-1' } } });
  expect(r.diff).toContainEqual(expect.objectContaining({ step: 'contain.isolate', change: 'added' }));
  expect(r.policyAsks).toBeUndefined();
});

test('false leaves the step out and keeps the approval', () => {
  const st = stateFor(malware);
  const first = buildPlan(policyOf(playbook()), st);
  const r = buildPlan(policyOf(playbook()), answered(next(st, first), first.policyAsks, { 'drw/containment/allow': { result: false }, 'drw/notify/automatic': { result: false } }));
  expect(statuses(r.plan)).toEqual({ 'contain.ticket': 'pending', 'contain.notify': 'awaiting_approval' });
});

test.each([
  ['block', { 'contain.ticket': 'pending', 'contain.isolate': 'blocked', 'contain.notify': 'awaiting_approval' }],
  ['plan', { 'contain.ticket': 'pending', 'contain.isolate': 'pending', 'contain.notify': 'awaiting_approval' }],
  ['skip', { 'contain.ticket': 'pending', 'contain.notify': 'awaiting_approval' }],
])('an engine that cannot answer: onUnavailable %s (and the approval is always kept)', (mode, expected) => {
  const st = stateFor(malware);
  const first = buildPlan(policyOf(playbook(mode)), st);
  const down = { error: 'connect ECONNREFUSED 127.0.0.1:8181' };
  const r = buildPlan(policyOf(playbook(mode)), answered(next(st, first), first.policyAsks, { 'drw/containment/allow': down, 'drw/notify/automatic': down }));
  expect(statuses(r.plan)).toEqual(expected);
  if (mode === 'block') expect(step(r.plan, 'contain.isolate').note).toBe('the policy engine did not answer drw/containment/allow: connect ECONNREFUSED 127.0.0.1:8181');
});

test('a changed fact the engine was given asks again; an unchanged one does not', () => {
  const st = stateFor(malware);
  const first = buildPlan(policyOf(playbook()), st);
  const known = answered(next(st, first), first.policyAsks, { 'drw/containment/allow': { result: true }, 'drw/notify/automatic': { result: true } });
  const same = buildPlan(policyOf(playbook()), known);
  expect(same.policyAsks).toBeUndefined();
  const riskier = buildPlan(policyOf(playbook()), next(known, same, withRisk(known, 40)));
  expect(riskier.policyAsks?.map((a) => a.path)).toEqual(['drw/containment/allow', 'drw/notify/automatic']);
  expect(riskier.policyAsks![1].input).toEqual({ severity: 'high', riskScore: 40 });
});

test('a question with a path OPA could not route, or an unknown fact, is refused when the policy loads', () => {
  const bad = parsePlaybookText(playbook().replace('drw/containment/allow', 'drw.containment.allow'), 'bad.yaml');
  expect(bad.playbook).toBeUndefined();
  expect(JSON.stringify(bad.problems)).toContain('a slash-separated rule path like drw/containment/allow');
  const unknown = parsePlaybookText(playbook().replace('[severity, riskScore]', '[severity, password]'), 'bad.yaml');
  expect(unknown.playbook).toBeUndefined();
});
