/**
 * All of drw's configuration, read from the environment in one place and validated with
 * zod. A bad value stops the process at start with the variable's name, not a stack trace.
 * Secrets (TLS key, API key) are read here and go only to the Temporal connection.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ACTIVITY_KINDS, type ActivityKind } from '../workflows/input';

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
  DRW_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DRW_POLICY_DIR: z.string().min(1).optional(),
  DRW_TIME_SCALE: z.coerce.number().positive().max(1000).default(1),
  DRW_MAX_HISTORY_EVENTS: z.coerce.number().int().min(100).optional(),
  DRW_PUBLIC_URL: z.url().optional(),
  DRW_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
  DRW_INPROCESS_AUTOMERGE_MS: z.coerce.number().int().min(0).default(3000),
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
  api: { host: string; port: number; publicUrl: string };
  logLevel: string;
  policyDir: string;
  timeScale: number;
  maxHistoryEvents?: number;
  maxCachedWorkflows?: number;
  inprocessAutoMergeMs: number;
}

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
    activityQueues[kind] = q && q.trim() ? q.trim() : `${e.DRW_TASK_QUEUE}-${kind}`;
    const rl = env[`DRW_RATE_LIMIT_${upper}`];
    if (rl !== undefined && rl !== '') {
      const n = Number(rl);
      if (!Number.isFinite(n) || n <= 0) problems.push(`DRW_RATE_LIMIT_${upper}: a positive number of activities per second, got "${rl}"`);
      else rateLimits[kind] = n;
    }
  }
  if (problems.length) throw new ConfigError(problems);

  const useTls = Boolean(crt) || Boolean(e.TEMPORAL_API_KEY) || e.TEMPORAL_TLS === true || Boolean(ca);
  const host = e.TEMPORAL_ADDRESS.split(':')[0];
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
      uiUrl: e.TEMPORAL_UI_URL ?? (['127.0.0.1', 'localhost'].includes(host) ? `http://${host}:${process.env.TEMPORAL_UI_PORT ?? 8233}` : 'https://cloud.temporal.io'),
    },
    taskQueue: e.DRW_TASK_QUEUE,
    activityQueues,
    rateLimits,
    api: { host: e.DRW_API_HOST, port: e.DRW_API_PORT, publicUrl: e.DRW_PUBLIC_URL ?? `http://${e.DRW_API_HOST}:${e.DRW_API_PORT}` },
    logLevel: e.DRW_LOG_LEVEL,
    policyDir: path.resolve(e.DRW_POLICY_DIR ?? path.join(REPO_ROOT, 'policies', 'default')),
    timeScale: e.DRW_TIME_SCALE,
    maxHistoryEvents: e.DRW_MAX_HISTORY_EVENTS,
    maxCachedWorkflows: e.DRW_MAX_CACHED_WORKFLOWS,
    inprocessAutoMergeMs: e.DRW_INPROCESS_AUTOMERGE_MS,
  };
}

/** True when the configured server is the local dev server that temporal-dev.sh can start. */
export function isLocalDevServer(cfg: DrwConfig): boolean {
  const [host] = cfg.temporal.address.split(':');
  return ['127.0.0.1', 'localhost', '::1'].includes(host) && !cfg.temporal.tls && !cfg.temporal.apiKey;
}
