import { createHash } from 'node:crypto';
import { BRANCH_PREFIX } from './workspace';

/**
 * The branch for one planned change: a function of the template and the idempotency key only,
 * so every retry of the same step lands on the same branch and finds its own earlier work.
 */
export function branchName(template: string, idempotencyKey: string): string {
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 12);
  return `${BRANCH_PREFIX}${template.replace(/[^A-Za-z0-9_-]/g, '-')}/${hash}`;
}
