/**
 * drw's workers: one for the remediation workflows, and one per kind of system on its own
 * task queue, so each integration can be scaled and rate-limited on its own
 * (maxTaskQueueActivitiesPerSecond is enforced by the Temporal server across all workers of
 * that queue). Run them all in one process (npm start) or spread them over many.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { REPO_ROOT, type DrwConfig } from '../common/config';
import { dataConverterOf } from '../common/temporal';
import { bundleDrwWorkflows } from './workflow-bundle';
import type { Activities } from '../activities';
import { ACTIVITIES_OF, ACTIVITY_KINDS, type ActivityKind } from '../remediation/routing';
import type { Logger } from '../common/logger';

export interface WorkerSetOptions {
  cfg: DrwConfig;
  connection: NativeConnection;
  activities: Activities;
  logger: Logger;
  /** Pre-built workflow bundle (tests build it once); otherwise bundled from workflows/. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Which parts to run (default: all): "workflows" and/or activity kinds. */
  roles?: ('workflows' | ActivityKind)[];
  identity?: string;
}

export interface WorkerSet {
  workers: Worker[];
  run(): Promise<void>;
  shutdown(): void;
  /** True once every worker polls its task queue. */
  ready(): boolean;
}

const DRW_VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * What history stamps on every workflow task (and activity) a worker runs: drw's version, and for
 * the workflow worker the first 12 hex digits of its bundle's SHA-256. The SDK's default names
 * the SDK and all 64 digits, about 60 bytes more in each of the ~18 workflow-task events of a
 * remediation (a tenth of its history); 12 digits tell two bundles apart as surely in practice.
 */
export function buildIdOf(bundleCode?: string): string {
  return bundleCode === undefined ? `drw@${DRW_VERSION}` : `drw@${DRW_VERSION}+${createHash('sha256').update(bundleCode).digest('hex').slice(0, 12)}`;
}

/** The bundle to give Worker.create, and the build id that names it (the bundle hashed once). */
async function workflowBundleOf(given: WorkerOptions['workflowBundle']): Promise<{ bundle: NonNullable<WorkerOptions['workflowBundle']>; buildId: string }> {
  if (given) return { bundle: given, buildId: buildIdOf('code' in given ? given.code : readFileSync(given.codePath, 'utf8')) };
  // Bundled here rather than by Worker.create, so the build id can name the code (with the SDK's logger, as Worker.create
  // would). Handed over as a file: a worker keeps its options, and a bundle given as a string (code and source map, ~13 MiB)
  // would stay in memory beside the copy the worker runs.
  const { code } = await bundleDrwWorkflows(Runtime.instance().logger);
  const buildId = buildIdOf(code);
  const codePath = path.join(os.tmpdir(), `drw-workflows-${buildId.replace(/[^a-z0-9.+-]/gi, '_')}.js`);
  if (!existsSync(codePath)) {
    const partial = `${codePath}.${process.pid}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, codePath);
  }
  return { bundle: { codePath }, buildId };
}

export async function createWorkers(o: WorkerSetOptions): Promise<WorkerSet> {
  const roles = o.roles ?? ['workflows', ...ACTIVITY_KINDS];
  const common = { connection: o.connection, namespace: o.cfg.temporal.namespace, dataConverter: dataConverterOf(o.cfg), ...(o.identity ? { identity: o.identity } : {}) };
  const workers: Worker[] = [];
  if (roles.includes('workflows')) {
    const { bundle, buildId } = await workflowBundleOf(o.workflowBundle);
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: o.cfg.taskQueue,
        workflowBundle: bundle,
        buildId,
        ...(o.cfg.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: o.cfg.maxCachedWorkflows } : {}),
      }),
    );
  }
  for (const kind of ACTIVITY_KINDS) {
    if (!roles.includes(kind)) continue;
    const acts = Object.fromEntries(ACTIVITIES_OF[kind].map((name) => [name, o.activities[name]]));
    const limit = o.cfg.rateLimits[kind];
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: o.cfg.activityQueues[kind],
        buildId: buildIdOf(),
        activities: acts,
        ...(limit ? { maxTaskQueueActivitiesPerSecond: limit } : {}),
      }),
    );
  }
  o.logger.info({ taskQueues: workers.map((w) => w.options.taskQueue), rateLimits: o.cfg.rateLimits }, 'workers created');
  return {
    workers,
    run: async () => {
      await Promise.all(workers.map((w) => w.run()));
    },
    shutdown: () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
    ready: () => workers.every((w) => w.getState() === 'RUNNING'),
  };
}
