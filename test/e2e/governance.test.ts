/**
 * Issue 11's attacks on approvals and targets, against the real server through drw's API: each
 * written as the attack, each now refused.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_POLICY, http, malwareDetection, startHarness, type Harness } from '../helpers/harness';
import { SAMPLES_DIR } from '../unit/ingest/samples';
import { statusIs, waitFor } from '../helpers/scenario';

let h: Harness;
const tag = Date.now().toString(36);

beforeAll(async () => {
  // The fake EDR knows the domain controller's device; every other host is its own device.
  h = await startHarness({ policyDir: DEFAULT_POLICY, inprocess: { devices: [{ deviceId: 'dev-dc-01', hostname: `dc-01-${tag}` }] } });
});
afterAll(() => h?.close());

test("a detection naming a domain controller's device for web-1: nothing is isolated, the step is blocked and says why", async () => {
  const asset = `web-1-${tag}`;
  // Risk 95: the playbook contains without approval; the attacker also names another machine's device.
  const r = await http('POST', `${h.api}/v1/detections`, { ...malwareDetection(asset, 95), details: { crowdstrikeDeviceId: 'dev-dc-01' } });
  expect(r.status).toBe(202);
  const id = r.body.remediations[0].id;
  const done = await waitFor(h, id, statusIs('escalated'), 'escalated: no verified device');
  const contain = done.plan.steps.find((s: any) => s.id === 'edr-malware.contain');
  expect(contain).toMatchObject({ status: 'blocked', note: expect.stringMatching(/no verified device/) });
  expect(contain.target).toBeUndefined();
  expect(done.decisions.find((d: any) => d.kind === 'enriched').summary).toMatch(/no verified device: .*dc-01/);
  expect(h.systems.record.isolateCalls).not.toContain(asset);
  expect(h.systems.record.isolateCalls).not.toContain(`dc-01-${tag}`);
});

test('the device the EDR confirmed is shown on the step the approver reviews, and is in its digest', async () => {
  const asset = `web-2-${tag}`;
  const r = await http('POST', `${h.api}/v1/detections`, malwareDetection(asset, 60));
  const id = r.body.remediations[0].id;
  const waiting = await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  const contain = waiting.plan.steps.find((s: any) => s.id === 'edr-malware.contain');
  expect(contain.target).toMatchObject({ kind: 'device', id: asset, name: asset, via: 'edr' });
  expect(contain.digest).toMatch(/^[0-9a-f]{64}$/);
  const ok = await http('POST', `${h.api}/v1/remediations/${id}/steps/edr-malware.contain/approve`, { approver: 'alice', groups: ['secops'], reason: 'confirmed', digest: contain.digest });
  expect(ok.status).toBe(200);
  await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(h.systems.record.isolateCalls.filter((a) => a === asset)).toHaveLength(1);
});

test("a native detection naming an Alertmanager remediation's key cannot add repeats to it or resolve it", async () => {
  const alert = readFileSync(path.join(SAMPLES_DIR, 'alertmanager', 'metalmatze-alertmanager-bot-firing.json'), 'utf8');
  // This file's own alert: the namespace (and the sample) are shared with the ingest scenarios.
  const payload = JSON.parse(alert);
  payload.alerts[0].labels = { ...payload.alerts[0].labels, instance: `gov-${tag}` };
  const opened = await http('POST', `${h.api}/v1/detections/alertmanager`, payload);
  expect(opened.status).toBe(202);
  const id = opened.body.remediations[0].id;
  const s = await waitFor(h, id, (x) => x.plan?.version > 0, 'planned');
  const forged = { source: 'alertmanager', rule: 'x', title: 'all clear', severity: 'low', category: 'infrastructure', asset: s.asset, dedupeKey: s.dedupeKey };
  for (const body of [{ ...forged, status: 'resolved' }, forged]) {
    const r = await http('POST', `${h.api}/v1/detections`, body);
    expect(r.status).toBe(202);
    expect(r.body.remediations[0]).toEqual({ id, outcome: 'ignored', reason: expect.stringMatching(/opened by ingest:alertmanager; only ingest:alertmanager may add repeats to it or resolve it \(this came from api\)/) });
  }
  const after = await waitFor(h, id, () => true, 'state');
  expect(after.findingCount).toBe(s.findingCount);
  expect(after.decisions.some((d: any) => d.kind === 'resolved_at_source')).toBe(false);
});
