import type { Detection } from '../domain/detection';

export interface NormalizeContext {
  /** Request headers with lower-cased names (Node's IncomingMessage already lower-cases them). */
  headers: Record<string, string | undefined>;
  /** ISO datetime used when the payload carries no usable time of its own. */
  receivedAt: string;
  /** Findings one payload may produce (IngestLimits.maxFindings); unlimited when unset. */
  maxFindings?: number;
}

export interface Skipped {
  reason: string;
  /** Where in the payload the skipped element sits (`alerts[2]`) or the tool's id for it. */
  ref?: string;
}

export interface NormalizeResult {
  findings: Detection[];
  skipped: Skipped[];
}

export type Normalizer = (payload: unknown, ctx: NormalizeContext) => NormalizeResult;

/** Cheap structural guess used by `detectFormat`; must never throw. */
export type Detector = (payload: unknown, headers: Record<string, string | undefined>) => boolean;
