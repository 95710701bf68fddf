/**
 * `npm run bench`: drw's performance figures, each against a baseline measured in the same
 * run on the same Temporal server where there is a natural one.
 *
 *   (a) remediations completed per second, end to end through the HTTP API with the
 *       in-process (instant) systems, vs bench/baseline-workflow.ts making the same number of
 *       activity calls (ratio drw / baseline; target ≥ 0.7);
 *   (b) signal → re-plan latency: POST /risk sent until the new plan version is visible
 *       through the `plan` query (p50, p99; target p99 < 200 ms);
 *   (c) ingest of a burst of detections with 30% repeats: detections per second, exactly one
 *       workflow per deduplication key, none lost (sum of findingCount = detections sent);
 *   (d) resident memory of a workflow-only worker (`node dist/workers/main.js`,
 *       DRW_MAX_CACHED_WORKFLOWS set) with 1,000 and then 10,000 remediations open and
 *       waiting on approval: bounded by the workflow cache, not growing with the count;
 *   (e) planner time per plan for a generated policy of 50 playbooks vs a JSON round trip of
 *       the same planner state (no server);
 *   (f) replay throughput (Worker.runReplayHistories) over histories recorded in this run,
 *       drw's remediations vs the baseline workflow's;
 *   (g) scale-out (bench/cluster.ts): (a)'s loop with the API, the integration workers and one
 *       or two workflow workers as separate processes, on the dev server and on
 *       deploy/local-cluster (Temporal on PostgreSQL), with the CPU each process used.
 *
 * It starts what it needs: its own Temporal dev server (the CLI `./temporal-dev.sh path`
 * resolves, free ports, a temporary data directory), drw's workers and API in this process,
 * the baseline worker, and for (d) a separate worker process. Progress goes to stderr; the
 * table to stdout, bench/results.json and bench/RESULTS.md.
 *
 * Environment:
 *   BENCH_SCALE=0.1           shrinks every count (default 1: 400×2 remediations, 5,000
 *                             detections, 1,000/10,000 open remediations, ...)
 *   BENCH_CONCURRENCY=50      requests in flight for (a) and (c)
 *   BENCH_MAX_CACHED_WORKFLOWS  the (d) worker's cache (default max(50, 250 × scale))
 *   MALLOC_ARENA_MAX=2        the (d) worker's glibc arenas (as deploy/Dockerfile sets them; 16 is glibc's default on 2 cores)
 *   BENCH_SKIP=d,f,g          skip phases
 *   BENCH_SERVER=stock        the dev server with the CLI's defaults instead of temporal-dev.sh's dynamic config and SQLite pragmas
 *   BENCH_SAVE_HISTORIES=dir  write the histories (f) replays there (drw.json, baseline.json) for bench/replay-profile.ts
 *   BENCH_OUT=bench           where results.json and RESULTS.md go (relative to the repository)
 *   BENCH_RENDER=bench/results.json  no run: RESULTS.md and the table again from recorded measurements
 *   BENCH_LOG_LEVEL=warn      drw/SDK log level (on stderr)
 *   DRW_PAYLOAD_COMPRESSION=off  drw without payload compression (to measure what it costs and saves)
 *   DRW_EAGER_START=off       drw's API starts remediations through the server's queue instead of eagerly
 *   BENCH_BASELINE_EAGER=1    the baseline starts eagerly too
 *   BENCH_BASELINE_WRITES=1   the baseline also makes as many search-attribute upserts and memo writes
 *                             as a remediation (what drw's visibility writes cost; the target is
 *                             against the bare baseline, so (a) is then reported without a verdict)
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type ReplayResult } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { DataConverter } from '@temporalio/common';
import { dataConverterOf, replayDataConverterOf } from '../common/temporal';
import { loadConfig, type DrwConfig } from '../common/config';
import { createLogger, installSdkLogger, type Logger } from '../common/logger';
import { createInProcessSystems } from '../activities/inprocess';
import { createActivities } from '../activities';
import { PolicyStore } from '../activities/policy-store';
import { startApp, type App } from '../cli/app';
import { createWorkers } from '../workers';
import { bundleDrwWorkflows } from '../workers/workflow-bundle';
import { cpuMeter, type CpuUse } from './cpu';
import type { MemoryMap } from './memory-map';
import { RemediationService } from '../api/service';
import { loadPolicyDir } from '../planner/load';
import { buildPlan } from '../planner/plan';
import type { PlannerState } from '../planner/types';
import type { Detection } from '../domain/detection';
import { planQuery, stateQuery } from '../signals';
import { ACTIVITY_KINDS } from '../workflows/input';
import { REPO, drwDynamicConfig, drwSqlitePragmas, startDevServer, temporalCli, type DevServer } from './devserver';
import { benchPolicyDir } from './policy-dir';
import { createBaselineActivities } from './baseline-activities';
import { activityCalls, historyBytes, meanVisibilityWrites, type History, type VisibilityWrites } from './history-counts';
import { baselineAwaitingWorkflow, baselineBumpSignal, baselineVersionQuery, type BaselineWrites } from './baseline-workflow';
import { benchDetection, benchPlannerState, generatePlaybooks, playbookFiles } from './planner-policy';
import { burstPlan, pool, ratio, round, summarize, type Summary } from './stats';
import { fmt, machineLine, markdown, textTable, type FigureRow, type Machine } from './report';
import { pollUntil } from '../common/poll';
import { CLUSTER_NOTE, clusterDetails, clusterPhase, clusterRows, type ClusterResult } from './cluster';

/** drw's configuration is the bench's own, but for payload compression and eager start, which can be turned off to compare. */
function drwSettings(): { DRW_PAYLOAD_COMPRESSION?: string; DRW_EAGER_START?: string } {
  const { DRW_PAYLOAD_COMPRESSION, DRW_EAGER_START } = process.env;
  return { ...(DRW_PAYLOAD_COMPRESSION ? { DRW_PAYLOAD_COMPRESSION } : {}), ...(DRW_EAGER_START ? { DRW_EAGER_START } : {}) };
}
/** BENCH_BASELINE_EAGER=1: the baseline starts eagerly too (on its worker's connection), to compare like with like. */
const BASELINE_EAGER = process.env.BENCH_BASELINE_EAGER === '1';
/** BENCH_BASELINE_WRITES=1: the baseline makes a remediation's visibility writes too (bench/baseline-workflow.ts BaselineWrites). */
const BASELINE_WRITES = process.env.BENCH_BASELINE_WRITES === '1';
type Bundle = { code: string };

const T0 = performance.now();
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean));
const OUT = path.resolve(REPO, process.env.BENCH_OUT ?? 'bench');
const RUN = randomUUID().slice(0, 6);
const DIST = path.resolve(__dirname, '..');

const scaled = (n: number, min: number) => Math.max(min, Math.round(n * SCALE));
const COUNTS = {
  throughput: scaled(400, 20),
  throughputRounds: 2,
  warmup: Math.max(5, Math.min(20, scaled(20, 5))),
  latencySamples: scaled(300, 30),
  latencyRemediations: 10,
  ingest: scaled(5000, 50),
  memory: [scaled(1000, 20), scaled(10000, 200)],
  cache: Number(process.env.BENCH_MAX_CACHED_WORKFLOWS ?? Math.max(50, Math.round(250 * SCALE))),
  replayMax: scaled(400, 20),
  playbooks: 50,
};
/** How long (c) waits for every remediation of the burst to count its detections: longer for a larger backlog. */
const CONSISTENCY_DEADLINE_MS = Math.max(120_000, COUNTS.ingest * 60);

function progress(msg: string): void {
  process.stderr.write(`[bench +${((performance.now() - T0) / 1000).toFixed(1)}s] ${msg}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => ms / 1000;

function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, everyMs = 250): Promise<T> {
  return pollUntil(check, { what, timeoutMs, everyMs });
}

async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: res.status, body: parsed };
}

/**
 * Where the dev server's SQLite goes: BENCH_DATA_DIR, else a RAM-backed /dev/shm when there is
 * one (so the figures measure Temporal and drw rather than this disk's fsync), else the temp dir.
 */
function benchDataRoot(): string {
  if (process.env.BENCH_DATA_DIR) {
    mkdirSync(process.env.BENCH_DATA_DIR, { recursive: true });
    return process.env.BENCH_DATA_DIR;
  }
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

function machine(cli: string): Machine {
  let version: string | undefined;
  try {
    version = execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    version = undefined;
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    temporalCli: version,
    loadAverage: { start: os.loadavg() },
  };
}

// ---------------------------------------------------------------- (e) planner

interface PlannerResult {
  playbooks: number;
  iterations: number;
  planUs: Summary;
  plansPerSecond: number;
  jsonRoundTripUs: Summary;
  ratio: number | null;
  defaultPolicyPlanUs: number;
  stateBytes: number;
  selected: string;
}

function timeLoop(fn: (i: number) => void, minMs: number, minIterations: number): number[] {
  const samples: number[] = [];
  const end = performance.now() + minMs;
  for (let i = 0; i < 200; i++) fn(i); // warm-up (JIT)
  for (let i = 0; samples.length < minIterations || performance.now() < end; i++) {
    const t = process.hrtime.bigint();
    fn(i);
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return samples;
}

function plannerPhase(): PlannerResult {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-bench-policy-'));
  try {
    for (const [name, text] of Object.entries(playbookFiles(generatePlaybooks(COUNTS.playbooks)))) writeFileSync(path.join(dir, name), text);
    const policy = loadPolicyDir(dir);
    const base = benchPlannerState(benchDetection(COUNTS.playbooks));
    const first = buildPlan(policy, base).plan;
    // A plan in progress: ticket and notification done, containment awaiting approval.
    for (const st of first.steps) if (st.action === 'ticket.open' || st.action === 'notify') st.status = 'done';
    const states: PlannerState[] = [70, 71].map((risk) => ({ ...base, facts: { ...base.facts, riskScore: risk }, previous: first }));
    const selected = buildPlan(policy, states[0]).plan.playbook;
    const minMs = Math.max(500, 3000 * Math.min(SCALE, 1));
    const planUs = timeLoop((i) => buildPlan(policy, states[i & 1]), minMs, 1000);
    const jsonUs = timeLoop((i) => JSON.parse(JSON.stringify(states[i & 1])), minMs, 1000);
    const defaults = loadPolicyDir(path.join(REPO, 'policies', 'default'));
    const dState = { ...states[0], previous: undefined };
    const defaultUs = summarize(timeLoop(() => buildPlan(defaults, dState), 300, 300)).p50;
    const p = summarize(planUs);
    const j = summarize(jsonUs);
    return {
      playbooks: policy.playbooks.length,
      iterations: planUs.length,
      planUs: p,
      // Medians: on a shared machine a preempted call skews the mean, not the median.
      plansPerSecond: 1e6 / p.p50,
      jsonRoundTripUs: j,
      ratio: ratio(p.p50, j.p50),
      defaultPolicyPlanUs: defaultUs,
      stateBytes: Buffer.byteLength(JSON.stringify(states[0])),
      selected,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- server-side context

interface Ctx {
  server: DevServer;
  cfg: DrwConfig;
  logger: Logger;
  app: App;
  client: Client;
  connection: Connection;
  workerConnection: NativeConnection;
  /** A client on the baseline worker's connection (BENCH_BASELINE_EAGER). */
  baselineStarter: Client;
  drwBundle: Bundle;
  baselineBundle: Bundle;
  baselineQueue: string;
  baselineWorker: Worker;
  baselineRun: Promise<void>;
}

const malware = (asset: string, riskScore: number, source = 'bench'): Detection => ({
  source,
  rule: 'Trojan.Bench',
  title: `Malware on ${asset}`,
  severity: 'high',
  category: 'malware',
  riskScore,
  asset: { id: asset, type: 'host', environment: 'production' },
});

// ---------------------------------------------------------------- (a) throughput

interface BatchResult {
  kind: 'drw' | 'baseline';
  n: number;
  ms: number;
  perSecond: number;
  failures: number;
  latencyMs: Summary;
  ids: string[];
  /** CPU per workflow: the Temporal server's, and this process's threads' (drw's API and workers, or the baseline's worker). */
  cpu?: CpuUse;
}

/** Set once the server is up: whose CPU the batches count as the server's. */
let serverPid: number | undefined;

/**
 * Runs `one` n times, CONCURRENCY at a time, timing each end to end. `one` answers the workflow's
 * id (none when it could not even be started: a failure without a latency) and whether it ended
 * as it should.
 */
async function timedBatch(kind: BatchResult['kind'], n: number, one: (i: number) => Promise<{ id?: string; ok: boolean }>): Promise<BatchResult> {
  const lat: number[] = [];
  let failures = 0;
  const ids: string[] = [];
  const used = cpuMeter(serverPid)();
  const t0 = performance.now();
  await pool(n, CONCURRENCY, async (i) => {
    const s = performance.now();
    const r = await one(i);
    if (r.id === undefined) {
      failures++;
      return;
    }
    ids.push(r.id);
    if (!r.ok) failures++;
    lat.push(performance.now() - s);
  });
  const ms = performance.now() - t0;
  return { kind, n, ms, perSecond: n / seconds(ms), failures, latencyMs: summarize(lat), ids, cpu: used(n) };
}

function drwBatch(ctx: Ctx, tag: string, n: number): Promise<BatchResult> {
  return timedBatch('drw', n, async (i) => {
    const r = await postJson(`${ctx.app.apiUrl}/v1/detections`, malware(`tp-${RUN}-${tag}-${i}`, 95));
    if (r.status !== 202 || r.body?.remediations?.[0]?.outcome !== 'started') return { ok: false };
    const id: string = r.body.remediations[0].id;
    const v = (await ctx.client.workflow.getHandle(id).result()) as { status?: string };
    return { id, ok: v?.status === 'remediated' };
  });
}

function baselineBatch(ctx: Ctx, tag: string, n: number, calls: number, writes?: BaselineWrites): Promise<BatchResult> {
  const args: [number, BaselineWrites?] = writes ? [calls, writes] : [calls];
  return timedBatch('baseline', n, async (i) => {
    const workflowId = `bench-baseline-${RUN}-${tag}-${i}`;
    const h = BASELINE_EAGER
      ? await ctx.baselineStarter.workflow.start('baselineWorkflow', { taskQueue: ctx.baselineQueue, workflowId, args, requestEagerStart: true })
      : await ctx.client.workflow.start('baselineWorkflow', { taskQueue: ctx.baselineQueue, workflowId, args });
    return { id: workflowId, ok: (await h.result()) === calls };
  });
}

async function fetchHistories(ctx: Ctx, ids: string[]): Promise<{ workflowId: string; history: History }[]> {
  return pool(ids.length, 16, async (i) => ({ workflowId: ids[i], history: await ctx.client.workflow.getHandle(ids[i]).fetchHistory() }));
}

interface ThroughputResult {
  activityCallsPerRemediation: number;
  historyEventsPerRemediation: number;
  historyEventsPerBaseline: number;
  /** Encoded size of a whole history (what the server stores and a replay decodes). */
  historyBytesPerRemediation: number;
  historyBytesPerBaseline: number;
  /** Search-attribute upserts and memo writes per workflow (means over the warm-up runs): each one more visibility update. */
  visibilityWrites?: { drw: VisibilityWrites; baseline: VisibilityWrites };
  /** BENCH_BASELINE_WRITES=1: the baseline made a remediation's visibility writes too. */
  baselineWithWrites?: boolean;
  concurrency: number;
  /** How each side started its workflows: eager (the first workflow task in the start's answer) or through the server's queue. */
  starts?: { drw: 'eager' | 'queued'; baseline: 'eager' | 'queued' };
  rounds: { drw: Omit<BatchResult, 'ids'>; baseline: Omit<BatchResult, 'ids'> }[];
  drwPerSecond: number;
  baselinePerSecond: number;
  ratio: number | null;
  failures: number;
}

async function throughputPhase(ctx: Ctx): Promise<{ result: ThroughputResult; drwIds: string[]; baselineIds: string[] }> {
  progress(`(a) warm-up: ${COUNTS.warmup} remediations to count their activity calls`);
  const warm = await drwBatch(ctx, 'warm', COUNTS.warmup);
  const warmHist = await fetchHistories(ctx, warm.ids);
  const callCounts = warmHist.map((h) => activityCalls(h.history));
  const calls = Math.round(callCounts.reduce((a, b) => a + b, 0) / callCounts.length);
  const drwEvents = warmHist.reduce((a, h) => a + (h.history.events?.length ?? 0), 0) / warmHist.length;
  const drwBytes = warmHist.reduce((a, h) => a + historyBytes(h.history), 0) / warmHist.length;
  const drwWrites = meanVisibilityWrites(warmHist.map((h) => h.history));
  const writes = BASELINE_WRITES ? { searchAttributes: Math.round(drwWrites.searchAttributes), memo: Math.round(drwWrites.memo) } : undefined;
  progress(
    `(a) a remediation makes ${calls} activity calls (${callCounts.join(',')}), ${drwEvents.toFixed(0)} history events, ${drwWrites.searchAttributes.toFixed(1)} search-attribute upserts and ${drwWrites.memo.toFixed(1)} memo writes; baseline will make ${calls}${writes ? `, ${writes.searchAttributes} and ${writes.memo}` : ''}`,
  );
  const bwarm = await baselineBatch(ctx, 'warm', COUNTS.warmup, calls, writes);
  const bHist = await fetchHistories(ctx, bwarm.ids.slice(0, 3));
  const baseEvents = bHist.reduce((a, h) => a + (h.history.events?.length ?? 0), 0) / bHist.length;
  const baseBytes = bHist.reduce((a, h) => a + historyBytes(h.history), 0) / bHist.length;

  const rounds: ThroughputResult['rounds'] = [];
  let drwIds: string[] = [];
  let baselineIds: string[] = [];
  for (let r = 0; r < COUNTS.throughputRounds; r++) {
    // Alternate the order so neither side always runs on the warmer (or fuller) server.
    const order: ('drw' | 'baseline')[] = r % 2 === 0 ? ['baseline', 'drw'] : ['drw', 'baseline'];
    const got: Partial<Record<'drw' | 'baseline', BatchResult>> = {};
    for (const kind of order) {
      progress(`(a) round ${r + 1}/${COUNTS.throughputRounds}: ${COUNTS.throughput} ${kind === 'drw' ? 'remediations through the API' : 'baseline workflows'} (${CONCURRENCY} in flight)`);
      const b = kind === 'drw' ? await drwBatch(ctx, `r${r}`, COUNTS.throughput) : await baselineBatch(ctx, `r${r}`, COUNTS.throughput, calls, writes);
      progress(`(a)   ${kind}: ${b.perSecond.toFixed(1)}/s, p50 ${b.latencyMs.p50.toFixed(0)} ms, failures ${b.failures}`);
      got[kind] = b;
      if (kind === 'drw') drwIds = drwIds.concat(b.ids);
      else baselineIds = baselineIds.concat(b.ids);
    }
    const strip = ({ ids: _ids, ...rest }: BatchResult) => rest;
    rounds.push({ drw: strip(got.drw!), baseline: strip(got.baseline!) });
  }
  const total = (k: 'drw' | 'baseline') => rounds.reduce((a, r) => a + r[k].n, 0) / seconds(rounds.reduce((a, r) => a + r[k].ms, 0));
  const drwPerSecond = total('drw');
  const baselinePerSecond = total('baseline');
  return {
    result: {
      activityCallsPerRemediation: calls,
      historyEventsPerRemediation: drwEvents,
      historyEventsPerBaseline: baseEvents,
      historyBytesPerRemediation: drwBytes,
      historyBytesPerBaseline: baseBytes,
      visibilityWrites: { drw: drwWrites, baseline: meanVisibilityWrites(bHist.map((h) => h.history)) },
      ...(writes ? { baselineWithWrites: true } : {}),
      concurrency: CONCURRENCY,
      starts: { drw: ctx.cfg.eagerStart ? 'eager' : 'queued', baseline: BASELINE_EAGER ? 'eager' : 'queued' },
      rounds,
      drwPerSecond,
      baselinePerSecond,
      ratio: ratio(drwPerSecond, baselinePerSecond),
      failures: rounds.reduce((a, r) => a + r.drw.failures + r.baseline.failures, 0) + warm.failures + bwarm.failures,
    },
    drwIds,
    baselineIds,
  };
}

// ---------------------------------------------------------------- (f) replay

interface ReplayRate {
  /** Replays done: every history once per pass. */
  histories: number;
  passes: number;
  events: number;
  ms: number;
  perSecond: number;
  eventsPerSecond: number;
  errors: string[];
}

type Histories = { workflowId: string; history: History }[];

/** One replay of every history, timed. */
async function replayPass(bundle: Bundle, dataConverter: DataConverter, histories: Histories, name: string): Promise<{ ms: number; results: ReplayResult[] }> {
  const collect = async (it: AsyncIterable<ReplayResult>) => {
    const out: ReplayResult[] = [];
    for await (const r of it) out.push(r);
    return out;
  };
  const t0 = performance.now();
  const results = await collect(Worker.runReplayHistories({ workflowBundle: bundle, dataConverter, replayName: name }, histories));
  return { ms: performance.now() - t0, results };
}

function replayRate(histories: Histories, passes: { ms: number; results: ReplayResult[] }[]): ReplayRate {
  const ms = passes.reduce((a, p) => a + p.ms, 0);
  const replayed = passes.reduce((a, p) => a + p.results.length, 0);
  const events = passes.length * histories.reduce((a, h) => a + (h.history.events?.length ?? 0), 0);
  return {
    histories: replayed,
    passes: passes.length,
    events,
    ms,
    perSecond: replayed / seconds(ms),
    eventsPerSecond: events / seconds(ms),
    errors: passes.flatMap((p) => p.results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`.slice(0, 300))),
  };
}

/** For profiling a replay outside the run (bench/replay-profile.ts reads these). */
function saveHistories(dir: string, drw: { workflowId: string; history: History }[], baseline: { workflowId: string; history: History }[]): void {
  mkdirSync(dir, { recursive: true });
  const write = (name: string, hs: { workflowId: string; history: History }[]) =>
    writeFileSync(path.join(dir, name), JSON.stringify(hs.map((h) => ({ workflowId: h.workflowId, history: Buffer.from(temporal.api.history.v1.History.encode(h.history).finish()).toString('base64') }))));
  write('drw.json', drw);
  write('baseline.json', baseline);
}

interface ReplayResultFigures {
  drw: ReplayRate;
  baseline: ReplayRate;
  ratio: number | null;
}

async function replayPhase(ctx: Ctx, drwIds: string[], baselineIds: string[]): Promise<ReplayResultFigures> {
  const take = (ids: string[]) => ids.slice(-COUNTS.replayMax);
  progress(`(f) fetching ${Math.min(drwIds.length, COUNTS.replayMax)} + ${Math.min(baselineIds.length, COUNTS.replayMax)} histories recorded in this run`);
  const dh = await fetchHistories(ctx, take(drwIds));
  const bh = await fetchHistories(ctx, take(baselineIds));
  if (process.env.BENCH_SAVE_HISTORIES) saveHistories(process.env.BENCH_SAVE_HISTORIES, dh, bh);
  // Both with drw's replay converter: drw's larger payloads were compressed, the baseline's are too small to be.
  // Passes in the order drw, baseline, baseline, drw, so a machine that speeds up or slows down during the phase weighs on both sides alike.
  const converter = replayDataConverterOf(ctx.cfg);
  const sides = { drw: { bundle: ctx.drwBundle, histories: dh }, baseline: { bundle: ctx.baselineBundle, histories: bh } };
  const pass = (side: keyof typeof sides, name: string | number, histories = sides[side].histories) => replayPass(sides[side].bundle, converter, histories, `bench-replay-${side}-${name}`);
  await pass('drw', 'warm', dh.slice(0, 5));
  await pass('baseline', 'warm', bh.slice(0, 5));
  progress('(f) replaying drw, baseline, baseline, drw');
  const d1 = await pass('drw', 1);
  const b1 = await pass('baseline', 1);
  const b2 = await pass('baseline', 2);
  const d2 = await pass('drw', 2);
  const drw = replayRate(dh, [d1, d2]);
  const baseline = replayRate(bh, [b1, b2]);
  progress(`(f)   drw: ${drw.perSecond.toFixed(1)} histories/s (${drw.errors.length} errors); baseline: ${baseline.perSecond.toFixed(1)} histories/s (${baseline.errors.length} errors)`);
  return { drw, baseline, ratio: ratio(drw.perSecond, baseline.perSecond) };
}

/** Where (a)'s CPU went, per workflow, averaged over the rounds (results recorded before it have none). */
function cpuDetail(rounds: ThroughputResult['rounds']): string | undefined {
  const side = (k: 'drw' | 'baseline') => {
    const cpus = rounds.map((r) => r[k].cpu).filter((c): c is CpuUse => c !== undefined);
    if (!cpus.length) return undefined;
    const threads: Record<string, number> = {};
    for (const c of cpus) for (const [name, ms] of Object.entries(c.threadsMs)) threads[name] = (threads[name] ?? 0) + ms / cpus.length;
    const server = cpus.reduce((a, c) => a + c.serverMs, 0) / cpus.length;
    const own = Object.values(threads).reduce((a, b) => a + b, 0);
    const top = Object.entries(threads)
      .filter(([, ms]) => ms >= 0.5)
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => `${name} ${fmt(ms)}`)
      .join(', ');
    return `server ${fmt(server)} ms, bench process ${fmt(own)} ms (${top})`;
  };
  const d = side('drw');
  const b = side('baseline');
  return d && b ? `(a) CPU per workflow (Temporal server; the benchmark process's threads by name): drw ${d}; baseline ${b}.` : undefined;
}

// ---------------------------------------------------------------- (b) signal → re-plan latency

interface LatencyResult {
  samples: number;
  remediations: number;
  latencyMs: Summary;
  apiAnswerMs: Summary;
  timeouts: number;
  /** The same path on bare Temporal, sampled in turn with drw's: a signal from the client (no HTTP hop), then the query until the version moves. */
  baseline: { samples: number; latencyMs: Summary; signalMs: Summary; timeouts: number };
}

/** Asks `version` back to back until it is above `from` or 10 s after `since` have passed; the version last answered. */
async function versionAbove(version: () => Promise<number>, from: number, since: number): Promise<number> {
  while (performance.now() < since + 10_000) {
    const v = await version();
    if (v > from) return v;
  }
  return from;
}

async function latencyPhase(ctx: Ctx): Promise<LatencyResult> {
  const M = COUNTS.latencyRemediations;
  progress(`(b) opening ${M} remediations that wait on approval`);
  const ids: string[] = [];
  for (let i = 0; i < M; i++) {
    const r = await postJson(`${ctx.app.apiUrl}/v1/detections`, malware(`lat-${RUN}-${i}`, 50));
    if (r.status !== 202) throw new Error(`(b) POST /v1/detections answered ${r.status}: ${JSON.stringify(r.body)}`);
    ids.push(r.body.remediations[0].id);
  }
  const handles = ids.map((id) => ctx.client.workflow.getHandle(id));
  const version = new Map<string, number>();
  const risk = new Map<string, number>();
  for (const h of handles) {
    const v = await eventually(`${h.workflowId} awaiting approval`, 60_000, async () => {
      const s = await h.query(stateQuery);
      return s.status === 'awaiting_approval' ? s : undefined;
    });
    version.set(h.workflowId, v.plan.version);
    risk.set(h.workflowId, v.riskScore);
  }
  const bare = await Promise.all(ids.map((_, i) => ctx.client.workflow.start(baselineAwaitingWorkflow, { taskQueue: ctx.baselineQueue, workflowId: `bench-baseline-lat-${RUN}-${i}` })));
  const bareVersion = await Promise.all(bare.map((h) => h.query(baselineVersionQuery)));
  progress(`(b) ${COUNTS.latencySamples} samples: POST /v1/remediations/{id}/risk, then the plan query until the version moves; each followed by a baseline sample`);
  const lat: number[] = [];
  const api: number[] = [];
  let timeouts = 0;
  const bareLat: number[] = [];
  const bareSignal: number[] = [];
  let bareTimeouts = 0;
  for (let i = 0; i < COUNTS.latencySamples; i++) {
    const h: WorkflowHandle = handles[i % M];
    const id = h.workflowId;
    let next = 40 + (i % 40);
    if (next === risk.get(id)) next += 1;
    const v0 = version.get(id)!;
    const t0 = performance.now();
    const r = await postJson(`${ctx.app.apiUrl}/v1/remediations/${id}/risk`, { riskScore: next, reason: `bench sample ${i}` });
    const tApi = performance.now();
    if (r.status !== 202) throw new Error(`(b) POST risk answered ${r.status}: ${JSON.stringify(r.body)}`);
    const seen = await versionAbove(async () => (await h.query(planQuery)).version, v0, t0);
    const t1 = performance.now();
    if (seen === v0) timeouts++;
    else {
      lat.push(t1 - t0);
      api.push(tApi - t0);
    }
    version.set(id, seen);
    risk.set(id, next);

    const b = bare[i % M];
    const b0 = bareVersion[i % M];
    const s0 = performance.now();
    await b.signal(baselineBumpSignal, i);
    const sSignal = performance.now();
    const bSeen = await versionAbove(() => b.query(baselineVersionQuery), b0, s0);
    if (bSeen === b0) bareTimeouts++;
    else {
      bareLat.push(performance.now() - s0);
      bareSignal.push(sSignal - s0);
    }
    bareVersion[i % M] = bSeen;
  }
  await Promise.all(bare.map((h) => h.terminate('benchmark (b) done')));
  return {
    samples: lat.length,
    remediations: M,
    latencyMs: summarize(lat),
    apiAnswerMs: summarize(api),
    timeouts,
    baseline: { samples: bareLat.length, latencyMs: summarize(bareLat), signalMs: summarize(bareSignal), timeouts: bareTimeouts },
  };
}

// ---------------------------------------------------------------- (c) ingest burst

interface IngestResult {
  detections: number;
  uniqueKeys: number;
  repeats: number;
  concurrency: number;
  ms: number;
  perSecond: number;
  answers: { started: number; signalled: number; other: number; errors: number };
  workflows: number;
  keysWithMoreThanOneWorkflow: number;
  duplicated: number;
  findingCountSum: number;
  /** Remediations whose findingCount query never answered by the deadline (their detections are neither counted nor called lost). */
  unanswered?: number;
  lost: number;
  consistentAfterMs: number;
}

async function ingestPhase(ctx: Ctx): Promise<IngestResult> {
  const plan = burstPlan(COUNTS.ingest, 0.3, 7);
  const source = `bench-ingest-${RUN}`;
  const det = (k: number) => ({
    source,
    rule: `INGEST-${k % 50}`,
    title: `Burst finding ${k}`,
    severity: 'medium',
    category: 'bench-burst',
    asset: { id: `burst-${RUN}-${k}`, type: 'host' },
  });
  progress(`(c) burst of ${plan.keys.length} detections (${plan.unique} keys, ${plan.repeats} repeats) through POST /v1/detections, ${CONCURRENCY * 2} in flight`);
  const answers = { started: 0, signalled: 0, other: 0, errors: 0 };
  const idOf = new Map<number, string>();
  const t0 = performance.now();
  await pool(plan.keys.length, CONCURRENCY * 2, async (j) => {
    const k = plan.keys[j];
    try {
      const r = await postJson(`${ctx.app.apiUrl}/v1/detections`, det(k));
      const o = r.body?.remediations?.[0];
      if (r.status !== 202 || !o) answers.errors++;
      else {
        idOf.set(k, o.id);
        if (o.outcome === 'started') answers.started++;
        else if (o.outcome === 'signalled') answers.signalled++;
        else answers.other++;
      }
    } catch {
      answers.errors++;
    }
  });
  const ms = performance.now() - t0;
  progress(`(c)   ${(plan.keys.length / seconds(ms)).toFixed(0)} detections/s; answers ${JSON.stringify(answers)}; checking workflows and findingCount`);

  const tc = performance.now();
  // Exactly one workflow per key: every execution the server knows for this burst, grouped by id.
  const runs = await eventually('the burst in visibility', 120_000, async () => {
    const n = (await ctx.client.workflow.count(`DrwSource="${source}"`)).count;
    return n >= plan.unique ? n : undefined;
  }, 500);
  const perId = new Map<string, number>();
  for await (const wf of ctx.client.workflow.list({ query: `DrwSource="${source}"` })) perId.set(wf.workflowId, (perId.get(wf.workflowId) ?? 0) + 1);
  const keysWithMoreThanOneWorkflow = [...perId.values()].filter((c) => c > 1).length;

  // None lost: every detection is a finding of exactly one remediation. Each remediation is asked until
  // its findingCount reaches the detections it was answered for; a query that times out on a busy worker
  // (a backlog of thousands of runs replaying into a full cache) is asked again next round, and one still
  // unanswered at the deadline is reported as unanswered, not as lost.
  const expected = new Map<string, number>();
  for (const k of plan.keys) {
    const id = idOf.get(k);
    if (id) expected.set(id, (expected.get(id) ?? 0) + 1);
  }
  const seen = new Map<string, number>();
  const end = Date.now() + CONSISTENCY_DEADLINE_MS;
  for (;;) {
    const pending = [...expected.keys()].filter((id) => (seen.get(id) ?? 0) < expected.get(id)!);
    if (!pending.length || Date.now() > end) break;
    await pool(pending.length, 32, async (i) => {
      const id = pending[i];
      try {
        seen.set(id, (await ctx.client.workflow.getHandle(id).query(stateQuery)).findingCount);
      } catch {
        // Asked again next round.
      }
    });
    await sleep(500);
  }
  const sum = [...seen.values()].reduce((a, b) => a + b, 0);
  const unanswered = [...expected.keys()].filter((id) => !seen.has(id));
  const unansweredDetections = unanswered.reduce((a, id) => a + expected.get(id)!, 0);
  const consistentAfterMs = performance.now() - tc;
  return {
    detections: plan.keys.length,
    uniqueKeys: plan.unique,
    repeats: plan.repeats,
    concurrency: CONCURRENCY * 2,
    ms,
    perSecond: plan.keys.length / seconds(ms),
    answers,
    workflows: runs,
    keysWithMoreThanOneWorkflow,
    duplicated: Math.max(0, runs - plan.unique) + Math.max(0, answers.started - plan.unique),
    findingCountSum: sum,
    unanswered: unanswered.length,
    lost: Math.max(0, plan.keys.length - unansweredDetections - sum),
    consistentAfterMs,
  };
}

// ---------------------------------------------------------------- (d) worker memory

/** After a forced full GC in the worker: what V8 really retains (main thread, workflow thread), and the RSS left. */
interface GcFigures {
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  workflowThreadHeapUsedMiB: number;
  workflowThreadHeapTotalMiB: number;
  rssAfterGcMiB: number;
  /** Where the resident memory lies after the GC (Linux; undefined elsewhere), MiB but `arenas`. */
  map?: { filesMiB: number; brkHeapMiB: number; arenaMiB: number; arenas: number; otherAnonMiB: number };
}

interface ProbeAnswer {
  before: NodeJS.MemoryUsage;
  after: NodeJS.MemoryUsage;
  threads?: { used: number; total: number; external: number; malloced: number }[];
  map?: MemoryMap;
}

const mib = (b: number) => b / 2 ** 20;

/** What deploy/Dockerfile sets for every drw process: two glibc arenas rather than up to eight per core. */
const WORKER_MALLOC_ARENA_MAX = '2';

/** The probe's memory map in MiB. */
function mapFigures(p: ProbeAnswer): GcFigures['map'] {
  const m = p.map;
  if (!m) return undefined;
  return { filesMiB: mib(m.filesBytes), brkHeapMiB: mib(m.brkHeapBytes), arenaMiB: mib(m.arenaBytes), arenas: m.arenas, otherAnonMiB: mib(m.otherAnonBytes + m.stackBytes) };
}

function mapLine(m: GcFigures['map']): string {
  return m
    ? `; resident: files ${fmt(m.filesMiB)}, glibc heap ${fmt(m.brkHeapMiB)} + ${m.arenas} arenas ${fmt(m.arenaMiB)}, other anonymous (V8 heaps and code, large allocations) ${fmt(m.otherAnonMiB)} MiB`
    : '';
}

interface MemoryResult {
  maxCachedWorkflows: number;
  /** The worker's MALLOC_ARENA_MAX (absent in results recorded before it was set). */
  mallocArenaMax?: string;
  idleRssMiB: number;
  idleAfterGc: GcFigures;
  points: ({ open: number; rssMiB: number; peakRssMiB: number; openedPerSecond: number } & GcFigures)[];
  growthMiB: number;
  growthShare: number;
  bytesPerExtraRemediation: number;
  bounded: boolean;
}

/**
 * Bounded: with ten times the remediations, the memory the worker retains (RSS after a full GC)
 * is at most a quarter more. RSS sampled without a GC also holds garbage V8 has not collected yet:
 * how much depends on when it last ran, not on the count, so it is reported but not judged.
 */
function isBounded(points: { rssAfterGcMiB: number }[]): boolean {
  const [lo, hi] = [points[0], points[points.length - 1]];
  return hi.rssAfterGcMiB <= 1.25 * lo.rssAfterGcMiB;
}

function rssOf(child: ChildProcess, logFile: string): { rss: number; hwm: number } {
  if (child.exitCode !== null || child.signalCode !== null) {
    let tail = '';
    try {
      tail = readFileSync(logFile, 'utf8').slice(-1500);
    } catch {
      /* no log */
    }
    throw new Error(`the worker process exited (${child.exitCode ?? child.signalCode}): ${tail}`);
  }
  const text = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)\\s+kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

async function memoryPhase(ctx: Ctx): Promise<MemoryResult> {
  const queue = `bench-mem-${RUN}`;
  const source = `bench-mem-${RUN}`;
  const cfg = loadConfig({ TEMPORAL_ADDRESS: ctx.server.address, DRW_TASK_QUEUE: queue, DRW_POLICY_DIR: benchPolicyDir(), DRW_LOG_LEVEL: 'warn', DRW_TIME_SCALE: '1', DRW_ARCHIVE: 'off', ...drwSettings() });
  const store = new PolicyStore(cfg.policyDir);
  // Activities run here, so the worker process measured holds workflows only.
  const acts = await createWorkers({
    cfg,
    connection: ctx.workerConnection,
    logger: ctx.logger,
    activities: createActivities({ ...createInProcessSystems(), policy: () => store.get() }),
    roles: [...ACTIVITY_KINDS],
  });
  const actsRun = acts.run();
  const logFile = process.env.BENCH_WORKER_LOG ?? path.join(ctx.server.dataDir, 'bench-worker.log');
  const fd = openSync(logFile, 'a');
  // dist/workers/main.js itself, behind a probe that reports heap figures after a forced GC (IPC).
  const mallocArenaMax = process.env.MALLOC_ARENA_MAX ?? WORKER_MALLOC_ARENA_MAX;
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', path.join(DIST, 'bench', 'worker-probe.js')], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: ctx.server.address,
      DRW_TASK_QUEUE: queue,
      DRW_WORKER_ROLES: 'workflows',
      DRW_MAX_CACHED_WORKFLOWS: String(COUNTS.cache),
      DRW_LOG_LEVEL: 'warn',
      DRW_BENCH_THREAD_STATS: path.join(ctx.server.dataDir, 'workflow-thread-heap'),
      // glibc's arenas as the image sets them (deploy/Dockerfile); MALLOC_ARENA_MAX=16 gives glibc's own default on 2 cores.
      MALLOC_ARENA_MAX: mallocArenaMax,
    },
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);
  const probe = () =>
    new Promise<ProbeAnswer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the worker did not answer the memory probe')), 30_000);
      child.once('message', (m) => {
        clearTimeout(t);
        resolve(m as ProbeAnswer);
      });
      child.send('drw-bench-memory');
    });
  const killChild = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  process.once('exit', killChild);
  try {
    await eventually('the worker process to poll', 60_000, async () => {
      if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}; see ${logFile}`);
      const d = await ctx.client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      return (d.pollers?.length ?? 0) > 0 ? true : undefined;
    });
    await sleep(3000);
    const sample = async () => {
      const xs: { rss: number; hwm: number }[] = [];
      for (let i = 0; i < 10; i++) {
        xs.push(rssOf(child, logFile));
        await sleep(500);
      }
      return { rss: Math.max(...xs.map((x) => x.rss)), hwm: Math.max(...xs.map((x) => x.hwm)) };
    };
    const gcSample = async () => {
      const p = await probe();
      await sleep(1000);
      const threads = p.threads ?? [];
      return {
        heapUsedMiB: p.after.heapUsed / 2 ** 20,
        heapTotalMiB: p.after.heapTotal / 2 ** 20,
        externalMiB: p.after.external / 2 ** 20,
        workflowThreadHeapUsedMiB: threads.length ? threads.reduce((a, x) => a + x.used, 0) / 2 ** 20 : NaN,
        workflowThreadHeapTotalMiB: threads.length ? threads.reduce((a, x) => a + x.total, 0) / 2 ** 20 : NaN,
        rssAfterGcMiB: rssOf(child, logFile).rss / 2 ** 20,
        map: mapFigures(p),
      };
    };
    const idle = await sample();
    const idleGc = await gcSample();
    progress(`(d) worker process ${child.pid} (cache ${COUNTS.cache}) idle RSS ${(idle.rss / 2 ** 20).toFixed(0)} MiB, ${idleGc.rssAfterGcMiB.toFixed(0)} MiB after a full GC${mapLine(idleGc.map)}`);
    const service = new RemediationService(ctx.client, cfg, () => store.get());
    let opened = 0;
    const points: MemoryResult['points'] = [];
    for (const target of COUNTS.memory) {
      const n = target - opened;
      progress(`(d) opening ${n} more remediations (to ${target}) that wait on approval`);
      const t0 = performance.now();
      const base = opened;
      await pool(n, 64, async (i) => {
        const r = await service.submit(malware(`mem-${RUN}-${base + i}`, 50, source), 'api:bench');
        if (r.outcome !== 'started') throw new Error(`(d) expected a new remediation, got ${JSON.stringify(r)}`);
      });
      opened = target;
      // No fixed deadline (a busy machine opens them slowly): fail only when nothing moves for 3 minutes.
      let lastLog = 0;
      let seen = -1;
      let movedAt = Date.now();
      for (;;) {
        const c = (await ctx.client.workflow.count(`DrwSource="${source}" AND DrwStatus="awaiting_approval"`)).count;
        if (c !== seen) {
          seen = c;
          movedAt = Date.now();
        }
        if (c >= target) break;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the worker process exited (${child.exitCode ?? child.signalCode}); see ${logFile}`);
        if (Date.now() - movedAt > 180_000) throw new Error(`stuck at ${c}/${target} remediations awaiting approval for 3 minutes`);
        if (Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          progress(`(d)   ${c}/${target} awaiting approval`);
        }
        await sleep(1000);
      }
      const openedPerSecond = n / seconds(performance.now() - t0);
      await sleep(2000);
      const s = await sample();
      const g = await gcSample();
      points.push({ open: target, rssMiB: s.rss / 2 ** 20, peakRssMiB: s.hwm / 2 ** 20, openedPerSecond, ...g });
      progress(`(d)   ${target} open: RSS ${(s.rss / 2 ** 20).toFixed(0)} MiB (peak ${(s.hwm / 2 ** 20).toFixed(0)} MiB), opened at ${openedPerSecond.toFixed(1)}/s; after a full GC: V8 heap ${g.heapUsedMiB.toFixed(0)} MiB used of ${g.heapTotalMiB.toFixed(0)} (main thread), ${g.workflowThreadHeapUsedMiB.toFixed(0)} MiB used of ${g.workflowThreadHeapTotalMiB.toFixed(0)} (workflow thread), RSS ${g.rssAfterGcMiB.toFixed(0)} MiB${mapLine(g.map)}`);
    }
    const [lo, hi] = [points[0], points[points.length - 1]];
    const growth = hi.rssMiB - lo.rssMiB;
    return {
      maxCachedWorkflows: COUNTS.cache,
      mallocArenaMax,
      idleRssMiB: idle.rss / 2 ** 20,
      idleAfterGc: idleGc,
      points,
      growthMiB: growth,
      growthShare: growth / lo.rssMiB,
      bytesPerExtraRemediation: (growth * 2 ** 20) / (hi.open - lo.open),
      bounded: isBounded(points),
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(15_000)]);
      killChild();
    }
    process.removeListener('exit', killChild);
    acts.shutdown();
    await actsRun.catch(() => undefined);
  }
}

// ---------------------------------------------------------------- main

interface Results {
  benchmark: string;
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  scale: number;
  counts: typeof COUNTS;
  machine: Machine;
  temporal: { address?: string; dataDir?: string };
  results: {
    throughput?: ThroughputResult;
    signalLatency?: LatencyResult;
    ingest?: IngestResult;
    memory?: MemoryResult;
    planner?: PlannerResult;
    replay?: ReplayResultFigures;
    cluster?: ClusterResult;
  };
  targets: Record<string, { target: string; met: boolean | null; detail: string }>;
  figures: FigureRow[];
  errors: string[];
}

function figures(r: Results['results']): { rows: FigureRow[]; targets: Results['targets'] } {
  const rows: FigureRow[] = [];
  const targets: Results['targets'] = {};
  const verdict = (ok: boolean | null): FigureRow['verdict'] => (ok === null ? 'n/a' : ok ? 'met' : 'missed');
  if (r.throughput) {
    const t = r.throughput;
    // Against a baseline that makes drw's visibility writes too, the figure is a decomposition, not the target's.
    const ok = t.ratio !== null && !t.baselineWithWrites ? t.ratio >= 0.9 : null;
    targets.a = { target: '≥ 0.9 of baseline', met: ok, detail: `${fmt(t.ratio)} (${fmt(t.drwPerSecond)}/s vs ${fmt(t.baselinePerSecond)}/s${t.baselineWithWrites ? ', baseline with drw’s visibility writes' : ''})` };
    const measure = `remediations completed/s (API, ${t.activityCallsPerRemediation} activities each${t.baselineWithWrites ? '; baseline with drw’s visibility writes' : ''})`;
    rows.push({ key: 'a', measure, value: `${fmt(t.drwPerSecond)}/s`, baseline: `${fmt(t.baselinePerSecond)}/s`, ratio: fmt(t.ratio), target: '≥ 0.9', verdict: verdict(ok) });
    const bytes = t.historyBytesPerBaseline ? t.historyBytesPerRemediation / t.historyBytesPerBaseline : null;
    const small = bytes !== null && !t.baselineWithWrites ? bytes <= 1.5 : null;
    targets.history = { target: '≤ 1.5 × the baseline history bytes', met: small, detail: `${fmt(t.historyBytesPerRemediation / 1024)} KiB vs ${fmt(t.historyBytesPerBaseline / 1024)} KiB` };
    rows.push({ key: 'a', measure: 'history per remediation (events, bytes)', value: `${fmt(t.historyEventsPerRemediation)} · ${fmt(t.historyBytesPerRemediation / 1024)} KiB`, baseline: `${fmt(t.historyEventsPerBaseline)} · ${fmt(t.historyBytesPerBaseline / 1024)} KiB`, ratio: bytes === null ? '' : fmt(bytes), target: '≤ 1.5', verdict: verdict(small) });
  }
  if (r.signalLatency) {
    const l = r.signalLatency;
    const ok = l.samples > 0 ? l.latencyMs.p99 < 50 && l.timeouts === 0 : null;
    targets.b = { target: 'p99 < 50 ms', met: ok, detail: `p50 ${fmt(l.latencyMs.p50)} ms, p99 ${fmt(l.latencyMs.p99)} ms over ${l.samples} samples, ${l.timeouts} timeouts` };
    const bare = l.baseline;
    rows.push({ key: 'b', measure: 'signal → new plan visible, p50', value: `${fmt(l.latencyMs.p50)} ms`, baseline: `${fmt(bare.latencyMs.p50)} ms`, ratio: fmt(ratio(l.latencyMs.p50, bare.latencyMs.p50)), target: '', verdict: 'n/a' });
    rows.push({ key: 'b', measure: 'signal → new plan visible, p99', value: `${fmt(l.latencyMs.p99)} ms`, baseline: `${fmt(bare.latencyMs.p99)} ms`, ratio: fmt(ratio(l.latencyMs.p99, bare.latencyMs.p99)), target: '< 50 ms', verdict: verdict(ok) });
  }
  if (r.ingest) {
    const g = r.ingest;
    const ok = g.lost === 0 && !g.unanswered && g.duplicated === 0 && g.keysWithMoreThanOneWorkflow === 0 && g.answers.errors === 0;
    targets.c = { target: 'zero lost, zero duplicated', met: ok, detail: `${g.detections} sent, ${g.uniqueKeys} keys → ${g.workflows} workflows, findingCount sum ${g.findingCountSum}, lost ${g.lost}${g.unanswered ? `, ${g.unanswered} remediations never answered the query` : ''}, duplicated ${g.duplicated}` };
    rows.push({ key: 'c', measure: `ingest burst, 30% repeats (${g.detections} detections)`, value: `${fmt(g.perSecond)} det/s`, baseline: '', ratio: '', target: '', verdict: 'n/a' });
    rows.push({ key: 'c', measure: 'workflows per key / lost detections', value: `${g.workflows}/${g.uniqueKeys} · lost ${g.lost}${g.unanswered ? ` · unanswered ${g.unanswered}` : ''} · dup ${g.duplicated}`, baseline: '', ratio: '', target: '1 per key, 0 lost', verdict: verdict(ok) });
  }
  if (r.memory) {
    const m = r.memory;
    const [lo, hi] = [m.points[0], m.points[m.points.length - 1]];
    const bounded = isBounded(m.points);
    targets.d = { target: 'bounded by the workflow cache (RSS after a full GC)', met: bounded, detail: `${m.points.map((p) => `${p.open} open: ${fmt(p.rssAfterGcMiB)} MiB after a full GC (${fmt(p.rssMiB)} MiB sampled)`).join(', ')}; cache ${m.maxCachedWorkflows}` };
    for (const p of m.points) rows.push({ key: 'd', measure: `worker RSS, ${p.open} open awaiting approval (cache ${m.maxCachedWorkflows})`, value: `${fmt(p.rssMiB)} MiB`, baseline: p === lo ? `idle ${fmt(m.idleRssMiB)} MiB` : '', ratio: p === lo ? '' : fmt(p.rssMiB / lo.rssMiB), target: '', verdict: 'n/a' });
    rows.push({ key: 'd', measure: `worker RSS after a full GC, ${lo.open} → ${hi.open} open`, value: `${fmt(lo.rssAfterGcMiB)} → ${fmt(hi.rssAfterGcMiB)} MiB`, baseline: `idle ${fmt(m.idleAfterGc.rssAfterGcMiB)} MiB`, ratio: fmt(hi.rssAfterGcMiB / lo.rssAfterGcMiB), target: 'bounded (≤ 1.25)', verdict: verdict(bounded) });
    const within = hi.rssAfterGcMiB <= 512;
    targets.dLimit = { target: `≤ 512 MiB RSS after a full GC at ${hi.open} open (cache ${m.maxCachedWorkflows})`, met: within, detail: `${fmt(hi.rssAfterGcMiB)} MiB` };
    rows.push({ key: 'd', measure: `worker RSS after a full GC, ${hi.open} open (cache ${m.maxCachedWorkflows})`, value: `${fmt(hi.rssAfterGcMiB)} MiB`, baseline: '', ratio: '', target: '≤ 512 MiB', verdict: verdict(within) });
    const heap = (g: GcFigures) => g.heapUsedMiB + (Number.isFinite(g.workflowThreadHeapUsedMiB) ? g.workflowThreadHeapUsedMiB : 0);
    rows.push({ key: 'd', measure: `worker V8 heaps after a full GC (main + workflow thread), ${lo.open} → ${hi.open} open`, value: `${fmt(heap(lo))} → ${fmt(heap(hi))} MiB`, baseline: `idle ${fmt(heap(m.idleAfterGc))} MiB`, ratio: fmt(heap(hi) / heap(lo)), target: '', verdict: 'n/a' });
  }
  if (r.planner) {
    const p = r.planner;
    rows.push({ key: 'e', measure: `planner, ${p.playbooks} playbooks, per re-plan (median)`, value: `${fmt(p.planUs.p50)} µs`, baseline: `JSON round trip ${fmt(p.jsonRoundTripUs.p50)} µs`, ratio: fmt(p.ratio), target: '', verdict: 'n/a' });
  }
  if (r.replay) {
    const f = r.replay;
    const ok = f.drw.errors.length ? false : f.ratio !== null ? f.ratio >= 0.8 : null;
    targets.f = { target: '≥ 0.8 of the baseline replay rate, no replay error', met: ok, detail: `${fmt(f.ratio)} (${fmt(f.drw.perSecond)} vs ${fmt(f.baseline.perSecond)} histories/s), ${f.drw.errors.length} errors` };
    rows.push({ key: 'f', measure: 'replay throughput (runReplayHistories)', value: `${fmt(f.drw.perSecond)} hist/s`, baseline: `${fmt(f.baseline.perSecond)} hist/s`, ratio: fmt(f.ratio), target: '≥ 0.8', verdict: verdict(ok) });
  }
  if (r.cluster) rows.push(...clusterRows(r.cluster));
  return { rows, targets };
}

function details(r: Results['results']): string[] {
  const out: string[] = [];
  if (r.throughput) {
    const t = r.throughput;
    const w = (x: VisibilityWrites) => `${x.searchAttributes.toFixed(1)} + ${x.memo.toFixed(1)}`;
    out.push(`(a) ${t.rounds.length} rounds × ${t.rounds[0]?.drw.n ?? 0} per side, ${t.concurrency} in flight; per round drw/baseline: ${t.rounds.map((x) => `${fmt(x.drw.perSecond)}/${fmt(x.baseline.perSecond)}`).join(', ')}; end-to-end latency p50 drw ${fmt(t.rounds[0]?.drw.latencyMs.p50)} ms vs baseline ${fmt(t.rounds[0]?.baseline.latencyMs.p50)} ms; history per workflow drw ${fmt(t.historyEventsPerRemediation)} events / ${fmt(t.historyBytesPerRemediation / 1024)} KiB vs baseline ${fmt(t.historyEventsPerBaseline)} events / ${fmt(t.historyBytesPerBaseline / 1024)} KiB; failures ${t.failures}${t.starts ? `; starts: drw ${t.starts.drw}, baseline ${t.starts.baseline}` : ''}${t.visibilityWrites ? `; visibility writes after the start per workflow (search-attribute upserts + memo writes): drw ${w(t.visibilityWrites.drw)}, baseline ${w(t.visibilityWrites.baseline)}${t.baselineWithWrites ? ' (BENCH_BASELINE_WRITES=1)' : ''}` : ''}.`);
    const cpu = cpuDetail(t.rounds);
    if (cpu) out.push(cpu);
  }
  if (r.signalLatency) {
    const l = r.signalLatency;
    out.push(`(b) ${l.samples} samples over ${l.remediations} remediations awaiting approval: p50 ${fmt(l.latencyMs.p50)} ms, p90 ${fmt(l.latencyMs.p90)} ms, p99 ${fmt(l.latencyMs.p99)} ms, max ${fmt(l.latencyMs.max)} ms; the API's 202 alone: p50 ${fmt(l.apiAnswerMs.p50)} ms, p99 ${fmt(l.apiAnswerMs.p99)} ms; ${l.timeouts} timeouts (> 10 s). Baseline (bare Temporal, each sample right after drw's): ${l.baseline.samples} samples, p50 ${fmt(l.baseline.latencyMs.p50)} ms, p90 ${fmt(l.baseline.latencyMs.p90)} ms, p99 ${fmt(l.baseline.latencyMs.p99)} ms, max ${fmt(l.baseline.latencyMs.max)} ms; the signal RPC alone p50 ${fmt(l.baseline.signalMs.p50)} ms; ${l.baseline.timeouts} timeouts.`);
  }
  if (r.ingest) {
    const g = r.ingest;
    out.push(`(c) ${g.detections} detections (${g.uniqueKeys} keys + ${g.repeats} repeats, shuffled), ${g.concurrency} in flight, ${fmt(seconds(g.ms))} s; answers started ${g.answers.started}, signalled ${g.answers.signalled}, errors ${g.answers.errors}; ${g.workflows} workflows, ${g.keysWithMoreThanOneWorkflow} keys with more than one; sum of findingCount ${g.findingCountSum} (consistent ${fmt(seconds(g.consistentAfterMs))} s after the burst).`);
  }
  if (r.memory) {
    const m = r.memory;
    out.push(`(d) workflow-only worker process, DRW_MAX_CACHED_WORKFLOWS=${m.maxCachedWorkflows}${m.mallocArenaMax ? `, MALLOC_ARENA_MAX=${m.mallocArenaMax}` : ''}: idle ${fmt(m.idleRssMiB)} MiB RSS (V8 heap after a full GC ${fmt(m.idleAfterGc.heapUsedMiB)} MiB main thread, ${fmt(m.idleAfterGc.workflowThreadHeapUsedMiB)} MiB workflow thread); ${m.points.map((p) => `${p.open} open → RSS ${fmt(p.rssMiB)} MiB (peak ${fmt(p.peakRssMiB)} MiB, opened at ${fmt(p.openedPerSecond)}/s), after a full GC: V8 heap ${fmt(p.heapUsedMiB)} MiB used of ${fmt(p.heapTotalMiB)} MiB in the main thread, ${fmt(p.workflowThreadHeapUsedMiB)} MiB used of ${fmt(p.workflowThreadHeapTotalMiB)} MiB in the workflow thread, external ${fmt(p.externalMiB)} MiB, RSS ${fmt(p.rssAfterGcMiB)} MiB${mapLine(p.map)}`).join('; ')}; RSS growth ${fmt(m.growthMiB)} MiB = ${fmt(m.bytesPerExtraRemediation)} bytes per extra remediation.`);
  }
  if (r.planner) {
    const p = r.planner;
    out.push(`(e) ${p.iterations} re-plans selecting ${p.selected} (the lowest-priority playbook, so every playbook is evaluated): p50 ${fmt(p.planUs.p50)} µs, mean ${fmt(p.planUs.mean)} µs, p99 ${fmt(p.planUs.p99)} µs (${fmt(p.plansPerSecond)} plans/s at the median); JSON round trip of the ${p.stateBytes}-byte planner state: p50 ${fmt(p.jsonRoundTripUs.p50)} µs, mean ${fmt(p.jsonRoundTripUs.mean)} µs; the default policy (6 playbooks): ${fmt(p.defaultPolicyPlanUs)} µs per plan.`);
  }
  if (r.replay) {
    const f = r.replay;
    const done = (r: ReplayRate) => `${r.histories / r.passes} histories × ${r.passes} passes (${r.events} events)`;
    out.push(`(f) drw: ${done(f.drw)} in ${fmt(seconds(f.drw.ms))} s = ${fmt(f.drw.perSecond)}/s, ${fmt(f.drw.eventsPerSecond)} events/s, ${f.drw.errors.length} replay errors; baseline: ${done(f.baseline)} = ${fmt(f.baseline.perSecond)}/s, ${fmt(f.baseline.eventsPerSecond)} events/s.`);
  }
  if (r.cluster) out.push(clusterDetails(r.cluster));
  return out;
}

const NOTES = [
  'Everything runs on this machine: a Temporal dev server of its own (SQLite in a fresh data directory, on RAM-backed /dev/shm when there is one so that the disk\'s fsync does not dominate — BENCH_DATA_DIR chooses another place; free ports), started from the CLI `./temporal-dev.sh path` resolves; drw\'s workers and HTTP API in the benchmark process with the in-process (instant) systems; the baseline worker in the same process.',
  '(a) closed loop: each of BENCH_CONCURRENCY lanes POSTs an EDR detection with risk 95 (no approval: ticket, contain, notify, verify, close) and waits for the workflow result; the baseline lanes start `baselineWorkflow` (bench/baseline-workflow.ts) with as many sequential no-op activity calls as a remediation makes (counted from warm-up histories). Rounds alternate the order; the figure is total completed / total time per side and their ratio.',
  '(b) sequential samples on remediations awaiting approval: POST /v1/remediations/{id}/risk (a riskScoreChanged signal), then the `plan` query back to back until plan.version moves; the time includes the HTTP hop and the query round trips. Each sample is followed by one of the baseline: `baselineAwaitingWorkflow` (bench/baseline-workflow.ts) signalled from the client (no HTTP hop), then its version query until it moves — what bare Temporal takes for the same round on the same server at the same moment.',
  '(c) the burst is shuffled so repeats race their first occurrence; one workflow per key is checked in visibility (every execution with the burst\'s DrwSource) and "none lost" by querying every remediation\'s findingCount.',
  '(d) the worker measured runs workflows only (DRW_WORKER_ROLES=workflows), its activities run in the benchmark process; RSS from /proc/<pid>/status (max of 10 samples over 5 s once every remediation reports awaiting_approval), then V8\'s heap after a forced full GC (the process runs dist/workers/main.js behind bench/worker-probe.ts, started with --expose-gc and MALLOC_ARENA_MAX (2 unless set, as deploy/Dockerfile runs drw), which answers on its IPC channel, and then reads where the resident memory lies from /proc/self/smaps, bench/memory-map.ts). Bounded means the RSS left after a forced full GC with the larger count is at most 1.25 × that with the smaller one (sampled RSS is reported too: it also holds garbage not yet collected, whose amount depends on when V8 last collected, not on the count).',
  '(e) no server: `buildPlan` re-planning a plan in progress (risk score alternating 70/71) for a generated 50-playbook policy (bench/planner-policy.ts) vs `JSON.parse(JSON.stringify(state))` of the same planner state, each call timed; medians (a preempted call on a shared machine skews the mean); ratio = planner time / round-trip time.',
  '(f) `Worker.runReplayHistories` over histories recorded in this run (the last throughput round), drw bundle vs baseline bundle, both with drw’s replay data converter (common/temporal.ts `replayDataConverterOf`: the codecs decoding only, as CI’s replays), after a warm-up replay of each; two passes per side in the order drw, baseline, baseline, drw (a machine whose speed drifts during the phase weighs on both alike); ratio = drw histories/s ÷ baseline histories/s over both passes.',
  'BENCH_SCALE multiplies every count (e.g. BENCH_SCALE=0.1 for a quick run: 40×2 remediations, 500 detections, 100/1,000 open remediations); BENCH_CONCURRENCY, BENCH_MAX_CACHED_WORKFLOWS and BENCH_SKIP=a,b,c,d,e,f,g adjust the run. Targets are reported, never asserted.',
  CLUSTER_NOTE,
];

/** Figures and verdicts from the measurements; results.json, RESULTS.md and the table on stdout. */
function writeResults(res: Results, out: string, rewrite = true): void {
  const { rows, targets } = figures(res.results);
  res.figures = rows;
  res.targets = targets;
  mkdirSync(out, { recursive: true });
  if (rewrite) {
    const json = JSON.stringify(res, (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? round(v, 6) : v), 2);
    writeFileSync(path.join(out, 'results.json'), `${json}\n`);
  }
  const md = markdown({ title: 'drw benchmark results', when: res.finishedAt ?? res.startedAt, scale: res.scale, machine: res.machine, rows, notes: NOTES, details: [...details(res.results), ...res.errors.map((e) => `error: ${e.split('\n')[0]}`)] });
  writeFileSync(path.join(out, 'RESULTS.md'), md);
  process.stdout.write(`\ndrw benchmark (BENCH_SCALE=${res.scale}, ${res.durationSeconds} s) on ${machineLine(res.machine)}\n\n${textTable(rows)}\n\n${details(res.results).join('\n')}\n`);
  for (const [k, t] of Object.entries(targets)) process.stdout.write(`target ${k}: ${t.target} → ${t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'} (${t.detail})\n`);
  if (res.errors.length) process.stdout.write(`\n${res.errors.length} phase(s) failed:\n${res.errors.map((e) => `  ${e.split('\n')[0]}`).join('\n')}\n`);
  process.stdout.write(`\nwritten: ${rewrite ? `${path.relative(process.cwd(), path.join(out, 'results.json'))}, ` : ''}${path.relative(process.cwd(), path.join(out, 'RESULTS.md'))}\n`);
}

async function main(): Promise<void> {
  // BENCH_RENDER=bench/results.json: the report again from recorded measurements (no run).
  if (process.env.BENCH_RENDER) {
    const file = path.resolve(process.cwd(), process.env.BENCH_RENDER);
    writeResults(JSON.parse(readFileSync(file, 'utf8')) as Results, path.dirname(file), false);
    return;
  }
  if (!(SCALE > 0 && SCALE <= 10)) throw new Error(`BENCH_SCALE must be in (0, 10], got ${process.env.BENCH_SCALE}`);
  const logger = createLogger(process.env.BENCH_LOG_LEVEL ?? 'warn', pino.destination(2));
  installSdkLogger(logger);
  const cli = temporalCli();
  const res: Results = {
    benchmark: 'drw',
    startedAt: new Date().toISOString(),
    scale: SCALE,
    counts: COUNTS,
    machine: machine(cli),
    temporal: {},
    results: {},
    targets: {},
    figures: [],
    errors: [],
  };
  progress(`scale ${SCALE}, run ${RUN}, ${machineLine(res.machine)}`);

  const phase = async <T>(key: string, name: string, fn: () => Promise<T> | T): Promise<T | undefined> => {
    if (SKIP.has(key)) {
      progress(`(${key}) ${name}: skipped (BENCH_SKIP)`);
      return undefined;
    }
    try {
      return await fn();
    } catch (e) {
      const msg = `(${key}) ${name} failed: ${(e as Error).stack ?? e}`;
      res.errors.push(msg.slice(0, 2000));
      progress(msg);
      return undefined;
    }
  };

  res.results.planner = await phase('e', 'planner', () => {
    progress(`(e) planner: ${COUNTS.playbooks} generated playbooks, no server`);
    const p = plannerPhase();
    progress(`(e)   ${p.planUs.p50.toFixed(1)} µs per plan vs ${p.jsonRoundTripUs.p50.toFixed(1)} µs JSON round trip (medians)`);
    return p;
  });

  const needServer = ['a', 'b', 'c', 'd', 'f', 'g'].some((k) => !SKIP.has(k));
  let ctx: Ctx | undefined;
  let server: DevServer | undefined;
  const stopAll = async () => {
    if (ctx) {
      if (ctx.baselineWorker.getState() === 'RUNNING') ctx.baselineWorker.shutdown();
      await ctx.baselineRun.catch(() => undefined);
      await ctx.app.close().catch(() => undefined);
      await ctx.connection.close().catch(() => undefined);
      await ctx.workerConnection.close().catch(() => undefined);
    }
    if (server) await server.stop({ clean: true });
  };
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    progress('interrupted: stopping what the benchmark started');
    void stopAll().finally(() => process.exit(130));
  });

  try {
    if (needServer) {
      progress('starting a Temporal dev server of its own');
      // The settings npm start's server has (temporal-dev.sh); BENCH_SERVER=stock for the CLI's own defaults.
      const stock = process.env.BENCH_SERVER === 'stock';
      server = await startDevServer({ cli, dataDir: mkdtempSync(path.join(benchDataRoot(), 'drw-bench-')), dynamicConfig: stock ? {} : drwDynamicConfig(), sqlitePragmas: stock ? [] : drwSqlitePragmas() });
      res.temporal = { address: server.address, dataDir: server.dataDir };
      serverPid = server.pid();
      progress(`  ${server.address}${server.uiUrl ? `, UI ${server.uiUrl}` : ''}, data ${server.dataDir}`);
      progress('bundling the drw and baseline workflows');
      const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => progress(m) } as never;
      const drwBundle = await bundleDrwWorkflows(quiet);
      const baselineBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./baseline-workflow'), logger: quiet });
      const cfg = loadConfig({ TEMPORAL_ADDRESS: server.address, DRW_TASK_QUEUE: `bench-drw-${RUN}`, DRW_API_PORT: '1', DRW_POLICY_DIR: benchPolicyDir(), DRW_LOG_LEVEL: 'warn', DRW_TIME_SCALE: '1', DRW_ARCHIVE: 'off', ...drwSettings() });
      cfg.api.port = 0;
      const app = await startApp({ cfg, logger, systems: createInProcessSystems({ autoMergeAfterMs: 0 }), workflowBundle: drwBundle });
      const connection = await Connection.connect({ address: server.address });
      const client = new Client({ connection, namespace: 'default', dataConverter: dataConverterOf(cfg) });
      const workerConnection = await NativeConnection.connect({ address: server.address });
      const baselineQueue = `bench-baseline-${RUN}`;
      const baselineWorker = await Worker.create({ connection: workerConnection, namespace: 'default', dataConverter: dataConverterOf(cfg), taskQueue: baselineQueue, workflowBundle: baselineBundle, activities: createBaselineActivities() });
      const baselineRun = baselineWorker.run();
      const baselineStarter = new Client({ connection: workerConnection, namespace: 'default', dataConverter: dataConverterOf(cfg) });
      ctx = { server, cfg, logger, app, client, connection, workerConnection, baselineStarter, drwBundle, baselineBundle, baselineQueue, baselineWorker, baselineRun };
      await eventually('drw workers polling', 30_000, async () => (app.workers.ready() ? true : undefined));
      progress(`  drw API ${app.apiUrl}, task queue ${cfg.taskQueue}; baseline task queue ${baselineQueue}`);
    }
    const c = ctx!;
    const tp = await phase('a', 'throughput', () => throughputPhase(c));
    res.results.throughput = tp?.result;
    if (tp) res.results.replay = await phase('f', 'replay', () => replayPhase(c, tp.drwIds, tp.baselineIds));
    else if (!SKIP.has('f')) res.errors.push('(f) replay needs the histories of (a)');
    res.results.signalLatency = await phase('b', 'signal latency', () => latencyPhase(c));
    res.results.ingest = await phase('c', 'ingest burst', () => ingestPhase(c));
    res.results.memory = await phase('d', 'worker memory', () => memoryPhase(c));
    res.results.cluster = await phase('g', 'cluster scale-out', () =>
      clusterPhase({ run: RUN, n: COUNTS.throughput, warmup: COUNTS.warmup, concurrency: CONCURRENCY, devServer: c.server, logDir: c.server.dataDir, logger: c.logger, progress, batch: (t, tag, n) => drwBatch({ ...c, ...t }, tag, n) }),
    );
  } finally {
    if (!interrupted) {
      progress('stopping the workers and the dev server');
      await stopAll();
    }
  }

  res.finishedAt = new Date().toISOString();
  res.machine.loadAverage!.end = os.loadavg();
  res.durationSeconds = Math.round((performance.now() - T0) / 100) / 10;
  writeResults(res, OUT);
  process.exitCode = res.errors.length ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
