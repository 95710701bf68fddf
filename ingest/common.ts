import { createHash } from 'node:crypto';
import { CRITICALITIES, type Asset, type Criticality, type Detection, type Severity } from '../domain/detection';
import { IngestError } from './errors';
import type { NormalizeContext } from './types';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A non-blank string (numbers are accepted because tools mix `"id": 12` and `"id": "12"`). */
export function str(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function first<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

export function strings(v: unknown): string[] {
  return arr(v).map(str).filter((s): s is string => s !== undefined);
}

/**
 * `Security Hub` / `okta system_log` → `security-hub` / `okta-system-log`; with `splitCamel`,
 * `DefenseEvasion` → `defense-evasion` (product names like GuardDuty stay one word without it).
 */
export function slug(s: string, splitCamel = false): string {
  return (splitCamel ? s.replace(/([a-z0-9])([A-Z])/g, '$1-$2') : s)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** CVSS 0-10 → riskScore 0-100, rounded so 5.3 gives 53 and not 52.99999. */
export function cvssToRisk(score: number | undefined): number | undefined {
  return score === undefined ? undefined : Math.round(score * 100) / 10;
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Time

/**
 * Epoch numbers arrive in s, ms, µs or ns depending on the tool (OCSF allows s or ms, Falco uses
 * ns); the magnitude tells which, for any date between 1973 and 5138.
 */
export function epochToIso(n: number): string | undefined {
  const abs = Math.abs(n);
  const ms = abs < 1e11 ? n * 1000 : abs < 1e14 ? n : abs < 1e17 ? n / 1e3 : n / 1e6;
  return validDate(new Date(ms));
}

/**
 * Any tool timestamp → `YYYY-MM-DDTHH:mm:ss.sssZ`. Handles zone-less ISO (Prowler; read as UTC,
 * not as the server's local time), `+0500` offsets (Wazuh), 9-digit fractions (Go), numeric strings.
 * Go's zero time (`0001-01-01T00:00:00Z`, Alertmanager's "no end") counts as absent.
 */
export function toIso(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? epochToIso(v) : undefined;
  const s = str(v);
  if (s === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return epochToIso(Number(s));
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (!m) return undefined;
  const [, date, clock, frac = '', zone] = m;
  const z = zone === undefined ? 'Z' : zone.toUpperCase() === 'Z' ? 'Z' : zone.replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  return validDate(new Date(`${date}T${clock}${frac.slice(0, 4)}${z}`));
}

function validDate(d: Date): string | undefined {
  const t = d.getTime();
  // Before 1971 is a placeholder (Go zero time, epoch 0), never a real observation.
  if (!Number.isFinite(t) || t < Date.UTC(1971, 0, 1)) return undefined;
  return d.toISOString();
}

// ---------------------------------------------------------------------------------------------
// Severity / criticality

const SEVERITY_WORDS: Record<string, Severity> = {
  critical: 'critical', crit: 'critical', fatal: 'critical', emergency: 'critical', emerg: 'critical',
  alert: 'critical', page: 'critical', p1: 'critical', disaster: 'critical', blocker: 'critical',
  high: 'high', error: 'high', err: 'high', major: 'high', severe: 'high', p2: 'high',
  medium: 'medium', moderate: 'medium', warning: 'medium', warn: 'medium', minor: 'medium', average: 'medium', p3: 'medium',
  low: 'low', notice: 'low', p4: 'low',
  info: 'info', informational: 'info', information: 'info', debug: 'info', none: 'info', p5: 'info', ok: 'info',
};

/** Common severity words used by the tools (case-insensitive); undefined when not recognised. */
export function severityWord(v: unknown): Severity | undefined {
  const s = str(v);
  return s === undefined ? undefined : SEVERITY_WORDS[s.toLowerCase()];
}

function criticality(v: unknown): Criticality | undefined {
  const s = str(v)?.toLowerCase();
  return s !== undefined && (CRITICALITIES as readonly string[]).includes(s) ? (s as Criticality) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Asset hints from key/value tags (AWS resource tags, Prometheus labels, `k:v` label strings)

const ENV_KEYS = ['environment', 'env', 'stage', 'tier'];
const OWNER_KEYS = ['owner', 'team', 'owning-team', 'owner_team'];

/** `Environment`, `env`, ... → asset.environment/owner/criticality; keys matched case-insensitively. */
export function assetHints(tags: Record<string, string>): Pick<Asset, 'environment' | 'owner' | 'criticality'> {
  const lower = new Map(Object.entries(tags).map(([k, v]) => [k.toLowerCase(), v]));
  const pick = (keys: string[]) => keys.map((k) => str(lower.get(k))).find((v) => v !== undefined);
  return { environment: pick(ENV_KEYS), owner: pick(OWNER_KEYS), criticality: criticality(pick(['criticality'])) };
}

/** `["env:prod", "team=core"]` → `{env: 'prod', team: 'core'}`. */
export function pairsToMap(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const m = /^([^:=]+)[:=](.*)$/.exec(p);
    if (m) out[m[1].trim()] = m[2].trim();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Details: history-recorded, so keep them small, flat-ish and JSON-safe.

const MAX_DETAIL_STRING = 1024;
const MAX_DETAIL_ARRAY = 32;
const MAX_DETAIL_KEYS = 48;

function cleanValue(v: unknown, depth: number): unknown {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v.trim() === '' ? undefined : truncate(v, MAX_DETAIL_STRING);
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v;
  if (depth >= 2) return undefined;
  if (Array.isArray(v)) {
    const items = v.slice(0, MAX_DETAIL_ARRAY).map((x) => cleanValue(x, depth + 1)).filter((x) => x !== undefined);
    return items.length ? items : undefined;
  }
  if (isObj(v)) return cleanDetails(v, depth + 1);
  return undefined;
}

/** Drops empty values and caps sizes so a details object can never carry a whole payload. */
export function cleanDetails(d: Obj, depth = 0): Obj | undefined {
  const out: Obj = {};
  for (const [k, v] of Object.entries(d).slice(0, MAX_DETAIL_KEYS)) {
    const c = cleanValue(v, depth);
    if (c !== undefined) out[k] = c;
  }
  return Object.keys(out).length ? out : undefined;
}

// ---------------------------------------------------------------------------------------------
// Building a Detection within the schema's limits

export interface Draft {
  source: string;
  rule: string | undefined;
  title: string | undefined;
  severity: Severity;
  category?: string;
  riskScore?: number;
  asset: Partial<Asset> & { id: string | undefined; type: string };
  status?: 'open' | 'resolved';
  observedAt: string | undefined;
  dedupeKey?: string;
  details?: Obj;
  raw: { format: string; element: unknown; sourceId?: string; url?: string };
}

function limit(s: string | undefined, max: number): string | undefined {
  const t = s?.trim();
  return t ? truncate(t, max) : undefined;
}

/** Keys longer than the schema allows keep a readable prefix plus a hash, so they stay unique. */
function limitKey(key: string | undefined): string | undefined {
  const k = key?.trim();
  if (!k) return undefined;
  return k.length <= 400 ? k : `${k.slice(0, 380)}#${sha256Hex(k).slice(0, 16)}`;
}

/**
 * Draft → Detection. Fields are clipped to the schema limits; a draft without an asset id or rule
 * is a mapping gap, reported by the caller as skipped, so this returns a reason instead.
 */
export function build(d: Draft, receivedAt: string): Detection | { skip: string } {
  const assetId = limit(d.asset.id, 512);
  const rule = limit(d.rule, 512);
  if (!assetId) return { skip: 'no asset could be identified' };
  if (!rule) return { skip: 'no rule/identifier could be identified' };
  const tags = (d.asset.tags ?? []).map((t) => limit(t, 128)).filter((t): t is string => !!t).slice(0, 64);
  const asset = compact({
    id: assetId,
    type: limit(d.asset.type, 64) ?? 'unknown',
    environment: limit(d.asset.environment, 64),
    criticality: d.asset.criticality,
    internetFacing: d.asset.internetFacing,
    tags: tags.length ? tags : undefined,
    owner: limit(d.asset.owner, 256),
  }) as Asset;
  const riskScore = d.riskScore !== undefined && Number.isFinite(d.riskScore) ? Math.min(100, Math.max(0, d.riskScore)) : undefined;
  return compact({
    source: limit(d.source, 128) ?? 'unknown',
    rule,
    title: limit(d.title, 1024) ?? rule,
    severity: d.severity,
    category: limit(d.category, 64),
    riskScore,
    asset,
    status: d.status ?? 'open',
    observedAt: d.observedAt ?? toIso(receivedAt) ?? new Date().toISOString(),
    dedupeKey: limitKey(d.dedupeKey),
    details: d.details && cleanDetails(d.details),
    rawRef: compact({
      format: d.raw.format,
      sha256: sha256Hex(JSON.stringify(d.raw.element) ?? ''),
      sourceId: limit(d.raw.sourceId, 512),
      // A clipped URL would point somewhere else, so an over-long one is dropped instead.
      url: d.raw.url && d.raw.url.length <= 2048 ? d.raw.url : undefined,
    }) as Detection['rawRef'],
  }) as Detection;
}

function compact<T extends Obj>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Accumulates findings and skips so each normalizer reads as a plain loop. Past the context's
 * maxFindings it only counts what is left, so an oversized payload is refused without mapping it.
 */
export class Collector {
  readonly findings: Detection[] = [];
  readonly skipped: { reason: string; ref?: string }[] = [];
  private beyondLimit = 0;

  constructor(private readonly ctx: Pick<NormalizeContext, 'receivedAt' | 'maxFindings'>) {}

  /** `draft` is a function so that elements past the limit are counted without being mapped. */
  add(draft: () => Draft, ref?: string): void {
    if (this.findings.length >= (this.ctx.maxFindings ?? Infinity)) {
      this.beyondLimit++;
      return;
    }
    const d = draft();
    const r = build(d, this.ctx.receivedAt);
    if ('skip' in r) this.skip(r.skip, ref ?? d.raw.sourceId);
    else this.findings.push(r);
  }

  skip(reason: string, ref?: string): void {
    this.skipped.push(ref === undefined ? { reason } : { reason, ref });
  }

  /**
   * Throws IngestError 413 when the payload holds more findings than the context allows. Past the
   * limit elements are counted unmapped, so the count includes any that would have been skipped.
   */
  result() {
    if (this.beyondLimit > 0) {
      const count = this.findings.length + this.beyondLimit;
      throw new IngestError(413, `${count} findings in one payload, more than the limit of ${this.ctx.maxFindings} (DRW_INGEST_MAX_FINDINGS): send them in smaller batches; nothing was started`);
    }
    return { findings: this.findings, skipped: this.skipped };
  }
}
