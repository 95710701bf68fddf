/**
 * All of drw's configuration, read from the environment in one place and validated with
 * zod. A bad value stops the process at start with the variable's name, not a stack trace.
 * Secrets (TLS key, API key) are read here and go only to the Temporal connection.
 */
import { DEFAULT_INGEST_LIMITS, loadIngestLimits, type IngestLimits } from '../ingest/limits';
import { approvalEnv, type ApprovalEnv } from '../governance/approval-settings';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../planner/durations';
import { ACTIVITY_KINDS, taskQueueOf, type ActivityKind } from '../workflows/input';
import { loadAuditConfig, type AuditConfig } from '../audit/config';
import { loadApiSettings, type ApiSettings } from '../api/config';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const REPO_ROOT = path.resolve(__dirname, '..', path.basename(path.resolve(__dirname, '..')) === 'dist' ? '..' : '.');

const port = z.coerce.number().int().min(1).max(65535);
const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port, e.g. 127.0.0.1:7233').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CA: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_TLS: bool.optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_UI_URL: z.url().optional(),
  DRW_TASK_QUEUE: z.string().min(1).default('drw-remediation'),
  DRW_API_HOST: z.string().min(1).default('127.0.0.1'),
  DRW_API_PORT: port.default(8080),
  // A worker process's own /healthz (workers/main.ts), for orchestrators' probes; off unless a port is set.
  DRW_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  DRW_HEALTH_PORT: port.optional(),
  DRW_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DRW_POLICY_DIR: z.string().min(1).optional(),
  DRW_TIME_SCALE: z.coerce.number().positive().max(1000).default(1),
  DRW_MAX_HISTORY_EVENTS: z.coerce.number().int().min(100).optional(),
  DRW_PUBLIC_URL: z.url().optional(),
  DRW_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
  DRW_EAGER_START: z.enum(['on', 'off']).default('on'),
  DRW_INPROCESS_AUTOMERGE_MS: z.coerce.number().int().min(0).default(3000),
  DRW_INPROCESS_CAB_APPROVER: z.string().trim().min(1).max(100).optional(),
  DRW_CHANGE_POLL_INTERVAL: z
    .string()
    .trim()
    .transform((v, c) => {
      try {
        const ms = parseDuration(v);
        if (ms >= 1000) return ms;
      } catch {
        // reported below
      }
      c.addIssue({ code: 'custom', message: 'a duration of at least 1s, like 30s or 5m' });
      return z.NEVER;
    })
    .optional(),
  // Authentication (api/auth). Ingest: per-source bearer tokens / HMAC secrets as JSON maps.
  DRW_INGEST_TOKENS: z.string().min(1).optional(),
  DRW_INGEST_HMAC_SECRETS: z.string().min(1).optional(),
  DRW_GITHUB_WEBHOOK_SECRET: z.string().min(1).optional(),
  // Ticketing webhooks: Jira's X-Hub-Signature (POST /v1/integrations/jira/webhook).
  DRW_JIRA_WEBHOOK_SECRET: z.string().min(1).optional(),
  // People: signed JWTs.
  DRW_JWT_ISSUER: z.string().min(1).optional(),
  DRW_JWT_AUDIENCE: z.string().min(1).optional(),
  DRW_JWT_JWKS_URL: z.url().optional(),
  DRW_JWT_PUBLIC_KEYS: z.string().min(1).optional(),
  DRW_JWT_HS256_SECRET: z.string().min(32, 'at least 32 characters (HS256 needs a 256-bit secret, RFC 7518 §3.2)').optional(),
  DRW_JWT_USER_CLAIM: z.string().min(1).default('sub,preferred_username'),
  DRW_JWT_GROUPS_CLAIM: z.string().min(1).default('groups'),
  DRW_JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  // The longest a fetched JWKS is used; after it, tokens wait for a successful re-fetch.
  DRW_JWT_JWKS_MAX_AGE_SECONDS: z.coerce.number().int().min(10).max(86_400).default(600),
});

export interface DrwConfig {
  temporal: {
    address: string;
    namespace: string;
    tls?: { clientCertPair?: { crt: Buffer; key: Buffer }; serverRootCACertificate?: Buffer; serverNameOverride?: string } | true;
    apiKey?: string;
    uiUrl: string;
  };
  taskQueue: string;
  activityQueues: Record<ActivityKind, string>;
  /** Activities per second per integration task queue (undefined: unlimited). */
  rateLimits: Partial<Record<ActivityKind, number>>;
  /** The HTTP API: where it listens, and its limits and access policy (api/config.ts). */
  api: { host: string; port: number; publicUrl: string } & ApiSettings;
  /** What one ingest request may bring in (DRW_INGEST_MAX_FINDINGS, DRW_MAX_DETAILS_BYTES). */
  ingest: IngestLimits;
  /** How the API signs approvals (governance/approval-settings.ts). */
  approvals: ApprovalEnv;
  /** Where a worker process answers GET /healthz (none when port is undefined). */
  health: { host: string; port?: number };
  logLevel: string;
  policyDir: string;
  timeScale: number;
  maxHistoryEvents?: number;
  maxCachedWorkflows?: number;
  /** The API starts remediations eagerly when its process runs the workflow worker (cli/app.ts). */
  eagerStart: boolean;
  inprocessAutoMergeMs: number;
  /** How often a change the CAB is deciding is read (unset: every 5 minutes × the time scale). */
  changePollMs?: number;
  /** Who the in-process change stand-in approves every change as (unset: it waits, approving nothing). */
  inprocessCabApprover?: string;
  auth: AuthConfig;
  /** Sealed audit archive, payload codec and codec server (audit/config.ts). */
  audit: AuditConfig;
}

/** Raw authentication settings; api/auth turns them into verifiers (and checks source names and keys). */
export interface AuthConfig {
  /** source (format name, "drw" for POST /v1/detections, or "*") → accepted bearer tokens. */
  ingestTokens: Record<string, string[]>;
  /** source → HMAC-SHA256 secrets for X-Drw-Signature-256. */
  ingestHmacSecrets: Record<string, string[]>;
  githubWebhookSecret?: string;
  /** Jira admin webhook secret for X-Hub-Signature on POST /v1/integrations/jira/webhook. */
  jiraWebhookSecret?: string;
  jwt: {
    issuer: string[];
    audience: string[];
    jwksUrl?: string;
    /** PEM blocks, a JWK, a JWKS or a JSON array of JWKs (read from the file when a path was given). */
    publicKeys?: string;
    hs256Secret?: string;
    /** Claims naming the user, tried in order. */
    userClaims: string[];
    groupsClaim: string;
    clockToleranceSec: number;
    jwksMaxAgeSec: number;
  };
}

/** `{"alertmanager":["tok1"],"*":"tok2"}`: each value a string or a non-empty array of non-empty strings. */
function credentialMap(name: string, value: string | undefined, problems: string[]): Record<string, string[]> {
  if (value === undefined) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch (e) {
    problems.push(`${name}: not valid JSON (${(e as Error).message}); expected e.g. {"alertmanager":["<secret>"],"*":["<secret>"]}`);
    return {};
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    problems.push(`${name}: expected a JSON object of source → secret or [secrets], e.g. {"alertmanager":["<secret>"]}`);
    return {};
  }
  const out: Record<string, string[]> = {};
  for (const [source, v] of Object.entries(doc)) {
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string' && x.length > 0)) {
      problems.push(`${name}: "${source}" must be a non-empty string or a non-empty array of non-empty strings`);
      continue;
    }
    out[source] = list as string[];
  }
  return out;
}

const csv = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** Reads a PEM given inline or as a file path. */
function pem(name: string, value: string | undefined, problems: string[]): Buffer | undefined {
  if (!value) return undefined;
  if (value.includes('-----BEGIN')) return Buffer.from(value);
  try {
    return readFileSync(value);
  } catch (e) {
    problems.push(`${name}: cannot read ${value}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return undefined;
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): DrwConfig {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const i of parsed.error.issues) problems.push(`${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  if (Boolean(e.TEMPORAL_TLS_CERT) !== Boolean(e.TEMPORAL_TLS_KEY)) {
    problems.push(`${e.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT'}: mTLS needs both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY`);
  }
  const crt = pem('TEMPORAL_TLS_CERT', e.TEMPORAL_TLS_CERT, problems);
  const key = pem('TEMPORAL_TLS_KEY', e.TEMPORAL_TLS_KEY, problems);
  const ca = pem('TEMPORAL_TLS_CA', e.TEMPORAL_TLS_CA, problems);

  const activityQueues = {} as Record<ActivityKind, string>;
  const rateLimits: Partial<Record<ActivityKind, number>> = {};
  for (const kind of ACTIVITY_KINDS) {
    const upper = kind.toUpperCase();
    const q = env[`DRW_TASK_QUEUE_${upper}`];
    activityQueues[kind] = q && q.trim() ? q.trim() : taskQueueOf({}, kind, e.DRW_TASK_QUEUE);
    const rl = env[`DRW_RATE_LIMIT_${upper}`];
    if (rl !== undefined && rl !== '') {
      const n = Number(rl);
      if (!Number.isFinite(n) || n <= 0) problems.push(`DRW_RATE_LIMIT_${upper}: a positive number of activities per second, got "${rl}"`);
      else rateLimits[kind] = n;
    }
  }
  const auth: AuthConfig = {
    ingestTokens: credentialMap('DRW_INGEST_TOKENS', e.DRW_INGEST_TOKENS, problems),
    ingestHmacSecrets: credentialMap('DRW_INGEST_HMAC_SECRETS', e.DRW_INGEST_HMAC_SECRETS, problems),
    githubWebhookSecret: e.DRW_GITHUB_WEBHOOK_SECRET,
    jiraWebhookSecret: e.DRW_JIRA_WEBHOOK_SECRET,
    jwt: {
      issuer: csv(e.DRW_JWT_ISSUER),
      audience: csv(e.DRW_JWT_AUDIENCE),
      jwksUrl: e.DRW_JWT_JWKS_URL,
      publicKeys: e.DRW_JWT_PUBLIC_KEYS && !/^\s*[{[]/.test(e.DRW_JWT_PUBLIC_KEYS) ? pem('DRW_JWT_PUBLIC_KEYS', e.DRW_JWT_PUBLIC_KEYS, problems)?.toString('utf8') : e.DRW_JWT_PUBLIC_KEYS,
      hs256Secret: e.DRW_JWT_HS256_SECRET,
      userClaims: csv(e.DRW_JWT_USER_CLAIM),
      groupsClaim: e.DRW_JWT_GROUPS_CLAIM.trim(),
      clockToleranceSec: e.DRW_JWT_CLOCK_TOLERANCE_SECONDS,
      jwksMaxAgeSec: e.DRW_JWT_JWKS_MAX_AGE_SECONDS,
    },
  };
  const jwtKeys = Boolean(e.DRW_JWT_JWKS_URL || e.DRW_JWT_PUBLIC_KEYS || e.DRW_JWT_HS256_SECRET);
  if (!jwtKeys && (e.DRW_JWT_ISSUER || e.DRW_JWT_AUDIENCE)) {
    problems.push(`${e.DRW_JWT_ISSUER ? 'DRW_JWT_ISSUER' : 'DRW_JWT_AUDIENCE'}: set, but nothing verifies tokens: set DRW_JWT_JWKS_URL, DRW_JWT_PUBLIC_KEYS or DRW_JWT_HS256_SECRET`);
  }
  if (e.DRW_JWT_JWKS_URL) {
    // A JWKS usually belongs to a shared identity provider: without iss and aud checks, its tokens for any other application would be accepted.
    if (!e.DRW_JWT_ISSUER) problems.push('DRW_JWT_ISSUER: required with DRW_JWT_JWKS_URL (the identity provider\'s issuer, e.g. https://idp.example.com/realms/secops)');
    if (!e.DRW_JWT_AUDIENCE) problems.push('DRW_JWT_AUDIENCE: required with DRW_JWT_JWKS_URL (the audience your identity provider puts in tokens for drw)');
    const u = new URL(e.DRW_JWT_JWKS_URL);
    if (u.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
      problems.push(`DRW_JWT_JWKS_URL: must be https (got ${u.protocol}//${u.host}); plain http is accepted only on loopback`);
    }
  }
  if (auth.jwt.userClaims.length === 0) problems.push('DRW_JWT_USER_CLAIM: name at least one claim, e.g. sub or preferred_username');
  const host = e.TEMPORAL_ADDRESS.split(':')[0];
  const uiUrl = e.TEMPORAL_UI_URL ?? (['127.0.0.1', 'localhost'].includes(host) ? `http://${host}:${process.env.TEMPORAL_UI_PORT ?? 8233}` : 'https://cloud.temporal.io');
  const audit = loadAuditConfig(env, REPO_ROOT, uiUrl, problems);
  const apiSettings = loadApiSettings(env, REPO_ROOT, problems);
  const approvals = approvalEnv(env, problems);
  let ingest = DEFAULT_INGEST_LIMITS;
  try {
    ingest = loadIngestLimits(env);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length) throw new ConfigError(problems);

  const useTls = Boolean(crt) || Boolean(e.TEMPORAL_API_KEY) || e.TEMPORAL_TLS === true || Boolean(ca);
  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      tls: useTls
        ? crt || ca || e.TEMPORAL_TLS_SERVER_NAME
          ? {
              ...(crt && key ? { clientCertPair: { crt, key } } : {}),
              ...(ca ? { serverRootCACertificate: ca } : {}),
              ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: e.TEMPORAL_TLS_SERVER_NAME } : {}),
            }
          : true
        : undefined,
      apiKey: e.TEMPORAL_API_KEY,
      uiUrl,
    },
    taskQueue: e.DRW_TASK_QUEUE,
    activityQueues,
    rateLimits,
    api: { host: e.DRW_API_HOST, port: e.DRW_API_PORT, publicUrl: e.DRW_PUBLIC_URL ?? `http://${e.DRW_API_HOST}:${e.DRW_API_PORT}`, ...apiSettings },
    ingest,
    approvals,
    health: { host: e.DRW_HEALTH_HOST, port: e.DRW_HEALTH_PORT },
    logLevel: e.DRW_LOG_LEVEL,
    policyDir: path.resolve(e.DRW_POLICY_DIR ?? path.join(REPO_ROOT, 'policies', 'default')),
    timeScale: e.DRW_TIME_SCALE,
    maxHistoryEvents: e.DRW_MAX_HISTORY_EVENTS,
    maxCachedWorkflows: e.DRW_MAX_CACHED_WORKFLOWS,
    eagerStart: e.DRW_EAGER_START === 'on',
    inprocessAutoMergeMs: e.DRW_INPROCESS_AUTOMERGE_MS,
    ...(e.DRW_INPROCESS_CAB_APPROVER ? { inprocessCabApprover: e.DRW_INPROCESS_CAB_APPROVER } : {}),
    ...(e.DRW_CHANGE_POLL_INTERVAL ? { changePollMs: e.DRW_CHANGE_POLL_INTERVAL } : {}),
    auth,
    audit,
  };
}

/** True when the configured server is the local dev server that temporal-dev.sh can start. */
export function isLocalDevServer(cfg: DrwConfig): boolean {
  const [host] = cfg.temporal.address.split(':');
  return ['127.0.0.1', 'localhost', '::1'].includes(host) && !cfg.temporal.tls && !cfg.temporal.apiKey;
}
