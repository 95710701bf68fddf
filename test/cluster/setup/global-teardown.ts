import { execFileSync } from 'node:child_process';
import { CLUSTER } from './global-setup';

/** Stops the cluster only if this run started it (DRW_CLUSTER_KEEP=1 leaves it up for the next run). */
export default async function globalTeardown(): Promise<void> {
  if ((globalThis as Record<string, unknown>).__DRW_CLUSTER_STARTED__ && process.env.DRW_CLUSTER_KEEP !== '1') {
    execFileSync(CLUSTER, ['stop'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
