/**
 * A cancellation requested through Temporal itself (the Web UI's "Request Cancellation",
 * `temporal workflow cancel`, a client's handle.cancel()) in any state: the workflow undoes what
 * it did, closes its ticket and ends as cancelled, without one failed workflow task.
 */
import { execFileSync } from 'node:child_process';
import { WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createInProcessSystems } from '../../activities/inprocess';
import type { Ticketing } from '../../activities/interfaces';
import { DEFAULT_POLICY, startHarness, type Harness } from '../helpers/harness';
import { approve, asset, detection, operator, step, submit, ticketsFor, waitFor } from '../helpers/scenario';

let h: Harness;
beforeAll(async () => {
  // Pull requests stay open for a minute: a critical vulnerability stays in verification, contained.
  h = await startHarness({ policyDir: DEFAULT_POLICY, inprocess: { autoMergeAfterMs: 60_000 } });
});
afterAll(async () => {
  await h?.close();
});

const malware = (host: string, riskScore: number) => detection({ source: 'crowdstrike', rule: 'Trojan.Cancel', category: 'malware', riskScore, asset: { id: host, environment: 'production' } });

async function closedAsCancelled(id: string) {
  const handle = h.app.service.handle(id);
  await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  expect((await handle.describe()).status.name).toBe('CANCELLED');
  const events = (await handle.fetchHistory()).events ?? [];
  const T = temporal.api.enums.v1.EventType;
  expect(events.filter((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toEqual([]);
  return handle.query('state') as Promise<any>;
}

test('temporal workflow cancel while awaiting approval: the ticket is closed as cancelled, nothing was contained', async () => {
  const host = asset('cancel-await');
  const id = await submit(h, malware(host, 60));
  await waitFor(h, id, (s) => s.status === 'awaiting_approval' && step(s, 'edr-malware.ticket').status === 'done', 'awaiting approval with a ticket');
  execFileSync(process.env.DRW_TEMPORAL_CLI!, ['workflow', 'cancel', '--address', process.env.TEMPORAL_ADDRESS!, '--namespace', 'default', '--workflow-id', id], { stdio: 'pipe' });
  const s = await closedAsCancelled(id);
  expect(s).toMatchObject({ status: 'cancelled', resolution: 'cancelled' });
  expect(s.decisions.filter((d: any) => d.kind === 'operator')).toEqual([expect.objectContaining({ action: 'cancel', by: 'temporal' })]);
  expect(ticketsFor(h.systems, host)).toEqual([expect.objectContaining({ status: 'closed:cancelled' })]);
  expect(h.systems.record.containments.get(host)).toBeUndefined();
});

test('a client cancels a remediation during its verification: the containment is released, then the ticket closed', async () => {
  const host = asset('cancel-contained');
  const id = await submit(
    h,
    detection({ source: 'trivy', rule: 'CVE-2024-3094', severity: 'critical', category: 'vulnerability', asset: { id: host, environment: 'production', internetFacing: true }, details: { repository: 'acme/edge', package: 'xz-utils', fixedVersion: '5.6.2' } }),
  );
  await waitFor(h, id, (s) => s.status === 'awaiting_approval', 'awaiting approval');
  expect((await approve(h, id, 'critical-vuln-internet-prod.contain', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  await waitFor(h, id, (s) => s.status === 'verifying', 'verifying (the pull request is not merged yet)');
  expect(h.systems.record.containments.get(host)).toBe('contained');
  await h.app.service.handle(id).cancel();
  const s = await closedAsCancelled(id);
  expect(step(s, 'critical-vuln-internet-prod.contain')).toMatchObject({ status: 'compensated', note: 'compensated by endpoint.release' });
  expect(h.systems.record.containments.get(host)).toBe('normal');
  expect(ticketsFor(h.systems, host)).toEqual([expect.objectContaining({ status: 'closed:cancelled' })]);
  const kinds = s.decisions.map((d: any) => d.kind);
  expect(kinds.indexOf('compensated')).toBeGreaterThan(kinds.indexOf('operator'));
  expect(s.decisions[s.decisions.length - 1]).toMatchObject({ kind: 'final', status: 'cancelled' });
});

test('a cancellation arriving while the last ticket close runs does not cut it short: the ticket is closed, no task fails', async () => {
  // Its own workers, with a ticketing system whose close takes a while (the window the cancel lands in).
  const systems = createInProcessSystems();
  let closing: (() => void) | undefined;
  const closeStarted = new Promise<void>((resolve) => (closing = resolve));
  const slow: Ticketing = {
    ...systems.ticketing,
    async closeTicket(input) {
      closing?.();
      await new Promise((r) => setTimeout(r, 1500));
      return systems.ticketing.closeTicket(input);
    },
  };
  const own = await startHarness({ policyDir: DEFAULT_POLICY, override: { ticketing: slow } });
  try {
    const host = asset('cancel-closing');
    const id = await submit(own, detection({ source: 'scanner', rule: 'Odd.Thing', category: 'triage-me', severity: 'low', asset: { id: host } }));
    await waitFor(own, id, (x) => x.status === 'awaiting_owner', 'waiting for the ticket owner');
    expect((await operator(own, id, 'false-positive')).status).toBe(202);
    await closeStarted;
    await own.app.service.handle(id).cancel();
    const handle = own.app.service.handle(id);
    await handle.result().catch(() => undefined);
    const events = (await handle.fetchHistory()).events ?? [];
    const T = temporal.api.enums.v1.EventType;
    expect(events.filter((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toEqual([]);
    expect(events.some((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)).toBe(true);
    expect(ticketsFor(systems, host)).toEqual([expect.objectContaining({ status: 'closed:false_positive' })]);
    const s = await handle.query('state') as any;
    expect(s.decisions.filter((d: any) => d.kind === 'ticket_update_failed')).toEqual([]);
    expect(s).toMatchObject({ status: 'resolved', resolution: 'false_positive' });
  } finally {
    await own.close();
  }
});
