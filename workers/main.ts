/**
 * A worker-only process for scaling out: `node dist/workers/main.js`. DRW_WORKER_ROLES picks
 * what it runs ("workflows", and/or activity kinds such as "ticketing,endpoint"); default all.
 * Point it at a production cluster or Temporal Cloud with TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE
 * and TEMPORAL_TLS_CERT/KEY or TEMPORAL_API_KEY.
 */
import { ConfigError, loadConfig } from '../common/config';
import { createLogger, installSdkLogger } from '../common/logger';
import { connectWorker } from '../common/temporal';
import { createActivities } from '../activities';
import { PolicyStore } from '../activities/policy-store';
import { buildSystems, preflightSystems } from '../activities/registry';
import { ACTIVITY_KINDS, type ActivityKind } from '../workflows/input';
import { createWorkers } from './index';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const logger = createLogger(cfg.logLevel);
  installSdkLogger(logger);
  const roles = (process.env.DRW_WORKER_ROLES ?? '').split(',').map((r) => r.trim()).filter(Boolean) as ('workflows' | ActivityKind)[];
  const unknown = roles.filter((r) => r !== 'workflows' && !(ACTIVITY_KINDS as readonly string[]).includes(r));
  if (unknown.length) throw new ConfigError([`DRW_WORKER_ROLES: unknown role(s) ${unknown.join(', ')} (workflows, ${ACTIVITY_KINDS.join(', ')})`]);
  const policy = new PolicyStore(cfg.policyDir);
  policy.get();
  const systems = buildSystems(process.env);
  if (!roles.length || roles.includes('cmdb')) await preflightSystems(systems);
  const connection = await connectWorker(cfg);
  const workers = await createWorkers({ cfg, connection, logger, activities: createActivities({ ...systems, policy: () => policy.get() }), roles: roles.length ? roles : undefined });
  logger.info({ providers: systems.providers, roles: roles.length ? roles : 'all' }, 'drw worker started');
  process.on('SIGINT', () => workers.shutdown());
  process.on('SIGTERM', () => workers.shutdown());
  await workers.run();
  await connection.close();
}

main().catch((e) => {
  process.stderr.write(`drw worker: ${e instanceof ConfigError ? e.message : (e as Error).message}\n`);
  process.exit(e instanceof ConfigError ? 2 : 1);
});
