import { statSync } from 'node:fs';
import { loadPolicyDir, policyFiles } from '../planner/load';
import type { PolicySet } from '../planner/policy-schema';

/**
 * The worker's current policy set: re-read when a file in the folder changes (checked at
 * most once a second), so `policyUpdated` after editing the files picks the new version.
 * A broken edit keeps the last good version and reports the error.
 */
export class PolicyStore {
  private current?: PolicySet;
  private stamp = '';
  private checkedAt = 0;
  lastError?: Error;

  constructor(readonly dir: string) {}

  get(): PolicySet {
    const now = Date.now();
    if (this.current && now - this.checkedAt < 1000) return this.current;
    this.checkedAt = now;
    const stamp = policyFiles(this.dir)
      .map((f) => `${f}:${statSync(f).mtimeMs}:${statSync(f).size}`)
      .join('|');
    if (this.current && stamp === this.stamp) return this.current;
    try {
      this.current = loadPolicyDir(this.dir);
      this.stamp = stamp;
      this.lastError = undefined;
    } catch (e) {
      this.lastError = e as Error;
      if (!this.current) throw e;
    }
    return this.current;
  }
}
