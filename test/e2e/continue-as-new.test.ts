/**
 * Continue-as-new under a flood of messages: with DRW_MAX_HISTORY_EVENTS=100 a remediation
 * that receives a few hundred findingAdded / riskScoreChanged signals continues as new
 * several times; every signal is counted, and the state (findings, approvals towards a
 * quorum, plan version, decision log) carries over into the new runs.
 */
import { findingAddedSignal, riskScoreChangedSignal } from '../../signals';
import { startHarness, TEST_POLICY, type Harness } from '../helpers/harness';
import { HistoryKeeper, eventTypes } from '../helpers/histories';
import { approve, asset, detection, statusIs, step, submit, ticketsFor, waitFor } from '../helpers/scenario';

let h: Harness;
const keeper = new HistoryKeeper();

beforeAll(async () => {
  h = await startHarness({ policyDir: TEST_POLICY, timeScale: 1, env: { DRW_MAX_HISTORY_EVENTS: '100' } });
});
afterAll(async () => {
  await h?.close();
});

const FINDINGS = 240;
const RISK_CHANGES = 20;
const PER_BURST = FINDINGS / RISK_CHANGES;
if (!Number.isInteger(PER_BURST)) throw new Error('FINDINGS must be a multiple of RISK_CHANGES');

test('a flood of signals continues the workflow as new; no signal is lost and the state is preserved', async () => {
  const host = asset('can-1');
  const det = detection({ source: 'flood-src', rule: 'FLOOD-1', category: 'quorum-test', riskScore: 10, asset: { id: host } });
  const id = await submit(h, det);
  const handle = h.app.service.handle(id);
  const firstRunId = (await handle.describe()).runId;

  await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  // One of the two approvals the quorum needs, before the flood.
  expect((await approve(h, id, 'quorum.contain', { approver: 'alice', groups: ['secops'], reason: 'first of two' })).status).toBe(200);
  const before = await waitFor(h, id, (s) => step(s, 'quorum.contain').approval.approvedBy.length === 1, 'one approval');
  const planVersion = before.plan.version;
  const decisionsBefore = before.decisions.map((d: any) => d.summary);

  // Findings in parallel bursts, risk changes one at a time in between (so the last one is known).
  const repeat = { ...det, riskScore: undefined, severity: 'high' as const };
  let risk = 10;
  for (let burst = 0; burst < RISK_CHANGES; burst++) {
    await Promise.all(Array.from({ length: PER_BURST }, () => handle.signal(findingAddedSignal, repeat)));
    risk = 11 + burst;
    await handle.signal(riskScoreChangedSignal, { riskScore: risk, reason: `burst ${burst}`, by: 'flood' });
  }

  await waitFor(h, id, (s) => s.findingCount === FINDINGS + 1 && s.riskScore === risk, `${FINDINGS + 1} findings and risk ${risk}`, 45_000);
  // The full view (decisionsDropped included), by a query through the app's Temporal client.
  const after: any = await h.app.service.state(id);
  expect(after.findingCount).toBe(FINDINGS + 1);

  // It continued as new (more than once), and the queries follow the latest run.
  const desc = await handle.describe();
  expect(desc.runId).not.toBe(firstRunId);
  const continued = after.decisions.filter((d: any) => /^continuing as new after \d+ history events \(run \d+\)$/.test(d.summary));
  expect(continued.length).toBeGreaterThanOrEqual(2);

  // State carried over: findings, the approval towards the quorum, the plan, the decision log.
  expect(after.status).toBe('awaiting_approval');
  expect(after.plan.version).toBe(planVersion);
  expect(step(after, 'quorum.contain').approval.approvedBy).toEqual(['alice']);
  expect(after.approvals.map((a: any) => a.approver)).toEqual(['alice']);
  expect(after.decisions.slice(0, decisionsBefore.length).map((d: any) => d.summary)).toEqual(decisionsBefore);
  expect(after.decisionsDropped).toBe(0);
  expect(after.decisions.map((d: any) => d.seq)).toEqual(after.decisions.map((_: any, i: number) => i + 1));
  expect(after.decisions.filter((d: any) => d.kind === 'risk_changed' && /^burst \d+$/.test(d.reason))).toHaveLength(RISK_CHANGES);
  expect(ticketsFor(h.systems, host)).toHaveLength(1);

  // The second approver completes the quorum begun two runs ago.
  expect((await approve(h, id, 'quorum.contain', { approver: 'bob', groups: ['secops'], reason: 'second of two' })).status).toBe(200);
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated', 30_000);
  expect(done.approvals.map((a: any) => a.approver)).toEqual(['alice', 'bob']);
  expect(h.systems.record.isolateCalls.filter((a) => a === host)).toHaveLength(1);
  expect(done.findingCount).toBe(FINDINGS + 1);
  const tickets = ticketsFor(h.systems, host);
  expect(tickets).toHaveLength(1);
  expect(tickets[0].status).toBe('closed:remediated');
  // Repeats were coalesced into a few ticket updates, the last one with the full count.
  const repeatComments = tickets[0].comments.filter((c) => /more detection\(s\) of this finding/.test(c));
  expect(repeatComments.length).toBeGreaterThan(0);
  expect(repeatComments.length).toBeLessThan(FINDINGS / 2);

  keeper.keep('continue-as-new-first-run', id, firstRunId);
  keeper.keep('continue-as-new-last-run', id);
  const { failures, histories } = await keeper.check(h);
  expect(failures).toEqual([]);
  const [firstRun, lastRun] = histories.map((x) => eventTypes(x.history));
  expect(firstRun[firstRun.length - 1]).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  expect(lastRun[lastRun.length - 1]).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
});
