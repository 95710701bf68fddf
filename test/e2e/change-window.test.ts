import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SCENARIO_FACTS, eventually, http, startHarness, type Harness } from '../helpers/harness';

/** A policy whose only window opens a few seconds from now (UTC), so the hold is observable. */
function windowPolicy(opensInMs: number, dir = mkdtempSync(path.join(os.tmpdir(), 'drw-window-'))): string {
  const hhmmss = (d: Date) => d.toISOString().slice(11, 19);
  const start = new Date(Date.now() + opensInMs);
  const end = new Date(start.getTime() + 3_600_000);
  writeFileSync(
    path.join(dir, 'restart.yaml'),
    `id: restart
name: Restart a service in the change window
match: { categories: [infrastructure] }
changeWindow:
  windows: [{ start: "${hhmmss(start)}", end: "${hhmmss(end)}" }]
  emergencyOverride: { minRiskScore: 80 }
steps:
  - id: restart
    action: runbook.run
    disruptive: true
    params: { runbook: restart-service }
  - id: verify
    action: verify
    params: { checks: [host_released] }
    verify: { interval: 200ms, deadline: 10s }
`,
  );
  writeFileSync(path.join(dir, 'facts.yaml'), SCENARIO_FACTS);
  return dir;
}

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const alert = (asset: string, riskScore: number) => ({
  source: 'alertmanager',
  rule: 'ServiceDown',
  title: `service down on ${asset}`,
  severity: 'high',
  category: 'infrastructure',
  riskScore,
  asset: { id: asset, type: 'host' },
});

test('a disruptive step waits for the change window, then runs', async () => {
  // The window is set once drw runs, so a slow start on a loaded machine cannot eat it.
  const dir = windowPolicy(3_600_000);
  h = await startHarness({ policyDir: dir });
  windowPolicy(4000, dir);
  await new Promise((r) => setTimeout(r, 1200)); // the policy store re-reads changed files after 1 s
  const r = await http('POST', `${h.api}/v1/detections`, alert('cw-host-1', 40));
  const id = r.body.remediations[0].id;
  const held = await eventually(async () => {
    const s = (await http('GET', `${h.api}/v1/remediations/${id}`)).body;
    return s.status === 'waiting_window' ? s : undefined;
  }, 'waiting_window');
  expect(held.decisions.some((d: any) => /held until the change window opens/.test(d.summary))).toBe(true);
  expect(h.systems.record.runbooks).not.toContain('restart-service@cw-host-1');
  const done = await eventually(async () => {
    const s = (await http('GET', `${h.api}/v1/remediations/${id}`)).body;
    return s.status === 'remediated' ? s : undefined;
  }, 'remediated after the window opened', 20_000);
  expect(done.plan.steps.map((x: any) => x.status)).toEqual(['done', 'done']);
  expect(h.systems.record.runbooks).toContain('restart-service@cw-host-1');
});

test('above the emergency threshold the step runs at once, and the override is recorded', async () => {
  h = await startHarness({ policyDir: windowPolicy(3_600_000) });
  const r = await http('POST', `${h.api}/v1/detections`, alert('cw-host-2', 95));
  const id = r.body.remediations[0].id;
  let last: unknown;
  const done = await eventually(async () => {
    const s = (await http('GET', `${h.api}/v1/remediations/${id}`)).body;
    if (s.status !== 'remediated') last = s;
    return s.status === 'remediated' ? s : undefined;
  }, 'remediated').catch((e) => {
    throw new Error(`${e.message}; last state: ${JSON.stringify(last)}`);
  });
  expect(done.plan.steps[0].windowOverride).toMatch(/emergency override: risk score 95 ≥ 80/);
});
