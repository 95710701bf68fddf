/**
 * A disruptive step under a ServiceNow change record, through the real adapter and the embedded
 * ServiceNow simulator: drw opens the change, waits durably while the CAB decides in ServiceNow
 * (who approved is in the decision log), runs the step in Implement and closes the change with
 * the outcome; a rejection blocks the step, and a withdrawn step's change is canceled.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSystems } from '../../activities/registry';
import { startEmbeddedSimulators, type EmbeddedSimulators } from '../../simulators/embedded';
import { SCENARIO_FACTS, http, startHarness, type Harness } from '../helpers/harness';
import { asset, detection, operator, step, submit, waitFor } from '../helpers/scenario';
import { adapterSystems } from '../helpers/sims';

let dataDir: string;
let sims: EmbeddedSimulators;
let h: Harness;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-change-'));
  const policyDir = mkdtempSync(path.join(os.tmpdir(), 'drw-change-policy-'));
  writeFileSync(
    path.join(policyDir, 'restart.yaml'),
    `id: restart
name: Restart a service under a change record
match: { categories: [infrastructure] }
steps:
  - id: ticket
    action: ticket.open
  - id: restart
    action: runbook.run
    change: normal
    params: { runbook: restart-service }
`,
  );
  writeFileSync(path.join(policyDir, 'facts.yaml'), SCENARIO_FACTS);
  sims = await startEmbeddedSimulators(dataDir, {}, { autoMergeAfterMs: 0 });
  h = await startHarness({ policyDir, override: adapterSystems(buildSystems({ ...sims.env })) });
});

afterAll(async () => {
  await h?.close();
  await sims?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const alert = (host: string) => detection({ source: 'alertmanager', rule: 'ServiceDown', category: 'infrastructure', riskScore: 50, asset: { id: host } });
/** A CAB member decides in ServiceNow (the simulator's people route). */
const cab = (number: string, action: 'approve' | 'reject', as: string) => http('POST', `${sims.urls.servicenow}/_admin/changes/${number}/${action}`, { as });

test('the CAB approves in ServiceNow: drw runs the step in Implement, the change number is in its result, and the change is closed successful', async () => {
  const host = asset('chg-approve');
  const id = await submit(h, alert(host));
  const waiting = await waitFor(h, id, (x) => x.decisions.some((d: any) => d.kind === 'change' && d.event === 'opened'), 'change opened');
  expect(waiting.status).toBe('awaiting_approval');
  const number = waiting.decisions.find((d: any) => d.kind === 'change').number;
  expect(number).toMatch(/^CHG\d{7}$/);
  // Nothing runs before the CAB says so.
  expect(sims.simulators.awx!.jobs).toHaveLength(0);
  // A normal change: assessed, then authorized.
  expect((await cab(number, 'approve', 'Carla CAB')).status).toBe(200);
  expect((await cab(number, 'approve', 'Dan CAB')).status).toBe(200);
  const s = await waitFor(h, id, (x) => x.decisions.some((d: any) => d.kind === 'change' && d.event === 'closed'), 'change closed');
  expect(step(s, 'restart.restart')).toMatchObject({ status: 'done', result: expect.objectContaining({ change: number }) });
  expect(sims.simulators.awx!.jobs).toHaveLength(1);
  expect(s.decisions.filter((d: any) => d.kind === 'change').map((d: any) => d.event)).toEqual(['opened', 'approved', 'implementing', 'closed']);
  expect(s.decisions.find((d: any) => d.kind === 'change' && d.event === 'approved').people).toEqual(expect.arrayContaining(['Dan CAB']));
  const rec = [...sims.simulators.servicenow!.changes.values()].find((c) => c.values.number === number)!;
  expect(rec.values).toMatchObject({ state: '3', close_code: 'successful' });
});

test('the CAB rejects: the step is blocked with who rejected it and never runs; a false positive cancels a change still waiting', async () => {
  const host = asset('chg-reject');
  const id = await submit(h, alert(host));
  const opened = await waitFor(h, id, (x) => x.decisions.some((d: any) => d.kind === 'change' && d.event === 'opened'), 'change opened');
  const number = opened.decisions.find((d: any) => d.kind === 'change').number;
  expect((await cab(number, 'reject', 'Erin CAB')).status).toBe(200);
  const s = await waitFor(h, id, (x) => step(x, 'restart.restart').status === 'blocked', 'blocked by the rejection');
  expect(step(s, 'restart.restart').note).toMatch(new RegExp(`change ${number} was rejected by .*Erin CAB`));

  const other = asset('chg-withdrawn');
  const id2 = await submit(h, alert(other));
  const w = await waitFor(h, id2, (x) => x.decisions.some((d: any) => d.kind === 'change' && d.event === 'opened'), 'change opened');
  const number2 = w.decisions.find((d: any) => d.kind === 'change').number;
  expect((await operator(h, id2, 'false-positive')).status).toBe(202);
  const s2 = await waitFor(h, id2, (x) => x.decisions.some((d: any) => d.kind === 'change' && d.event === 'canceled'), 'change canceled');
  expect(s2.status).toBe('resolved');
  const rec = [...sims.simulators.servicenow!.changes.values()].find((c) => c.values.number === number2)!;
  expect(rec.values.state).toBe('4');
});
