/**
 * The cluster suite's global setup: `deploy/local-cluster start` (idempotent; the first run
 * builds the Temporal server and creates the PostgreSQL cluster), its TEMPORAL_ADDRESS and
 * TEMPORAL_NAMESPACE for the tests, and dist/ built for the drw processes they start.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ensureBuilt } from '../../faults/setup/global-setup';

export const CLUSTER = path.resolve(__dirname, '..', '..', '..', 'deploy', 'local-cluster');

function running(): boolean {
  try {
    execFileSync(CLUSTER, ['status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default async function globalSetup(): Promise<void> {
  const wasUp = running();
  const t0 = Date.now();
  if (!wasUp) process.stderr.write('\n[cluster] starting deploy/local-cluster...\n');
  execFileSync(CLUSTER, ['start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (!wasUp) process.stderr.write(`[cluster] up in ${Math.round((Date.now() - t0) / 1000)} s\n`);
  (globalThis as Record<string, unknown>).__DRW_CLUSTER_STARTED__ = !wasUp;
  for (const line of execFileSync(CLUSTER, ['env'], { encoding: 'utf8' }).trim().split('\n')) {
    const [k, v] = line.split('=');
    process.env[k] = v;
  }
  ensureBuilt();
}
