import { fingerprint } from '../planner/hash';

/**
 * Workflow id for a deduplication key: readable (so the Temporal UI list makes sense),
 * URL-safe (it is a path segment of the API), and unique per key (the hash).
 */
export function remediationId(dedupeKey: string): string {
  const slug = dedupeKey
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return `drw-${slug ? `${slug}-` : ''}${fingerprint(dedupeKey)}`;
}

export const REMEDIATION_ID_PATTERN = /^drw-[a-z0-9-]{1,100}$/;
