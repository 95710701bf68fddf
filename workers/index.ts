/**
 * drw's workers: one for the remediation workflows, and one per kind of system on its own
 * task queue, so each integration can be scaled and rate-limited on its own
 * (maxTaskQueueActivitiesPerSecond is enforced by the Temporal server across all workers of
 * that queue). Run them all in one process (npm start) or spread them over many.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { DrwConfig } from '../common/config';
import { dataConverterOf } from '../common/temporal';
import { workflowSourceOptions } from './workflow-bundle';
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

export async function createWorkers(o: WorkerSetOptions): Promise<WorkerSet> {
  const roles = o.roles ?? ['workflows', ...ACTIVITY_KINDS];
  const dataConverter = dataConverterOf(o.cfg);
  const common = { connection: o.connection, namespace: o.cfg.temporal.namespace, ...(dataConverter ? { dataConverter } : {}), ...(o.identity ? { identity: o.identity } : {}) };
  const workers: Worker[] = [];
  if (roles.includes('workflows')) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: o.cfg.taskQueue,
        ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : workflowSourceOptions()),
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
