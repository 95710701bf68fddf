import { z } from 'zod';
import { isHttpsOrLoopback } from '../secure-url';

export interface DefenderConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  apiUrl: string;
  /** Entra ID authority; configurable for sovereign clouds and simulators. */
  loginUrl: string;
  scope: string;
  timeoutMs?: number;
  /** Interval between machine action reads. */
  pollIntervalMs?: number;
  /**
   * How long isolate/release poll a machine action before returning it still pending: an
   * offline machine keeps it Pending until it checks in, which the verification step waits for.
   */
  actionWaitMs?: number;
}

export const DEFAULT_API_URL = 'https://api.securitycenter.microsoft.com';
export const DEFAULT_LOGIN_URL = 'https://login.microsoftonline.com';
export const DEFAULT_SCOPE = 'https://api.securitycenter.microsoft.com/.default';

const secureUrl = z.url().refine(isHttpsOrLoopback, 'must be an https URL');
const optionalMs = z.coerce.number().int().min(0).max(3_600_000).optional();
const required = () => z.string({ error: 'is required' }).min(1, 'is required');

const envSchema = z.object({
  // A GUID or a verified domain: either is a path segment of the token URL.
  DEFENDER_TENANT_ID: required().regex(/^[A-Za-z0-9.-]{1,128}$/, 'must be a tenant id or domain'),
  DEFENDER_CLIENT_ID: required(),
  DEFENDER_CLIENT_SECRET: required(),
  DEFENDER_API_URL: secureUrl.default(DEFAULT_API_URL),
  DEFENDER_LOGIN_URL: secureUrl.default(DEFAULT_LOGIN_URL),
  DEFENDER_SCOPE: z.string().min(1).default(DEFAULT_SCOPE),
  DEFENDER_TIMEOUT_MS: optionalMs,
  DEFENDER_POLL_INTERVAL_MS: optionalMs,
  DEFENDER_ACTION_WAIT_MS: optionalMs,
});

const PRESENCE = ['DEFENDER_TENANT_ID', 'DEFENDER_CLIENT_ID', 'DEFENDER_CLIENT_SECRET', 'DEFENDER_API_URL', 'DEFENDER_LOGIN_URL'];

/**
 * Undefined when none of the DEFENDER_* connection variables is set; throws, naming the
 * variable but never its value, when the configuration is partial or invalid.
 */
export function loadDefenderConfig(env: NodeJS.ProcessEnv = process.env): DefenderConfig | undefined {
  const raw: Record<string, string | undefined> = {};
  for (const k of Object.keys(envSchema.shape)) {
    const v = env[k]?.trim();
    if (v) raw[k] = v;
  }
  if (!PRESENCE.some((k) => raw[k])) return undefined;
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])} ${i.message}`);
    throw new Error(`Defender configuration invalid: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    tenantId: e.DEFENDER_TENANT_ID,
    clientId: e.DEFENDER_CLIENT_ID,
    clientSecret: e.DEFENDER_CLIENT_SECRET,
    apiUrl: e.DEFENDER_API_URL.replace(/\/+$/, ''),
    loginUrl: e.DEFENDER_LOGIN_URL.replace(/\/+$/, ''),
    scope: e.DEFENDER_SCOPE,
    timeoutMs: e.DEFENDER_TIMEOUT_MS,
    pollIntervalMs: e.DEFENDER_POLL_INTERVAL_MS,
    actionWaitMs: e.DEFENDER_ACTION_WAIT_MS,
  };
}
