import { z } from 'zod';
import type { Detection } from '../domain/detection';
import type { SourceFindingRef } from '../activities/interfaces';

/**
 * Where a finding lives at a source drw can re-query (GitHub alerts, AWS Security Hub), read from
 * what the ingest normalizers keep in `details`. Pure and free of Node imports: the workflow may
 * build its `source_finding` check from the detection it was started with.
 */

/** AWS region names (us-east-1, us-gov-west-1, cn-north-1): a template placeholder is no region. */
export const AWS_REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** GitHub's owner and repository names; "." and ".." would climb out of the API path. */
const REPOSITORY_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\/(?!\.\.?$)[A-Za-z0-9_.-]+$/;
/** arn:<partition>:securityhub:<region>:<account or empty>:product/<company>/<product>. */
const PRODUCT_ARN_RE = /^arn:aws[a-z-]*:securityhub:[a-z0-9-]*:\d{0,12}:product\/[^/\s]+\/[^/\s]+$/;

/** The same rules at every boundary: the adapters parse the ref they are given with it too. */
export const sourceFindingRefSchema: z.ZodType<SourceFindingRef> = z.discriminatedUnion('source', [
  z
    .object({
      source: z.literal('github'),
      repository: z.string().regex(REPOSITORY_RE, 'must be "owner/name"'),
      alertKind: z.enum(['dependabot', 'code_scanning']),
      alertNumber: z.number().int().positive(),
    })
    .strict(),
  z
    .object({
      source: z.literal('securityhub'),
      findingId: z.string().min(1).max(512),
      productArn: z.string().max(2048).regex(PRODUCT_ARN_RE, 'must be a Security Hub product ARN (arn:aws:securityhub:<region>:<account>:product/<company>/<product>)'),
      region: z.string().regex(AWS_REGION_RE, 'must be an AWS region such as us-east-1').optional(),
    })
    .strict(),
]);

/** A reference received at a boundary (activity input), or why it is not one, naming the field. */
export function parseSourceFindingRef(input: unknown): { ref: SourceFindingRef; problem?: undefined } | { ref?: undefined; problem: string } {
  const parsed = sourceFindingRefSchema.safeParse(input);
  if (parsed.success) return { ref: parsed.data };
  return { problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'ref'} ${i.message}`).join('; ') };
}

/** undefined when the detection does not name a finding at a source drw can query. */
export function sourceFindingRef(detection: Detection): SourceFindingRef | undefined {
  const d = detection.details ?? {};
  const candidate = detection.source === 'github' ? github(d) : detection.source === 'aws-securityhub' ? securityHub(d) : undefined;
  if (!candidate) return undefined;
  const parsed = sourceFindingRefSchema.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}

const GITHUB_ALERT_KINDS: Record<string, 'dependabot' | 'code_scanning'> = { dependabot: 'dependabot', 'code-scanning': 'code_scanning' };

function github(d: Record<string, unknown>): SourceFindingRef | undefined {
  const alertKind = GITHUB_ALERT_KINDS[String(d.alertType)];
  if (!alertKind || typeof d.repository !== 'string' || typeof d.alertNumber !== 'number') return undefined;
  return { source: 'github', repository: d.repository, alertKind, alertNumber: d.alertNumber };
}

function securityHub(d: Record<string, unknown>): SourceFindingRef | undefined {
  if (typeof d.findingId !== 'string' || typeof d.productArn !== 'string') return undefined;
  // The region the finding was received in: its own Region, else the one in its product ARN.
  const region = [d.findingRegion, d.productArn.split(':')[3]].find((r): r is string => typeof r === 'string' && AWS_REGION_RE.test(r));
  return { source: 'securityhub', findingId: d.findingId, productArn: d.productArn, ...(region ? { region } : {}) };
}
