import { JsonInputError, decodeUtf8, parseStrictJson } from '../common/strict-json';
import { capDetails } from '../domain/details';
import { detectionSchemaWith } from '../domain/detection';
import { toIso } from './common';
import { IngestError } from './errors';
import { loadIngestLimits, type IngestLimits } from './limits';
import * as alertmanager from './formats/alertmanager';
import * as asff from './formats/asff';
import * as falco from './formats/falco';
import * as falcon from './formats/falcon';
import * as github from './formats/github';
import * as msgraph from './formats/msgraph';
import * as ocsf from './formats/ocsf';
import * as trivy from './formats/trivy';
import * as wazuh from './formats/wazuh';
import { NATIVE_SOURCE } from '../domain/channel';
import type { Detector, NormalizeContext, NormalizeResult, Normalizer } from './types';

export { IngestError } from './errors';
export { DEFAULT_INGEST_LIMITS, loadIngestLimits, type IngestLimits } from './limits';
export type { NormalizeContext, NormalizeResult, Normalizer, Skipped } from './types';

/** Route names: each becomes `POST /v1/detections/{format}`. */
export const FORMATS = {
  alertmanager: alertmanager.normalize,
  asff: asff.normalize,
  ocsf: ocsf.normalize,
  falco: falco.normalize,
  trivy: trivy.normalize,
  github: github.normalize,
  wazuh: wazuh.normalize,
  falcon: falcon.normalize,
  msgraph: msgraph.normalize,
} as const satisfies Record<string, Normalizer>;

export type FormatName = keyof typeof FORMATS;
export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[];

/** Every source name a channel has (`submit:<source>`, `correlate`, `trustedRiskSources`): the native API's, then the formats. */
export const SUBMIT_SOURCES = [NATIVE_SOURCE, ...FORMAT_NAMES] as const;

export function isFormatName(name: string): name is FormatName {
  return Object.prototype.hasOwnProperty.call(FORMATS, name);
}

/**
 * Order matters: the GitHub header is decisive, then the shapes with an unambiguous marker
 * (OData type, Falcon metadata, Trivy SchemaVersion 2, ASFF, OCSF class_uid) before the looser ones.
 */
const DETECTION_ORDER: [FormatName, Detector][] = [
  ['github', (_p, h) => h['x-github-event'] !== undefined],
  ['msgraph', msgraph.detect],
  ['falcon', falcon.detect],
  ['trivy', trivy.detect],
  ['asff', asff.detect],
  ['ocsf', ocsf.detect],
  ['falco', falco.detect],
  ['wazuh', wazuh.detect],
  ['alertmanager', alertmanager.detect],
  ['github', github.detect],
];

/**
 * JSON, or newline-delimited JSON (Falco, Wazuh alerts.json and Falcon streams are one event per
 * line) which becomes an array. Throws IngestError 400 when it is neither.
 */
export function parseBody(body: string | Buffer): unknown {
  try {
    const text = (typeof body === 'string' ? body : decodeUtf8(body)).replace(/^\uFEFF/, '');
    if (text.trim() === '') throw new IngestError(400, 'empty body: expected JSON');
    try {
      return parseStrictJson(text);
    } catch (err) {
      if (err instanceof JsonInputError) throw err;
      const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
      if (lines.length > 1) {
        try {
          return lines.map((l) => parseStrictJson(l));
        } catch (e) {
          if (e instanceof JsonInputError) throw e;
          // Report the whole-document error below: it is the more useful one.
        }
      }
      throw new IngestError(400, `body is not valid JSON: ${(err as Error).message}`);
    }
  } catch (e) {
    if (e instanceof JsonInputError) throw new IngestError(400, e.message);
    throw e;
  }
}

function lowerCaseKeys(headers: Record<string, string | undefined> | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

function toPayload(payload: unknown): unknown {
  const value = typeof payload === 'string' || Buffer.isBuffer(payload) ? parseBody(payload) : payload;
  if (typeof value !== 'object' || value === null) {
    throw new IngestError(400, `payload must be a JSON object or array, got ${value === null ? 'null' : typeof value}`);
  }
  return value;
}

export interface NormalizeOptions extends Partial<NormalizeContext> {
  /** Defaults to the environment's (DRW_INGEST_MAX_FINDINGS, DRW_MAX_DETAILS_BYTES). */
  limits?: IngestLimits;
}

const schemas = new Map<number, ReturnType<typeof detectionSchemaWith>>();
function schemaFor(maxDetailsBytes: number) {
  let s = schemas.get(maxDetailsBytes);
  if (!s) schemas.set(maxDetailsBytes, (s = detectionSchemaWith({ maxDetailsBytes })));
  return s;
}

/**
 * Normalizes one payload (already-parsed JSON, or the raw body as string/Buffer) of the named
 * format. Every returned finding has passed the detection schema; one that does not is reported in
 * `skipped` rather than failing the whole batch. More findings than `limits.maxFindings` refuse
 * the whole payload (413), and details over `limits.maxDetailsBytes` lose their largest values
 * (named under `detailsTruncated`): a tool's finding is worth keeping without its bulk.
 */
export function normalize(format: string, payload: unknown, ctx: NormalizeOptions = {}): NormalizeResult {
  if (!isFormatName(format)) throw new IngestError(404, `unknown format "${format}"; known formats: ${FORMAT_NAMES.join(', ')}`);
  const limits = ctx.limits ?? loadIngestLimits();
  const value = toPayload(payload);
  const context: NormalizeContext = {
    headers: lowerCaseKeys(ctx.headers),
    receivedAt: toIso(ctx.receivedAt) ?? new Date().toISOString(),
    maxFindings: limits.maxFindings,
  };
  const result = FORMATS[format](value, context);
  const schema = schemaFor(limits.maxDetailsBytes);
  const findings: NormalizeResult['findings'] = [];
  const skipped = [...result.skipped];
  result.findings.forEach((f, i) => {
    const bounded = f.details ? { ...f, details: capDetails(f.details, limits.maxDetailsBytes).details } : f;
    const parsed = schema.safeParse(bounded);
    if (parsed.success) return findings.push(parsed.data);
    const issue = parsed.error.issues[0];
    skipped.push({ reason: `invalid detection: ${issue.path.join('.') || '(root)'}: ${issue.message}`, ref: f.rawRef?.sourceId ?? `findings[${i}]` });
  });
  return { findings, skipped };
}

/** Best guess of a payload's format (for `drw detect file` without --format); undefined if none fits. */
export function detectFormat(payload: unknown, headers: Record<string, string | undefined> = {}): FormatName | undefined {
  const value = toPayload(payload);
  const h = lowerCaseKeys(headers);
  return DETECTION_ORDER.find(([, looksLike]) => looksLike(value, h))?.[0];
}
