import { z } from 'zod';
import { DEFAULT_MAX_DETAILS_BYTES, detailsSizeProblem } from './details';

/**
 * drw's own detection format: what every ingest format is normalized to, what
 * `POST /v1/detections` accepts, and what a remediation workflow receives.
 * This module must stay free of Node.js imports: the workflow bundle uses it.
 */

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const severitySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof severitySchema>;

/** Larger is worse; used for "severity at least" matching and for picking the worst of repeats. */
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export const CRITICALITIES = ['low', 'medium', 'high', 'critical'] as const;
export const criticalitySchema = z.enum(CRITICALITIES);
export type Criticality = z.infer<typeof criticalitySchema>;

const shortText = z.string().trim().min(1).max(512);

export const assetSchema = z
  .object({
    id: shortText,
    type: z.string().trim().min(1).max(64),
    environment: z.string().trim().min(1).max(64).optional(),
    criticality: criticalitySchema.optional(),
    internetFacing: z.boolean().optional(),
    tags: z.array(z.string().trim().min(1).max(128)).max(64).optional(),
    owner: z.string().trim().min(1).max(256).optional(),
  })
  .strict();
export type Asset = z.infer<typeof assetSchema>;

/** Where a normalized detection came from, so an auditor can find the original payload. */
export const rawRefSchema = z
  .object({
    format: z.string().min(1).max(64),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    sourceId: z.string().max(512).optional(),
    url: z.string().max(2048).optional(),
  })
  .strict();
export type RawRef = z.infer<typeof rawRefSchema>;

/** Free-form details within `maxBytes` of JSON; the error names the size and the limit. */
export function detailsSchema(maxBytes: number) {
  return z.record(z.string(), z.unknown()).superRefine((d, ctx) => {
    const problem = detailsSizeProblem(d, maxBytes);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

export const detectionSchema = z
  .object({
    source: z.string().trim().min(1).max(128),
    rule: shortText,
    title: z.string().trim().min(1).max(1024),
    severity: severitySchema,
    /** Broad class used by playbooks: vulnerability, misconfiguration, malware, infrastructure, ... */
    category: z.string().trim().min(1).max(64).optional(),
    riskScore: z.number().min(0).max(100).optional(),
    asset: assetSchema,
    status: z.enum(['open', 'resolved']).optional(),
    observedAt: z.iso.datetime({ offset: true }).optional(),
    dedupeKey: z.string().trim().min(1).max(400).optional(),
    /**
     * Free-form facts a playbook step may use (package, fixedVersion, bucket, securityGroupId,
     * repository, manifestPath, cve, ...). Never put secrets here: it is recorded in history.
     */
    details: detailsSchema(DEFAULT_MAX_DETAILS_BYTES).optional(),
    rawRef: rawRefSchema.optional(),
  })
  .strict();
export type Detection = z.infer<typeof detectionSchema>;

export interface DetectionLimits {
  /** Serialized JSON bytes of `details` (DRW_MAX_DETAILS_BYTES; default 16 KiB). */
  maxDetailsBytes: number;
}

/** `detectionSchema` with a configured details limit instead of the default. */
export function detectionSchemaWith(limits: DetectionLimits) {
  return detectionSchema.extend({ details: detailsSchema(limits.maxDetailsBytes).optional() });
}

/** Default deduplication key: source + asset + rule, unless the detection (or a playbook) names one. */
export function defaultDedupeKey(d: Pick<Detection, 'source' | 'asset' | 'rule' | 'dedupeKey'>): string {
  return d.dedupeKey ?? `${d.source}|${d.asset.id}|${d.rule}`;
}
