/**
 * The audit worker: the audit activities on their own task queue, so sealing never waits
 * behind vendor calls and can be scaled (or rate-limited) on its own.
 */
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createAuditActivities } from '../activities/audit';
import type { DrwConfig } from '../common/config';
import { dataConverterOf, payloadCodecOf } from '../common/temporal';
import type { Archive } from './archive';
import { auditTaskQueue } from './schedule';
import { buildIdOf } from '../workers';

export async function createAuditWorker(o: { cfg: DrwConfig; connection: NativeConnection; client: Client; archive: Archive; identity?: string }): Promise<Worker> {
  return Worker.create({
    connection: o.connection,
    namespace: o.cfg.temporal.namespace,
    taskQueue: auditTaskQueue(o.cfg),
    buildId: buildIdOf(),
    activities: createAuditActivities({ client: o.client, archive: o.archive, codec: payloadCodecOf(o.cfg) }),
    dataConverter: dataConverterOf(o.cfg),
    ...(o.identity ? { identity: o.identity } : {}),
  });
}
