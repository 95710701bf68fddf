/**
 * The benchmark's phase (g), scale-out: the throughput loop of (a) against drw deployed as in
 * production — the HTTP API alone (in the benchmark process, no workers), one process for every
 * integration kind, and one or two workflow-worker processes (`node dist/workers/main.js`) — on
 * the benchmark's own dev server (SQLite) and on deploy/local-cluster (the Temporal server on
 * PostgreSQL), in the same run. The CPU each process used during the timed batch (from
 * /proc/<pid>/stat) says where the bottleneck is.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { App } from '../cli/app';
import { startApp } from '../cli/app';
import { loadConfig } from '../common/config';
import { benchPolicyDir } from './policy-dir';
import { machineBusySeconds, processCpuSeconds } from './cpu';
import type { Logger } from '../common/logger';
import { connectClient } from '../common/temporal';
import { ACTIVITY_KINDS } from '../workflows/input';
import { REPO } from './devserver';
import { WorkerProcess } from './drw-process';
import { fmt, type FigureRow } from './report';
import { ratio, type Summary } from './stats';

const CLUSTER = path.join(REPO, 'deploy', 'local-cluster');

export interface BatchFigures {
  n: number;
  ms: number;
  perSecond: number;
  failures: number;
  latencyMs: Summary;
}

export interface ClusterPhaseOptions {
  run: string;
  n: number;
  warmup: number;
  concurrency: number;
  devServer: { address: string; pid(): number | undefined };
  logDir: string;
  logger: Logger;
  progress(msg: string): void;
  /** (a)'s closed loop (bench/run.ts drwBatch) against this API and client. */
  batch(target: { app: App; client: Client }, tag: string, n: number): Promise<BatchFigures>;
}

export interface ClusterRun {
  server: 'dev server' | 'cluster';
  workflowWorkers: number;
  batch: BatchFigures;
  /** CPU cores each role used on average during the timed batch (CPU seconds ÷ wall seconds). */
  cores: Record<string, number>;
}

export interface ClusterResult {
  n: number;
  concurrency: number;
  runs: ClusterRun[];
  /** Two workflow workers ÷ one, on the cluster. */
  twoOverOne: number | null;
  /** Cluster ÷ dev server, one workflow worker each. */
  clusterOverDev: number | null;
  cpus: number;
}

/** Every PostgreSQL process on the machine (the cluster's server and its backends). */
function postgresPids(): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function clusterServerPid(): number | undefined {
  const dataDir = process.env.DRW_DATA_DIR ?? path.join(REPO, '.drw');
  try {
    return Number(readFileSync(path.join(dataDir, 'cluster', 'server.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** Starts deploy/local-cluster; `started` says whether it was down before (then the phase stops it). */
function startCluster(progress: (m: string) => void): { address: string; namespace: string; started: boolean } {
  let started = false;
  try {
    execFileSync(CLUSTER, ['status'], { stdio: 'ignore' });
  } catch {
    started = true;
  }
  progress('(g) deploy/local-cluster start (the first time builds the Temporal server and creates PostgreSQL)');
  execFileSync(CLUSTER, ['start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const env = Object.fromEntries(execFileSync(CLUSTER, ['env'], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split('=') as [string, string]));
  return { address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE, started };
}

async function measure(o: ClusterPhaseOptions, target: { server: ClusterRun['server']; address: string; namespace: string; serverPid?: number }, workflowWorkers: number): Promise<ClusterRun> {
  const label = `${target.server === 'cluster' ? 'cluster' : 'dev'}-${workflowWorkers}`;
  // In-process systems, asked for explicitly (workers fail closed otherwise); the bench's policy (bench/policy-dir.ts).
  const env = { TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, DRW_TASK_QUEUE: `bench-${label}-${o.run}`, DRW_TIME_SCALE: '1', DRW_LOG_LEVEL: 'info', DRW_ALLOW_INPROCESS: '1', DRW_POLICY_DIR: benchPolicyDir() };
  const activities = new WorkerProcess({ ...env, DRW_WORKER_ROLES: ACTIVITY_KINDS.join(',') }, path.join(o.logDir, `${label}-activities.log`));
  const workflows = Array.from({ length: workflowWorkers }, (_, i) => new WorkerProcess({ ...env, DRW_WORKER_ROLES: 'workflows' }, path.join(o.logDir, `${label}-workflows-${i + 1}.log`)));
  const cfg = loadConfig({ ...env, DRW_API_PORT: '1', DRW_LOG_LEVEL: 'warn' });
  cfg.api.port = 0;
  let app: App | undefined;
  let conn: Awaited<ReturnType<typeof connectClient>> | undefined;
  try {
    o.progress(`(g) ${label}: starting 1 activity worker and ${workflowWorkers} workflow-worker process(es) against ${target.server} ${target.address}`);
    for (const p of [activities, ...workflows]) await p.start();
    app = await startApp({ cfg, logger: o.logger, workers: false });
    conn = await connectClient(cfg);
    const t = { app, client: conn.client };
    await o.batch(t, `${label}-warm`, o.warmup);
    const roles: Record<string, () => number[]> = {
      'workflow workers': () => workflows.map((w) => w.child?.pid ?? 0),
      'activity worker': () => [activities.child?.pid ?? 0],
      'API + load (bench process)': () => [process.pid],
      'Temporal server': () => (target.serverPid ? [target.serverPid] : []),
      ...(target.server === 'cluster' ? { PostgreSQL: postgresPids } : {}),
    };
    const sample = (): Record<string, number> => ({ ...Object.fromEntries(Object.entries(roles).map(([k, pids]) => [k, pids().reduce((a, p) => a + processCpuSeconds(p), 0)])), machine: machineBusySeconds() });
    const before = sample();
    const batch = await o.batch(t, label, o.n);
    const after = sample();
    const cores: Record<string, number> = Object.fromEntries(Object.keys(roles).map((k) => [k, (after[k] - before[k]) / (batch.ms / 1000)]));
    // What the rest of the machine (other users' processes) took meanwhile: on a shared machine, often the real bottleneck.
    cores['rest of the machine'] = Math.max(0, (after.machine - before.machine) / (batch.ms / 1000) - Object.values(cores).reduce((a, b) => a + b, 0));
    o.progress(`(g)   ${label}: ${batch.perSecond.toFixed(1)}/s, p50 ${batch.latencyMs.p50.toFixed(0)} ms, failures ${batch.failures}; cores ${Object.entries(cores).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    return { server: target.server, workflowWorkers, batch, cores };
  } finally {
    await app?.close().catch(() => undefined);
    await conn?.connection.close().catch(() => undefined);
    for (const p of [...workflows, activities]) await p.stop();
  }
}

export async function clusterPhase(o: ClusterPhaseOptions): Promise<ClusterResult> {
  const cluster = startCluster(o.progress);
  const runs: ClusterRun[] = [];
  try {
    runs.push(await measure(o, { server: 'dev server', address: o.devServer.address, namespace: 'default', serverPid: o.devServer.pid() }, 1));
    for (const k of [1, 2]) runs.push(await measure(o, { server: 'cluster', address: cluster.address, namespace: cluster.namespace, serverPid: clusterServerPid() }, k));
  } finally {
    if (cluster.started) execFileSync(CLUSTER, ['stop'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const rate = (server: ClusterRun['server'], k: number) => runs.find((r) => r.server === server && r.workflowWorkers === k)!.batch.perSecond;
  return {
    n: o.n,
    concurrency: o.concurrency,
    runs,
    twoOverOne: ratio(rate('cluster', 2), rate('cluster', 1)),
    clusterOverDev: ratio(rate('cluster', 1), rate('dev server', 1)),
    cpus: (() => {
      try {
        return readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length;
      } catch {
        return 0;
      }
    })(),
  };
}

const runLabel = (r: ClusterRun) => `${r.server}, ${r.workflowWorkers} workflow worker${r.workflowWorkers > 1 ? 's' : ''}`;

export function clusterRows(c: ClusterResult): FigureRow[] {
  const dev = c.runs.find((r) => r.server === 'dev server');
  return c.runs.map((r) => ({
    key: 'g',
    measure: `remediations/s, separate processes: ${runLabel(r)}`,
    value: `${fmt(r.batch.perSecond)}/s`,
    baseline: r === dev || !dev ? '' : `dev server ${fmt(dev.batch.perSecond)}/s`,
    ratio: r === dev || !dev ? '' : fmt(ratio(r.batch.perSecond, dev.batch.perSecond)),
    target: '',
    verdict: r.batch.failures ? 'missed' : 'n/a',
  }));
}

export function clusterDetails(c: ClusterResult): string {
  const busiest = (r: ClusterRun) => Object.entries(r.cores).sort((a, b) => b[1] - a[1])[0];
  const total = (r: ClusterRun) => Object.entries(r.cores).reduce((a, [k, v]) => (k === 'rest of the machine' ? a : a + v), 0);
  return `(g) ${c.n} remediations per configuration, ${c.concurrency} in flight, after a warm-up; two workflow workers ÷ one (cluster) ${fmt(c.twoOverOne)}, cluster ÷ dev server (one workflow worker) ${fmt(c.clusterOverDev)}. CPU cores used during each batch (${c.cpus} on this machine): ${c.runs
    .map((r) => `${runLabel(r)} — ${Object.entries(r.cores).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')} (drw and Temporal ${fmt(total(r))}; busiest: ${busiest(r)[0]}); p50 ${fmt(r.batch.latencyMs.p50)} ms, failures ${r.batch.failures}`)
    .join('; ')}.`;
}

export const CLUSTER_NOTE =
  '(g) the same closed loop as (a), with drw deployed as separate processes: the API alone in the benchmark process (startApp with workers: false), one `node dist/workers/main.js` for every integration kind (in-process systems), and one or two with DRW_WORKER_ROLES=workflows; first on the benchmark\'s dev server (SQLite), then on deploy/local-cluster (Temporal server v1.29.1 on PostgreSQL, 4 history shards, one task-queue partition). CPU per process from /proc/<pid>/stat over the timed batch.';
