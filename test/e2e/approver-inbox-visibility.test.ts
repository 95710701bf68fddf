/**
 * The inbox's list comes from Temporal visibility alone: a run awaiting secops's approval is found
 * by DrwApprovers for a secops approver (with its step, digest and since from the run's memo) and
 * not for someone outside the step's rule, and it leaves the list once decided.
 */
import type { Connection } from '@temporalio/client';
import { serviceBackend, type UiBackend } from '../../api/ui/backend';
import { connectClient } from '../../common/temporal';
import { DEFAULT_POLICY, eventually, malwareDetection, startHarness, type Harness } from '../helpers/harness';
import { approve, asset, step, submit, waitFor } from '../helpers/scenario';

const CONTAIN = 'edr-malware.contain';
let h: Harness;
let connection: Connection;
let backend: UiBackend;

beforeAll(async () => {
  h = await startHarness({ policyDir: DEFAULT_POLICY });
  const c = await connectClient(h.cfg);
  connection = c.connection;
  backend = serviceBackend(h.app.service, c.client, h.cfg.taskQueue);
});

afterAll(async () => {
  await connection?.close();
  await h?.close();
});

test('a secops approver finds the waiting step in visibility without a query; an approver of another group does not; once approved it is gone', async () => {
  const id = await submit(h, malwareDetection(asset('inbox-visibility'), 50));
  const s = await waitFor(h, id, (x) => step(x, CONTAIN).status === 'awaiting_approval', 'contain awaits approval');
  const listed = await eventually(async () => (await backend.pending(100, ['group:secops', 'user:sam'])).find((p) => p.id === id && p.listed?.awaiting.steps.length), 'the run listed for secops');
  expect(listed.listed!.awaiting.steps).toEqual([expect.objectContaining({ id: CONTAIN, digest: step(s, CONTAIN).digest, approval: expect.objectContaining({ groups: ['secops'] }), since: expect.stringMatching(/^\d{4}-/) })]);
  expect(listed.listed!.attributes).toMatchObject({ severity: 'high', riskScore: 50 });
  expect((await backend.pending(100, ['group:cloud-owners', 'user:carol'])).map((p) => p.id)).not.toContain(id);
  // An inbox page asks for the oldest few by time and gets the count of all.
  const page = await backend.oldestPending!(['group:secops'], 1);
  expect(page.total).toBeGreaterThanOrEqual(1);
  expect(page.items.length).toBeLessThanOrEqual(page.total);

  expect((await approve(h, id, CONTAIN, { approver: 'sam', groups: ['secops'], reason: 'ok', digest: step(s, CONTAIN).digest })).status).toBe(200);
  await eventually(async () => ((await backend.pending(100, ['group:secops'])).some((p) => p.id === id) ? undefined : true), 'the run gone from the secops list');
});
