import { createHash } from 'node:crypto';
import { INSTANCE_PATTERN } from '../../../common/remediation-ref';

/** What follows `drw-` in a readable label: a remediation id, or its instance `<id>~<first run id>`. */
const READABLE = /^[a-z0-9_.~-]{1,200}$/;
const PREFIX = 'drw-';

/**
 * The label that ties issues to one remediation: Jira has no idempotency key for creates, so
 * openTicket searches by it first, and a webhook names the remediation through it. Readable when
 * the ref is already a safe lower-case label (label matching in JQL is not reliably
 * case-sensitive), hashed otherwise (such an issue is then followed by polling only).
 */
export function remediationLabel(remediationRef: string): string {
  if (READABLE.test(remediationRef)) return `${PREFIX}${remediationRef}`;
  const readable = remediationRef.toLowerCase().replace(/[^a-z0-9_.-]+/g, '_').slice(0, 60);
  const hash = createHash('sha256').update(remediationRef).digest('hex').slice(0, 16);
  return `${PREFIX}${readable}-${hash}`;
}

/** The remediation instance a readable drw label names, if any of `labels` is one. */
export function remediationRefOfLabels(labels: readonly unknown[]): string | undefined {
  for (const label of labels) {
    if (typeof label !== 'string' || !label.startsWith(PREFIX)) continue;
    const ref = label.slice(PREFIX.length);
    if (INSTANCE_PATTERN.test(ref) && remediationLabel(ref) === label) return ref;
  }
  return undefined;
}
