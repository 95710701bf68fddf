import { z } from 'zod';
import { isHttpsOrLoopback } from '../secure-url';

export interface CrowdStrikeConfig {
  /** Where the first token request goes. */
  baseUrl: string;
  /**
   * Follow the cloud the token answer names in X-Cs-Region, as CrowdStrike's SDKs do; off when
   * FALCON_BASE_URL pins the URL (a proxy or a simulator).
   */
  followRegion?: boolean;
  /**
   * No cloud named: the first token request asks US-1, which cannot answer for GovCloud
   * tenants (CrowdStrike's SDKs do not autodiscover GovCloud either), so its refusal says so.
   */
  autodiscover?: boolean;
  /** API base URL per Falcon cloud (default FALCON_CLOUDS). */
  cloudUrls?: Record<string, string>;
  clientId: string;
  clientSecret: string;
  /** MSSP (Flight Control) child CID the token is scoped to. */
  memberCid?: string;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Interval between state reads while waiting for containment to take effect. */
  pollIntervalMs?: number;
  /**
   * How long isolate/release wait for the final state before returning the pending one. An
   * offline host stays pending until it checks in, so this is bounded and the workflow's
   * verification step (host_contained) does the long wait.
   */
  settleWaitMs?: number;
}

/** Falcon's clouds and their API hosts, as gofalcon (falcon/cloud.go) and PSFalcon list them. */
export const FALCON_CLOUDS: Record<string, string> = {
  'us-1': 'https://api.crowdstrike.com',
  'us-2': 'https://api.us-2.crowdstrike.com',
  'us-3': 'https://api.us-3.crowdstrike.com',
  'eu-1': 'https://api.eu-1.crowdstrike.com',
  'us-gov-1': 'https://api.laggar.gcw.crowdstrike.com',
  'us-gov-2': 'https://api.us-gov-2.crowdstrike.mil',
};

/** A cloud's API base URL; a commercial region added after this list follows the api.<region> pattern. */
export function cloudUrl(region: string, urls: Record<string, string> = FALCON_CLOUDS): string | undefined {
  const r = region.trim().toLowerCase();
  return urls[r] ?? (/^(us|eu)-\d$/.test(r) ? `https://api.${r}.crowdstrike.com` : undefined);
}

const optionalMs = z.coerce.number().int().min(0).max(3_600_000).optional();

const envSchema = z.object({
  FALCON_BASE_URL: z.url().refine(isHttpsOrLoopback, 'must be an https URL').optional(),
  FALCON_CLOUD: z
    .string()
    .transform((v) => v.toLowerCase())
    .refine((v) => v === 'autodiscover' || v in FALCON_CLOUDS, `must be autodiscover or one of ${Object.keys(FALCON_CLOUDS).join(', ')}`)
    .default('autodiscover'),
  FALCON_CLIENT_ID: z.string({ error: 'is required' }).min(1, 'is required'),
  FALCON_CLIENT_SECRET: z.string({ error: 'is required' }).min(1, 'is required'),
  FALCON_MEMBER_CID: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a CID').optional(),
  FALCON_TIMEOUT_MS: optionalMs,
  FALCON_POLL_INTERVAL_MS: optionalMs,
  FALCON_SETTLE_WAIT_MS: optionalMs,
});

/**
 * Undefined when no FALCON_* variable is set (CrowdStrike not used by this worker); throws,
 * naming the variable but never its value, when the configuration is partial or invalid.
 */
export function loadCrowdStrikeConfig(env: NodeJS.ProcessEnv = process.env): CrowdStrikeConfig | undefined {
  const raw = pick(env, Object.keys(envSchema.shape));
  if (!raw.FALCON_CLIENT_ID && !raw.FALCON_CLIENT_SECRET && !raw.FALCON_BASE_URL && !raw.FALCON_MEMBER_CID && !raw.FALCON_CLOUD) return undefined;
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])} ${i.message}`);
    throw new Error(`CrowdStrike configuration invalid: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    // Autodiscovery starts at US-1, whose token endpoint names every tenant's cloud.
    baseUrl: (e.FALCON_BASE_URL ?? FALCON_CLOUDS[e.FALCON_CLOUD === 'autodiscover' ? 'us-1' : e.FALCON_CLOUD]).replace(/\/+$/, ''),
    followRegion: !e.FALCON_BASE_URL,
    autodiscover: !e.FALCON_BASE_URL && e.FALCON_CLOUD === 'autodiscover',
    clientId: e.FALCON_CLIENT_ID,
    clientSecret: e.FALCON_CLIENT_SECRET,
    memberCid: e.FALCON_MEMBER_CID,
    timeoutMs: e.FALCON_TIMEOUT_MS,
    pollIntervalMs: e.FALCON_POLL_INTERVAL_MS,
    settleWaitMs: e.FALCON_SETTLE_WAIT_MS,
  };
}

/** Blank variables count as unset, as they do in most deployment tools. */
function pick(env: NodeJS.ProcessEnv, keys: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of keys) {
    const v = env[k]?.trim();
    if (v) out[k] = v;
  }
  return out;
}
