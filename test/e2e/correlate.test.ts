/**
 * Sources own their findings, and policies/access.yaml's `correlate` lets a named source join
 * another's remediations, on the real server: a drw whose access policy says
 * `correlate: { alertmanager: [drw] }`, and a second API on the same workers with the shipped
 * policy (no correlation).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { normalize } from '../../ingest';
import { http, startHarness, type Harness } from '../helpers/harness';
import { detection, RUN, statusIs, waitFor } from '../helpers/scenario';
import { SAMPLES_DIR } from '../unit/ingest/samples';

let correlating: Harness;
let plain: Harness;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-correlate-'));
  writeFileSync(path.join(dir, 'access.yaml'), 'version: 1\ncorrelate:\n  alertmanager: [drw]\n');
  correlating = await startHarness({ env: { DRW_ACCESS_POLICY: path.join(dir, 'access.yaml') } });
  plain = await startHarness({ taskQueue: correlating.cfg.taskQueue, workers: false });
});
afterAll(async () => {
  await plain?.close();
  await correlating?.close();
});

/** An Alertmanager webhook whose one alert is this test's own (the sample is shared with other files). */
function alert(instance: string, status: 'firing' | 'resolved') {
  const payload = JSON.parse(readFileSync(path.join(SAMPLES_DIR, 'alertmanager', 'metalmatze-alertmanager-bot-firing.json'), 'utf8'));
  payload.status = status;
  payload.alerts[0].status = status;
  payload.alerts[0].labels = { ...payload.alerts[0].labels, instance };
  return payload;
}

/** drw's native detection of the same finding (its key named), as a person or script would send it. */
const nativeOf = (instance: string, dedupeKey: string, status: 'open' | 'resolved' = 'open') => ({
  ...detection({ source: 'prometheus', rule: 'Fire', severity: 'critical', category: 'infrastructure', asset: { id: instance }, status }),
  dedupeKey,
});

test("drw's native API repeats and resolves an Alertmanager remediation only where correlate lets drw join alertmanager", async () => {
  const instance = `correlate-am-${RUN}`;
  const opened = await http('POST', `${correlating.api}/v1/detections/alertmanager`, alert(instance, 'firing'));
  expect(opened.status).toBe(202);
  const id = opened.body.remediations[0].id;
  const s = await waitFor(correlating, id, (x) => x.plan?.version > 0, 'planned');

  // The API with the shipped policy: the native channel does not own it and correlates with nothing.
  for (const body of [nativeOf(instance, s.dedupeKey), nativeOf(instance, s.dedupeKey, 'resolved')]) {
    const r = await http('POST', `${plain.api}/v1/detections`, body);
    expect(r.body.remediations[0]).toEqual({ id, outcome: 'ignored', reason: expect.stringMatching(/opened by ingest:alertmanager; only ingest:alertmanager may add repeats to it or resolve it \(this came from api\); correlate.alertmanager in policies\/access.yaml/) });
  }
  expect((await waitFor(correlating, id, () => true, 'state')).findingCount).toBe(s.findingCount);

  // The API whose policy says alertmanager: [drw]: the repeat joins, the resolve closes it.
  const repeat = await http('POST', `${correlating.api}/v1/detections`, nativeOf(instance, s.dedupeKey));
  expect(repeat.body.remediations[0]).toEqual({ id, outcome: 'signalled' });
  await waitFor(correlating, id, (x) => x.findingCount === s.findingCount + 1, 'the native repeat counted');
  const resolve = await http('POST', `${correlating.api}/v1/detections`, nativeOf(instance, s.dedupeKey, 'resolved'));
  expect(resolve.body.remediations[0]).toEqual({ id, outcome: 'signalled' });
  const done = await waitFor(correlating, id, statusIs('resolved'), 'resolved at the source');
  expect(done.decisions.find((d: any) => d.kind === 'resolved_at_source')).toMatchObject({ by: 'api:prometheus' });
});

test('correlation is one direction: Alertmanager may not repeat or resolve a remediation drw\'s native API opened', async () => {
  const instance = `correlate-native-${RUN}`;
  // The key Alertmanager's payload will carry, so the native detection opens that remediation first.
  const [finding] = normalize('alertmanager', alert(instance, 'firing')).findings;
  const opened = await http('POST', `${correlating.api}/v1/detections`, nativeOf(instance, finding.dedupeKey!));
  expect(opened.body.remediations[0].outcome).toBe('started');
  const id = opened.body.remediations[0].id;
  const s = await waitFor(correlating, id, (x) => x.plan?.version > 0, 'planned');

  for (const status of ['firing', 'resolved'] as const) {
    const r = await http('POST', `${correlating.api}/v1/detections/alertmanager`, alert(instance, status));
    expect(r.status).toBe(202);
    expect(r.body.remediations[0]).toEqual({ id, outcome: 'ignored', reason: expect.stringMatching(/opened by api; only api may add repeats to it or resolve it \(this came from ingest:alertmanager\); correlate.drw in policies\/access.yaml/) });
  }
  const after = await waitFor(correlating, id, () => true, 'state');
  expect(after.findingCount).toBe(s.findingCount);
  expect(after.decisions.some((d: any) => d.kind === 'resolved_at_source')).toBe(false);
});
