/**
 * Messages sent straight to the workflow (a client that bypasses the API) with a missing or
 * malformed payload: each is recorded as rejected, no workflow task fails, and the
 * remediation carries on. Before the remediation core, a pause/resume/cancel/falsePositive
 * signal without a payload threw a TypeError and its workflow task retried forever.
 */
import { temporal } from '@temporalio/proto';
import { cancelSignal, falsePositiveSignal, findingAddedSignal, findingResolvedSignal, pauseSignal, policyUpdatedSignal, resumeSignal, riskScoreChangedSignal } from '../../signals';
import { DEFAULT_POLICY, startHarness, type Harness } from '../helpers/harness';
import { approve, asset, detection, statusIs, submit, waitFor } from '../helpers/scenario';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policyDir: DEFAULT_POLICY });
});
afterAll(async () => {
  await h?.close();
});

test('a client sends signals without or with malformed payloads: each is rejected, the remediation carries on', async () => {
  const host = asset('malformed-1');
  const id = await submit(h, detection({ source: 'crowdstrike', rule: 'Trojan.Bad', category: 'malware', riskScore: 60, asset: { id: host, environment: 'production' } }));
  await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  const handle = h.app.service.handle(id);
  const raw = (s: { name: string }, ...args: unknown[]) => handle.signal(s.name, ...args);
  await raw(pauseSignal);
  await raw(resumeSignal, null);
  await raw(cancelSignal, {});
  await raw(falsePositiveSignal, 'not an object');
  await raw(riskScoreChangedSignal, { riskScore: 'very high' });
  await raw(findingAddedSignal, { title: 'no source, no asset' });
  await raw(findingResolvedSignal, 42);
  await raw(policyUpdatedSignal, { version: '' });

  const s = await waitFor(h, id, (x) => x.decisions.filter((d: any) => d.kind === 'rejected').length === 7, 'seven rejections');
  expect(s.decisions.filter((d: any) => d.kind === 'rejected').map((d: any) => d.message)).toEqual(['pause', 'cancel', 'falsePositive', 'riskScoreChanged', 'findingAdded', 'findingResolved', 'policyUpdated']);
  // resume while not paused is nothing to do, not an error.
  expect(s).toMatchObject({ status: 'awaiting_approval', riskScore: 60, findingCount: 1 });

  expect((await approve(h, id, 'edr-malware.contain', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  await waitFor(h, id, statusIs('remediated'), 'remediated');
  const history = await handle.fetchHistory();
  const failedTasks = (history.events ?? []).filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
  expect(failedTasks).toEqual([]);
});
