/**
 * The audit worker: the audit activities on their own task queue, so sealing never waits
 * behind vendor calls and can be scaled (or rate-limited) on its own.
 */
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createAuditActivities } from '../activities/audit';
import type { DrwConfig } from '../common/config';
import { dataConverterOf } from '../common/temporal';
import type { Archive } from './archive';
import { EncryptionCodec } from './codec';
import { auditTaskQueue } from './schedule';

export async function createAuditWorker(o: { cfg: DrwConfig; connection: NativeConnection; client: Client; archive: Archive; identity?: string }): Promise<Worker> {
  const dataConverter = dataConverterOf(o.cfg);
  return Worker.create({
    connection: o.connection,
    namespace: o.cfg.temporal.namespace,
    taskQueue: auditTaskQueue(o.cfg),
    activities: createAuditActivities({ client: o.client, archive: o.archive, codec: o.cfg.audit.keys ? new EncryptionCodec(o.cfg.audit.keys) : undefined }),
    ...(dataConverter ? { dataConverter } : {}),
    ...(o.identity ? { identity: o.identity } : {}),
  });
}
