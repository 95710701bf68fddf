import { createHash } from 'node:crypto';
import { INSTANCE_PATTERN } from '../../../common/remediation-ref';

const PREFIX = 'drw:';
/** The incident field holds 100 characters. */
const READABLE = /^[a-z0-9_.:@~-]{1,96}$/;

/**
 * correlation_id (max 100 chars) ties incidents to one remediation, since the Table API has no
 * idempotency key, and names the remediation in a business rule's callback. Queries compare it
 * case-insensitively, so only lower-case refs stay readable; longer or other refs are hashed
 * (such an incident is then followed by polling only).
 */
export function correlationId(remediationRef: string): string {
  if (READABLE.test(remediationRef)) return `${PREFIX}${remediationRef}`;
  const readable = remediationRef.toLowerCase().replace(/[^a-z0-9_.:@-]+/g, '_').slice(0, 60);
  return `${PREFIX}${readable}-${createHash('sha256').update(remediationRef).digest('hex').slice(0, 16)}`;
}

/** The remediation instance a readable correlation id names, if it is one. */
export function remediationRefOfCorrelation(correlation: string | null | undefined): string | undefined {
  if (typeof correlation !== 'string' || !correlation.startsWith(PREFIX)) return undefined;
  const ref = correlation.slice(PREFIX.length);
  return INSTANCE_PATTERN.test(ref) && correlationId(ref) === correlation ? ref : undefined;
}
