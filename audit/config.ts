/**
 * Configuration of the sealed audit archive, the payload codec and the codec server, read
 * from the environment by common/config.ts's loadConfig (problems name the variable).
 *
 *   DRW_ARCHIVE                 a folder (default <DRW_DATA_DIR or .drw>/archive), s3://bucket/prefix, or off
 *   DRW_ARCHIVE_S3_ENDPOINT     S3-compatible endpoint (MinIO, versitygw, Ceph); AWS when unset
 *   DRW_ARCHIVE_S3_REGION       (us-east-1); DRW_ARCHIVE_S3_FORCE_PATH_STYLE (1 with an endpoint)
 *   DRW_ARCHIVE_OBJECT_LOCK     GOVERNANCE or COMPLIANCE: records carry object-lock retention
 *   DRW_ARCHIVE_RETENTION       how long locked records are retained (e.g. 2555d); required with the lock
 *   DRW_SEAL_SWEEP_EVERY        how often the schedule sweeps for unsealed closed runs (15m)
 *   DRW_SEAL_LOOKBACK           how far back the sweep looks (3d; keep it well under the namespace retention)
 *   DRW_CODEC_KEYS, DRW_CODEC_KEY_ID   see keys.ts; codec on when set
 *   DRW_PAYLOAD_COMPRESSION     on (default) or off: payloads compressed (compression.ts) before any encryption
 *   DRW_CODEC_SERVER_HOST/PORT  `drw codec-server` (127.0.0.1:8888)
 *   DRW_CODEC_SERVER_TOKEN      bearer token; required when the codec server listens beyond loopback
 *   DRW_CODEC_CORS_ORIGINS      origins allowed to call it (the Temporal UI: TEMPORAL_UI_URL's origin)
 * AWS credentials come from the SDK's default chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, roles).
 */
import path from 'node:path';
import { parseDuration } from '../planner/durations';
import { keyRingFromEnv, KeyRingError, type KeyRing } from './keys';

export type ArchiveLocation =
  | { kind: 'local'; dir: string }
  | {
      kind: 's3';
      bucket: string;
      prefix: string;
      endpoint?: string;
      region: string;
      forcePathStyle: boolean;
      objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; retentionMs: number };
    }
  | { kind: 'off' };

export interface AuditConfig {
  archive: ArchiveLocation;
  /** The payload codec's keys; undefined: payloads and archive in the clear. */
  keys?: KeyRing;
  /** Larger payloads zlib-compressed in history (audit/compression.ts). */
  compression: boolean;
  sweep: { everyMs: number; lookbackMs: number };
  codecServer: { host: string; port: number; token?: string; corsOrigins: string[] };
}

function duration(name: string, v: string | undefined, fallback: string, problems: string[]): number {
  try {
    const ms = parseDuration(v?.trim() || fallback);
    if (ms <= 0) throw new Error('must be positive');
    return ms;
  } catch (e) {
    problems.push(`${name}: ${(e as Error).message}`);
    return parseDuration(fallback);
  }
}

function archiveLocation(env: NodeJS.ProcessEnv, root: string, problems: string[]): ArchiveLocation {
  const raw = env.DRW_ARCHIVE?.trim();
  if (raw === 'off') return { kind: 'off' };
  if (!raw || !raw.startsWith('s3://')) {
    if (raw && /^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) problems.push(`DRW_ARCHIVE: a folder, s3://bucket/prefix or off (got "${raw.slice(0, 80)}")`);
    return { kind: 'local', dir: path.resolve(raw || path.join(env.DRW_DATA_DIR || path.join(root, '.drw'), 'archive')) };
  }
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(raw);
  if (!m) {
    problems.push(`DRW_ARCHIVE: s3://<bucket>/<prefix> with a valid bucket name (got "${raw.slice(0, 80)}")`);
    return { kind: 'off' };
  }
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  const endpoint = env.DRW_ARCHIVE_S3_ENDPOINT?.trim() || undefined;
  if (endpoint && !/^https?:\/\//.test(endpoint)) problems.push(`DRW_ARCHIVE_S3_ENDPOINT: an http(s) URL (got "${endpoint.slice(0, 80)}")`);
  const lock = env.DRW_ARCHIVE_OBJECT_LOCK?.trim();
  let objectLock: { mode: 'GOVERNANCE' | 'COMPLIANCE'; retentionMs: number } | undefined;
  if (lock) {
    if (lock !== 'GOVERNANCE' && lock !== 'COMPLIANCE') problems.push(`DRW_ARCHIVE_OBJECT_LOCK: GOVERNANCE or COMPLIANCE (got "${lock.slice(0, 40)}")`);
    else if (!env.DRW_ARCHIVE_RETENTION) problems.push('DRW_ARCHIVE_RETENTION: required with DRW_ARCHIVE_OBJECT_LOCK (e.g. 2555d for seven years)');
    else objectLock = { mode: lock, retentionMs: duration('DRW_ARCHIVE_RETENTION', env.DRW_ARCHIVE_RETENTION, '1d', problems) };
  }
  const fps = env.DRW_ARCHIVE_S3_FORCE_PATH_STYLE?.trim();
  return {
    kind: 's3',
    bucket: m[1],
    prefix: prefix ? `${prefix}/` : '',
    endpoint,
    region: env.DRW_ARCHIVE_S3_REGION?.trim() || env.AWS_REGION?.trim() || 'us-east-1',
    forcePathStyle: fps ? ['1', 'true', 'yes', 'on'].includes(fps) : Boolean(endpoint),
    ...(objectLock ? { objectLock } : {}),
  };
}

/** The UI's origin, and on loopback also as the browser may be pointed at it (127.0.0.1 or localhost). */
function loopbackAliases(ui: URL): string[] {
  const alias = ui.hostname === '127.0.0.1' ? 'localhost' : ui.hostname === 'localhost' ? '127.0.0.1' : undefined;
  if (!alias) return [ui.origin];
  const other = new URL(ui.origin);
  other.hostname = alias;
  return [ui.origin, other.origin];
}

export function loadAuditConfig(env: NodeJS.ProcessEnv, root: string, uiUrl: string, problems: string[]): AuditConfig {
  let keys: KeyRing | undefined;
  try {
    keys = keyRingFromEnv(env);
  } catch (e) {
    if (!(e instanceof KeyRingError)) throw e;
    problems.push(e.message);
  }
  const port = Number(env.DRW_CODEC_SERVER_PORT ?? 8888);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`DRW_CODEC_SERVER_PORT: a port number (got "${env.DRW_CODEC_SERVER_PORT}")`);
  const token = env.DRW_CODEC_SERVER_TOKEN?.trim() || undefined;
  if (token && token.length < 16) problems.push('DRW_CODEC_SERVER_TOKEN: at least 16 characters');
  const origins = (env.DRW_CODEC_CORS_ORIGINS ?? loopbackAliases(new URL(uiUrl)).join(',')).split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of origins) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) problems.push(`DRW_CODEC_CORS_ORIGINS: "${o.slice(0, 80)}" is not an origin (scheme://host[:port])`);
  }
  const compression = env.DRW_PAYLOAD_COMPRESSION?.trim().toLowerCase() || 'on';
  if (!['on', 'off'].includes(compression)) problems.push(`DRW_PAYLOAD_COMPRESSION: on or off (got "${compression.slice(0, 40)}")`);
  return {
    archive: archiveLocation(env, root, problems),
    ...(keys ? { keys } : {}),
    compression: compression !== 'off',
    sweep: { everyMs: duration('DRW_SEAL_SWEEP_EVERY', env.DRW_SEAL_SWEEP_EVERY, '15m', problems), lookbackMs: duration('DRW_SEAL_LOOKBACK', env.DRW_SEAL_LOOKBACK, '3d', problems) },
    codecServer: { host: env.DRW_CODEC_SERVER_HOST?.trim() || '127.0.0.1', port, token, corsOrigins: origins },
  };
}
