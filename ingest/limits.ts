import { z } from 'zod';
import { parseEnv, pick } from '../activities/adapters/jira/env';
import { DEFAULT_MAX_DETAILS_BYTES, MAX_DETAILS_BYTES, MIN_DETAILS_BYTES } from '../domain/details';
import type { DetectionLimits } from '../domain/detection';

/** How much one ingest request may bring in; both bound what reaches Temporal history. */
export interface IngestLimits extends DetectionLimits {
  /** Findings one request may produce; beyond it the request is refused (413) and nothing starts. */
  maxFindings: number;
}

export const DEFAULT_MAX_FINDINGS = 500;

const VARS = ['DRW_INGEST_MAX_FINDINGS', 'DRW_MAX_DETAILS_BYTES'] as const;

const schema = z.object({
  DRW_INGEST_MAX_FINDINGS: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_MAX_FINDINGS),
  DRW_MAX_DETAILS_BYTES: z.coerce.number().int().min(MIN_DETAILS_BYTES).max(MAX_DETAILS_BYTES).default(DEFAULT_MAX_DETAILS_BYTES),
});

export const DEFAULT_INGEST_LIMITS: IngestLimits = { maxFindings: DEFAULT_MAX_FINDINGS, maxDetailsBytes: DEFAULT_MAX_DETAILS_BYTES };

/** The limits from the environment; throws naming the variable when one is out of range. */
export function loadIngestLimits(env: NodeJS.ProcessEnv = process.env): IngestLimits {
  const v = parseEnv(schema, pick(env, VARS), 'ingest limits');
  return { maxFindings: v.DRW_INGEST_MAX_FINDINGS, maxDetailsBytes: v.DRW_MAX_DETAILS_BYTES };
}
