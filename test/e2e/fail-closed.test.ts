/**
 * Fail closed (issue 12, point 5): a worker with no provider for a kind of system does not fall
 * back to the in-process stand-in (whose runbook "ran" nothing); the step is blocked with what to
 * configure, the escalation runs, and nothing is called remediated.
 */
import { buildSystems } from '../../activities/registry';
import { DEFAULT_POLICY, startHarness, type Harness } from '../helpers/harness';
import { asset, detection, step, submit, waitFor } from '../helpers/scenario';

let h: Harness;
beforeAll(async () => {
  // The runbook system as a production worker without AWX or Rundeck variables builds it.
  h = await startHarness({ policyDir: DEFAULT_POLICY, override: { runbook: buildSystems({}).runbook } });
});
afterAll(() => h?.close());

test('an infrastructure alert on a worker with no runbook provider: the runbook step is blocked with what to set, escalated, never remediated', async () => {
  const host = asset('closed-1');
  const id = await submit(h, detection({ source: 'alertmanager', rule: 'ServiceDown', severity: 'high', category: 'infrastructure', asset: { id: host }, details: { runbook: 'restart-service', service: 'nginx' } }));
  // The escalation pages at once; the verification still waits for the alert to resolve by itself.
  const s = await waitFor(h, id, (x) => x.plan.steps.some((y: any) => y.reason.section === 'escalation' && y.status === 'done'), 'escalated with the reason');
  expect(step(s, 'infrastructure-alert.runbook')).toMatchObject({ status: 'blocked', note: expect.stringMatching(/^no runbook provider is configured on this worker: set DRW_RUNBOOK \(awx, rundeck\)/) });
  expect(s.decisions.find((d: any) => d.kind === 'escalation')).toMatchObject({ trigger: 'step_blocked' });
  expect(h.systems.record.runbooks).toEqual([]);
  expect(s.resolution).toBeUndefined();
  expect(s.status).not.toBe('remediated');
});

test('on a worker that serves every kind, the step is blocked when planned: nothing runs or asks for it', async () => {
  const production = buildSystems({});
  const own = await startHarness({ policyDir: DEFAULT_POLICY, override: { runbook: production.runbook, unprovided: { runbook: production.unprovided.runbook } } });
  try {
    const host = asset('closed-2');
    const id = await submit(own, detection({ source: 'alertmanager', rule: 'ServiceDown', severity: 'high', category: 'infrastructure', asset: { id: host }, details: { runbook: 'restart-service', service: 'nginx' } }));
    const s = await waitFor(own, id, (x) => x.plan.steps.some((y: any) => y.reason.section === 'escalation' && y.status === 'done'), 'escalated with the reason');
    expect(step(s, 'infrastructure-alert.runbook')).toMatchObject({ status: 'blocked', note: production.unprovided.runbook });
    // Blocked by the first plan, not by a failed call.
    expect(s.decisions.filter((d: any) => d.stepId === 'infrastructure-alert.runbook').map((d: any) => d.kind)).toEqual(['step_blocked']);
    const firstPlan = s.decisions.findIndex((d: any) => d.kind === 'plan');
    expect(s.decisions.findIndex((d: any) => d.kind === 'step_blocked')).toBeGreaterThan(firstPlan);
    expect(s.decisions.findIndex((d: any) => d.kind === 'step_blocked')).toBeLessThan(s.decisions.findIndex((d: any) => d.kind === 'step_started'));
    expect(s.status).not.toBe('remediated');
  } finally {
    await own.close();
  }
});
