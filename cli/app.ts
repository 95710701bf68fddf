/**
 * Wires one drw process: Temporal connections, workers, and the HTTP API. Used by
 * `npm start` and by the end-to-end tests, so both run the same assembly.
 */
import type { FastifyInstance } from 'fastify';
import { Client } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { PolicyStore } from '../activities/policy-store';
import { assertSafeExposure, createAuth } from '../api/auth';
import { loadAccessPolicy, type AccessPolicy } from '../api/auth/access';
import { apiRoutes } from '../api/routes';
import { createApi, listen } from '../api/server';
import { approvalPages } from '../api/ui';
import { RemediationService } from '../api/service';
import { loadApprovalSettings } from '../governance/approval-settings';
import type { DrwConfig } from '../common/config';
import type { Logger } from '../common/logger';
import { connectClient, connectWorker, dataConverterOf } from '../common/temporal';
import { createWorkers, type WorkerSet } from '../workers';
import { openArchive, type Archive } from '../audit';
import { createAuditWorker } from '../audit/worker';
import { ensureSealSchedule } from '../audit/schedule';

export interface App {
  apiUrl?: string;
  /** The sealed audit archive, unless DRW_ARCHIVE=off. */
  archive?: Archive;
  service: RemediationService;
  workers: WorkerSet;
  policy: PolicyStore;
  /** Resolves when the workers stop (after close() or a fatal worker error). */
  done: Promise<void>;
  close(): Promise<void>;
}

export interface AppOptions {
  cfg: DrwConfig;
  logger: Logger;
  /** What the activities talk to; needed only when this process runs workers. */
  systems?: Omit<ActivityDeps, 'policy'>;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Start the HTTP API (default true). */
  api?: boolean;
  /** Run drw's workers in this process (default true); false: the API alone, its workers run elsewhere. */
  workers?: boolean;
  defaultIdentity?: string;
}

export async function startApp(o: AppOptions): Promise<App> {
  const policy = new PolicyStore(o.cfg.policyDir);
  policy.get(); // refuse to start on an invalid policy
  // Refuse bad credentials, and a non-loopback address without authentication, before connecting anything.
  const apiLogger = o.logger.child({ component: 'api' });
  let auth: ReturnType<typeof createAuth> | undefined;
  let access: AccessPolicy | undefined;
  if (o.api !== false) {
    assertSafeExposure(o.cfg.api.host, o.cfg.auth);
    access = loadAccessPolicy(o.cfg.api.accessPolicy);
    auth = createAuth(o.cfg.auth, { logger: apiLogger, access });
  }
  const workerConnection = o.workers !== false ? await connectWorker(o.cfg) : undefined;
  const { client, connection } = await connectClient(o.cfg);
  let workers: WorkerSet;
  if (workerConnection) {
    if (!o.systems) throw new Error('startApp: systems are required when the process runs workers');
    const activities = createActivities({ ...o.systems, policy: () => policy.get() });
    workers = await createWorkers({ cfg: o.cfg, connection: workerConnection, activities, logger: o.logger, workflowBundle: o.workflowBundle });
  } else {
    workers = noWorkers();
  }
  // The sealed audit archive: its worker runs beside drw's workers, and the sweep schedule with them.
  const archive = openArchive(o.cfg.audit);
  const audit = archive && workerConnection ? await createAuditWorker({ cfg: o.cfg, connection: workerConnection, client, archive }) : undefined;
  if (audit) await ensureSealSchedule(client, o.cfg);
  // Approvals through this API are signed; remediations it starts trust only its key.
  const approvals = o.api !== false ? loadApprovalSettings(o.cfg.approvals, { apiHost: o.cfg.api.host, usersAuthenticated: Boolean(auth?.users) }) : undefined;
  if (approvals) {
    apiLogger.info(
      { kid: approvals.signer.public.kid, key: approvals.keySource, unsignedApprovals: approvals.trust.unsigned, digestRequired: approvals.trust.requireDigest },
      'approvals are signed by this API; remediations it starts accept no other',
    );
  }
  // Eager start (DRW_EAGER_START): the remediations this API starts begin on this process's workflow worker, one
  // dispatch through the server fewer (about a tenth of the server's CPU per remediation on the bench). The SDK
  // allows it only on the worker's own connection; an API without workers starts the ordinary way.
  const eager = workerConnection && o.cfg.eagerStart ? new Client({ connection: workerConnection, namespace: o.cfg.temporal.namespace, dataConverter: dataConverterOf(o.cfg) }) : undefined;
  const service = new RemediationService(client, o.cfg, () => policy.get(), approvals, access?.correlate, eager);
  const done = Promise.all([workers.run(), audit?.run()]).then(() => undefined);
  let server: FastifyInstance | undefined;
  let apiUrl: string | undefined;
  if (auth) {
    if (!auth.users && !auth.ingest) apiLogger.info(`API on ${o.cfg.api.host} without authentication (the loopback default): anyone on this machine may submit, read, operate and approve under any name; set DRW_JWT_* and DRW_INGEST_* before exposing it`);
    else for (const line of auth.describe()) apiLogger.info(`authentication: ${line}`);
    server = await createApi({
      logger: apiLogger,
      ready: workers.ready,
      auth,
      host: o.cfg.api.host,
      settings: o.cfg.api,
      routes: apiRoutes({
        service,
        client,
        logger: apiLogger,
        users: auth.users,
        archive,
        defaultIdentity: o.defaultIdentity,
        ingestLimits: o.cfg.ingest,
        ...(o.cfg.api.slack ? { slack: { settings: o.cfg.api.slack, access: access!, publicUrl: o.cfg.api.publicUrl } } : {}),
      }),
      ui: approvalPages({ cfg: o.cfg, service, client, access: access!, auth, logger: apiLogger }),
    });
    apiUrl = await listen(server, o.cfg.api.host, o.cfg.api.port);
  }
  let closing: Promise<void> | undefined;
  return {
    apiUrl,
    ...(archive ? { archive } : {}),
    service,
    workers,
    policy,
    done,
    close: () =>
      (closing ??= (async () => {
        if (server) await server.close();
        workers.shutdown();
        if (audit?.getState() === 'RUNNING') audit.shutdown();
        await done.catch(() => undefined);
        await connection.close();
        await workerConnection?.close();
      })()),
  };
}

/** The API-only process's stand-in: ready at once (its health is the API's), running until shut down. */
function noWorkers(): WorkerSet {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  return { workers: [], run: () => stopped, shutdown: () => stop(), ready: () => true };
}
