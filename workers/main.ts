/**
 * A worker-only process for scaling out: `node dist/workers/main.js`. DRW_WORKER_ROLES picks
 * what it runs ("workflows", and/or activity kinds such as "ticketing,endpoint"); default all.
 * Point it at a production cluster or Temporal Cloud with TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE
 * and TEMPORAL_TLS_CERT/KEY or TEMPORAL_API_KEY. DRW_HEALTH_PORT (and DRW_HEALTH_HOST, default
 * 127.0.0.1) opens GET /healthz: 200 once every worker polls its task queue, for liveness and
 * readiness probes.
 */
import http from 'node:http';
import { ConfigError, loadConfig } from '../common/config';
import { createLogger, installSdkLogger } from '../common/logger';
import { connectClient, connectWorker } from '../common/temporal';
import { openArchive } from '../audit';
import { createAuditWorker } from '../audit/worker';
import { ensureSealSchedule } from '../audit/schedule';
import { createActivities } from '../activities';
import { PolicyStore } from '../activities/policy-store';
import { buildSystems, preflightSystems, unprovidedServed } from '../activities/registry';
import { ACTIVITY_KINDS, type ActivityKind } from '../workflows/input';
import { createWorkers } from './index';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const logger = createLogger(cfg.logLevel);
  installSdkLogger(logger);
  const roles = (process.env.DRW_WORKER_ROLES ?? '').split(',').map((r) => r.trim()).filter(Boolean) as ('workflows' | 'audit' | ActivityKind)[];
  const unknown = roles.filter((r) => r !== 'workflows' && r !== 'audit' && !(ACTIVITY_KINDS as readonly string[]).includes(r));
  if (unknown.length) throw new ConfigError([`DRW_WORKER_ROLES: unknown role(s) ${unknown.join(', ')} (workflows, audit, ${ACTIVITY_KINDS.join(', ')})`]);
  const drwRoles = roles.filter((r): r is 'workflows' | ActivityKind => r !== 'audit');
  const policy = new PolicyStore(cfg.policyDir);
  policy.get();
  const systems = buildSystems(process.env);
  if (!roles.length || roles.includes('cmdb')) await preflightSystems(systems);
  const connection = await connectWorker(cfg);
  const workers = await createWorkers({ cfg, connection, logger, activities: createActivities({ ...systems, unprovided: unprovidedServed(systems.unprovided, roles.length ? roles : undefined), policy: () => policy.get() }), roles: roles.length ? drwRoles : undefined });
  // The audit role seals closed runs into the archive (and keeps the sweep schedule in place).
  const archive = !roles.length || roles.includes('audit') ? openArchive(cfg.audit) : undefined;
  const { client, connection: clientConnection } = archive ? await connectClient(cfg) : { client: undefined, connection: undefined };
  const audit = archive && client ? await createAuditWorker({ cfg, connection, client, archive }) : undefined;
  if (audit && client) await ensureSealSchedule(client, cfg);
  const health = cfg.health.port === undefined ? undefined : healthServer(cfg.health.host, cfg.health.port, () => workers.ready());
  // Neither the policy engine nor the finding sources back a step: without them nothing is blocked.
  // Kinds plan steps run on; the policy engine and finding sources answer "no answer" themselves, change control is not planned yet.
  const closed = Object.entries(systems.providers).filter(([k, v]) => v === 'none' && (ACTIVITY_KINDS as readonly string[]).includes(k)).map(([k]) => k);
  if (closed.length) logger.warn({ kinds: closed }, `no provider configured for ${closed.join(', ')}: their steps are blocked with the reason (set DRW_<KIND> and its variables, or DRW_ALLOW_INPROCESS=1 for the in-process stand-ins)`);
  logger.info({ providers: systems.providers, roles: roles.length ? roles : 'all', ...(cfg.health.port ? { health: `${cfg.health.host}:${cfg.health.port}` } : {}) }, 'drw worker started');
  const stop = () => {
    workers.shutdown();
    if (audit?.getState() === 'RUNNING') audit.shutdown();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await Promise.all([workers.run(), audit?.run()]);
  health?.close();
  await clientConnection?.close();
  await connection.close();
}

function healthServer(host: string, port: number, ready: () => boolean): http.Server {
  return http
    .createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/healthz') return void res.writeHead(404).end();
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'starting' }));
    })
    .listen(port, host);
}

main().catch((e) => {
  process.stderr.write(`drw worker: ${e instanceof ConfigError ? e.message : (e as Error).message}\n`);
  process.exit(e instanceof ConfigError ? 2 : 1);
});
