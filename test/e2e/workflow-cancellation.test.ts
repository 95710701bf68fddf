/**
 * A cancellation requested through Temporal itself (the Web UI's "Request Cancellation",
 * `temporal workflow cancel`, a client's handle.cancel()) in any state: the workflow undoes what
 * it did, closes its ticket and ends as cancelled, without one failed workflow task.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createInProcessSystems } from '../../activities/inprocess';
import type { Ticketing } from '../../activities/interfaces';
import { DEFAULT_POLICY, SCENARIO_FACTS, startHarness, type Harness } from '../helpers/harness';
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

const closedAsCancelled = (id: string) => closedAsCancelledIn(h, id);

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

describe('while waiting for a change window, and while a step runs', () => {
  // A disruptive runbook step whose window opens in an hour (an emergency, risk ≥ 80, skips it), and a runbook that takes a while.
  let own: Harness;
  let runbookStarted: () => void = () => undefined;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-cancel-'));
    const at = (ms: number) => new Date(Date.now() + ms).toISOString().slice(11, 19);
    writeFileSync(
      path.join(dir, 'restart.yaml'),
      `id: restart
name: Restart a service in the change window
match: { categories: [infrastructure] }
changeWindow:
  windows: [{ start: "${at(3_600_000)}", end: "${at(7_200_000)}" }]
  emergencyOverride: { minRiskScore: 80 }
steps:
  - id: ticket
    action: ticket.open
  - id: restart
    action: runbook.run
    disruptive: true
    params: { runbook: restart-service }
`,
    );
    writeFileSync(path.join(dir, 'facts.yaml'), SCENARIO_FACTS);
    const systems = createInProcessSystems();
    own = await startHarness({
      policyDir: dir,
      override: {
        ...systems,
        runbook: {
          async runRunbook(input) {
            runbookStarted();
            await new Promise((r) => setTimeout(r, 3000));
            return systems.runbook.runRunbook(input);
          },
        },
      },
    });
    own.systems = systems;
  });
  afterAll(() => own?.close());

  const alert = (host: string, riskScore: number) => detection({ source: 'alertmanager', rule: 'ServiceDown', category: 'infrastructure', riskScore, asset: { id: host } });

  test('temporal workflow cancel while a disruptive step waits for its window: cancelled, the ticket closed, nothing ran', async () => {
    const host = asset('cancel-window');
    const id = await submit(own, alert(host, 40));
    await waitFor(own, id, (s) => s.status === 'waiting_window', 'waiting for the change window');
    execFileSync(process.env.DRW_TEMPORAL_CLI!, ['workflow', 'cancel', '--address', process.env.TEMPORAL_ADDRESS!, '--namespace', 'default', '--workflow-id', id], { stdio: 'pipe' });
    const s = await closedAsCancelledIn(own, id);
    expect(s).toMatchObject({ status: 'cancelled', resolution: 'cancelled' });
    expect(ticketsFor(own.systems, host)).toEqual([expect.objectContaining({ status: 'closed:cancelled' })]);
    expect(own.systems.record.runbooks).toEqual([]);
  });

  test('a client cancels while the runbook step runs: cancelled, the step never counts as done, the ticket closed', async () => {
    const host = asset('cancel-running');
    const started = new Promise<void>((resolve) => (runbookStarted = resolve));
    const id = await submit(own, alert(host, 90));
    await started;
    await own.app.service.handle(id).cancel();
    const s = await closedAsCancelledIn(own, id);
    expect(s).toMatchObject({ status: 'cancelled', resolution: 'cancelled' });
    expect(step(s, 'restart.restart').status).not.toBe('done');
    expect(ticketsFor(own.systems, host)).toEqual([expect.objectContaining({ status: 'closed:cancelled' })]);
  });
});

async function closedAsCancelledIn(harness: Harness, id: string) {
  const handle = harness.app.service.handle(id);
  await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  expect((await handle.describe()).status.name).toBe('CANCELLED');
  const T = temporal.api.enums.v1.EventType;
  expect(((await handle.fetchHistory()).events ?? []).filter((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toEqual([]);
  return handle.query('state') as Promise<any>;
}
