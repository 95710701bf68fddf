/**
 * Thousands of riskScoreChanged and findingAdded signals on one remediation waiting for
 * approval, sent by 16 concurrent senders. With DRW_MAX_HISTORY_EVENTS set, the workflow must
 * continue as new whenever its history reaches the limit, so that no run's history grows with
 * the flood: no run may exceed twice the limit (a run can only end at a workflow task, so it
 * may overshoot by what arrived during its last one). And no signal may be lost: every
 * findingAdded is counted in findingCount, every signal is in exactly one run's history, and
 * the last risk score sent is the one the remediation ends with.
 *
 * FAULTS_FLOOD_FINDINGS / FAULTS_FLOOD_RISKS (2,000 each), FAULTS_FLOOD_MAX_HISTORY (500) tune it;
 * FAULTS_DUMP_HISTORY=/tmp/flood writes every run's event types.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { temporal } from '@temporalio/proto';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { findingAddedSignal, riskScoreChangedSignal } from '../../signals';
import { pool } from '../../bench/stats';
import { eventually, startHarness, type Harness } from '../helpers/harness';
import { report } from './helpers';

const RUN = randomUUID().slice(0, 6);
const FINDINGS = Number(process.env.FAULTS_FLOOD_FINDINGS ?? 2000);
const RISKS = Number(process.env.FAULTS_FLOOD_RISKS ?? 2000);
const LIMIT = Number(process.env.FAULTS_FLOOD_MAX_HISTORY ?? 500);
const SENDERS = 16;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ timeScale: 1, env: { DRW_MAX_HISTORY_EVENTS: String(LIMIT) } });
});

afterAll(async () => {
  await h?.close();
});

const detection = {
  source: 'faults',
  rule: 'Trojan.Flood',
  title: `Malware on flood-${RUN}`,
  severity: 'high' as const,
  category: 'malware',
  riskScore: 50,
  asset: { id: `flood-${RUN}`, type: 'host', environment: 'production' },
};

test(`${FINDINGS} findingAdded + ${RISKS} riskScoreChanged signals: history bounded by continue-as-new (DRW_MAX_HISTORY_EVENTS=${LIMIT}), no signal lost`, async () => {
  const { id } = await h.app.service.submit(detection, 'api:faults');
  const handle = h.app.service.handle(id);
  await eventually(async () => ((await h.app.service.state(id)).status === 'awaiting_approval' ? true : undefined), 'awaiting approval', 60_000);

  const t0 = Date.now();
  // Interleaved, SENDERS at a time; risk scores stay below 90 so the plan keeps waiting on approval.
  const sends: (() => Promise<void>)[] = [];
  for (let i = 0; i < Math.max(FINDINGS, RISKS); i++) {
    if (i < FINDINGS) sends.push(() => handle.signal(findingAddedSignal, { ...detection, observedAt: new Date().toISOString() }));
    if (i < RISKS) sends.push(() => handle.signal(riskScoreChangedSignal, { riskScore: 40 + ((i * 7) % 45) + 0.5, reason: `flood ${i}` }));
  }
  const total = sends.length;
  await pool(total, SENDERS, (i) => sends[i]());
  const sentMs = Date.now() - t0;
  // The last word, sent after every other signal was accepted.
  await handle.signal(riskScoreChangedSignal, { riskScore: 42.25, reason: 'the last word' });

  const final = await eventually(
    async () => {
      const v = await h.app.service.state(id);
      return v.findingCount === 1 + FINDINGS && v.riskScore === 42.25 ? v : undefined;
    },
    'every finding counted and the last risk score applied',
    5 * 60_000,
  );
  const settledMs = Date.now() - t0;

  // Every run of this remediation, and what its history holds.
  const runs: WorkflowExecutionInfo[] = [];
  await eventually(async () => {
    runs.length = 0;
    for await (const wf of handle.client.list({ query: `WorkflowId="${id}"` })) runs.push(wf);
    return runs.some((r) => r.status.name === 'RUNNING') ? true : undefined;
  }, 'the runs in visibility', 30_000);
  const signalled: Record<string, number> = {};
  const lengths: number[] = [];
  const failedTasks: Record<string, number> = {};
  let largest = { events: 0, signals: 0, searchAttributeUpserts: 0, workflowTasks: 0 };
  for (const r of runs) {
    const history = await handle.client.getHandle(id, r.runId).fetchHistory();
    lengths.push(history.events?.length ?? 0);
    const types = (history.events ?? []).map((e) => e.eventType);
    const n = (t: temporal.api.enums.v1.EventType) => types.filter((x) => x === t).length;
    if (types.length > largest.events) {
      largest = { events: types.length, signals: n(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), searchAttributeUpserts: n(temporal.api.enums.v1.EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES), workflowTasks: n(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) };
    }
    // FAULTS_DUMP_HISTORY=/tmp/flood writes each run's event types, for a closer look.
    if (process.env.FAULTS_DUMP_HISTORY) writeFileSync(`${process.env.FAULTS_DUMP_HISTORY}-${r.runId}.json`, JSON.stringify(types.map((t) => temporal.api.enums.v1.EventType[t ?? 0])));
    for (const e of history.events ?? []) {
      if (e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) {
        const name = e.workflowExecutionSignaledEventAttributes?.signalName ?? '?';
        signalled[name] = (signalled[name] ?? 0) + 1;
      }
      if (e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) {
        const cause = String(temporal.api.enums.v1.WorkflowTaskFailedCause[e.workflowTaskFailedEventAttributes?.cause ?? 0] ?? '?').replace('WORKFLOW_TASK_FAILED_CAUSE_', '');
        failedTasks[cause] = (failedTasks[cause] ?? 0) + 1;
      }
    }
  }
  const maxRun = Math.max(...lengths);
  report('signal-flood', {
    signalsSent: total + 1,
    sentSeconds: Math.round(sentMs / 100) / 10,
    settledSeconds: Math.round(settledMs / 100) / 10,
    runs: runs.length,
    maxHistoryEventsPerRun: maxRun,
    limit: LIMIT,
    historyLengths: lengths.join(','),
    largestRun: largest,
    signalsInHistory: signalled,
    workflowTasksFailed: failedTasks,
    findingCount: final.findingCount,
    riskScore: final.riskScore,
    status: final.status,
  });

  expect(runs.length).toBeGreaterThan(1);
  // Bounded: a run ends at the limit plus whatever arrived while its last workflow task ran.
  expect(maxRun).toBeLessThanOrEqual(2 * LIMIT);
  expect(signalled.findingAdded).toBe(FINDINGS);
  expect(signalled.riskScoreChanged).toBe(RISKS + 1);
  expect(final.findingCount).toBe(1 + FINDINGS);
  expect(final.status).toBe('awaiting_approval');
});
