/**
 * Thousands of repeats of a detection (POST /v1/detections → findingAdded) and risk changes
 * (POST /v1/remediations/{id}/risk → riskScoreChanged) on one remediation waiting for approval,
 * sent through the API by 16 concurrent senders, the worker in a process of its own. With
 * DRW_MAX_HISTORY_EVENTS set, the workflow must continue as new whenever its history reaches
 * the limit, so that no run's history grows with the flood: no run may exceed twice the limit
 * (a run can only end at a workflow task, so it may overshoot by what arrived during its last
 * one). And no signal may be lost: every findingAdded is counted in findingCount, every signal
 * is in exactly one run's history, and the last risk score sent is the one the remediation ends with.
 *
 * FAULTS_FLOOD_FINDINGS / FAULTS_FLOOD_RISKS (1,000 each), FAULTS_FLOOD_SENDERS (16), FAULTS_FLOOD_MAX_HISTORY (500) tune it;
 * FAULTS_DUMP_HISTORY=/tmp/flood writes every run's event types.
 */
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { Client, Connection, WorkflowExecutionInfo } from '@temporalio/client';
import { createApi, listen } from '../../api/server';
import { apiRoutes } from '../../api/routes';
import { loadConfig } from '../../common/config';
import type { FastifyInstance } from 'fastify';
import { RemediationService } from '../../api/service';
import { testLogger } from '../helpers/test-logger';
import { pool } from '../../bench/stats';
import { connect, eventually, report, serviceAndWorker, tmpDir, WorkerProcess } from './helpers';
import { DEFAULT_POLICY } from '../helpers/harness';

const RUN = randomUUID().slice(0, 6);
const FINDINGS = Number(process.env.FAULTS_FLOOD_FINDINGS ?? 1000);
const RISKS = Number(process.env.FAULTS_FLOOD_RISKS ?? 1000);
const LIMIT = Number(process.env.FAULTS_FLOOD_MAX_HISTORY ?? 500);
const SENDERS = Number(process.env.FAULTS_FLOOD_SENDERS ?? 16);

let dir: string;
let worker: WorkerProcess;
let client: Client;
let connection: Connection;
let service: RemediationService;
let server: FastifyInstance;
let api: string;

// The worker runs in its own process, as in production: senders in the same event loop as the
// worker would delay its polls, which is not what a flood from outside does.
beforeAll(async () => {
  dir = tmpDir('flood');
  ({ client, connection } = await connect());
  ({ service, worker } = serviceAndWorker(client, { queue: `faults-flood-${RUN}`, policyDir: DEFAULT_POLICY, logFile: path.join(dir, 'worker.log'), env: { DRW_MAX_HISTORY_EVENTS: String(LIMIT) }, workerEnv: { DRW_ALLOW_INPROCESS: '1', DRW_INPROCESS_CAB_APPROVER: 'CAB Manager' } }));
  await worker.start();
  const logger = testLogger();
  // The flood is the point: no rate limit in front of it.
  const settings = { ...loadConfig({}).api, rateLimit: { max: 0, windowMs: 1 } };
  server = await createApi({ logger, ready: () => true, host: '127.0.0.1', settings, routes: apiRoutes({ service, client, logger, users: false }) });
  api = await listen(server, '127.0.0.1', 0);
});

afterAll(async () => {
  await server?.close();
  await worker?.stop();
  await connection?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
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
  const { id } = await service.submit(detection, 'api:faults');
  const handle = service.handle(id);
  await eventually('awaiting approval', 60_000, async () => ((await service.state(id)).status === 'awaiting_approval' ? true : undefined));

  const t0 = Date.now();
  // Interleaved, SENDERS at a time, through the API as pipelines send them: repeats of the
  // detection (→ findingAdded) and risk changes; risk stays below 90 so approval is still awaited.
  const post = async (p: string, body: unknown, want: number) => {
    const r = await fetch(`${api}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status !== want) throw new Error(`POST ${p} → ${r.status}: ${await r.text()}`);
  };
  const sends: (() => Promise<void>)[] = [];
  for (let i = 0; i < Math.max(FINDINGS, RISKS); i++) {
    if (i < FINDINGS) sends.push(() => post('/v1/detections', { ...detection, observedAt: new Date().toISOString() }, 202));
    if (i < RISKS) sends.push(() => post(`/v1/remediations/${id}/risk`, { riskScore: 40 + ((i * 7) % 45) + 0.5, reason: `flood ${i}` }, 202));
  }
  const total = sends.length;
  await pool(total, SENDERS, (i) => sends[i]());
  const sentMs = Date.now() - t0;
  // The last word, sent after every other signal was accepted.
  await post(`/v1/remediations/${id}/risk`, { riskScore: 42.25, reason: 'the last word' }, 202);

  const final = await eventually('every finding counted and the last risk score applied', 5 * 60_000, async () => {
    const v = await service.state(id);
    return v.findingCount === 1 + FINDINGS && v.riskScore === 42.25 ? v : undefined;
  });
  const settledMs = Date.now() - t0;

  // Every run of this remediation, and what its history holds.
  const runs: WorkflowExecutionInfo[] = [];
  await eventually('the runs in visibility', 30_000, async () => {
    runs.length = 0;
    for await (const wf of handle.client.list({ query: `WorkflowId="${id}"` })) runs.push(wf);
    return runs.some((r) => r.status.name === 'RUNNING') ? true : undefined;
  });
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
