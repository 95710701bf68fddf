import { z } from 'zod';
import { AWS_REGION_RE } from '../../../ingest/source-ref';
import { parseEnv, pick } from '../jira/env';
import { isHttpsOrLoopback } from '../secure-url';

/**
 * AWS Security Hub settings. Credentials are AWS's own: the standard variables
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) of the environment drw was
 * given, else the SDK's default provider chain (AWS_PROFILE, web identity, container and
 * instance roles). drw has no variable of its own for an AWS secret.
 */
export interface SecurityHubConfig {
  /** AWS_REGION: the region asked when the finding's own region is unknown. */
  region?: string;
  /** SECURITYHUB_ENDPOINT: another endpoint (a simulator, a VPC endpoint); AWS's regional one when unset. */
  endpoint?: string;
  /** Static keys when the given environment has them; undefined: the SDK's provider chain finds them. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** AWS_PROFILE of the given environment, for the SDK's shared-config files. */
  profile?: string;
  timeoutMs: number;
}

const VARS = ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'SECURITYHUB_ENDPOINT', 'SECURITYHUB_TIMEOUT_MS'] as const;
/** Variables that tell the SDK's provider chain where credentials are, beyond static keys. */
const CHAIN_HINTS = ['AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'];

const schema = z
  .object({
    AWS_REGION: z.string().regex(AWS_REGION_RE, 'must be an AWS region such as us-east-1').optional(),
    AWS_ACCESS_KEY_ID: z.string().regex(/^[A-Z0-9]{16,128}$/, 'must be an AWS access key id').optional(),
    AWS_SECRET_ACCESS_KEY: z.string().max(256).optional(),
    AWS_SESSION_TOKEN: z.string().max(4096).optional(),
    AWS_PROFILE: z.string().max(128).optional(),
    // The request is signed, but its answer (findings) must not be readable or alterable on the way either.
    SECURITYHUB_ENDPOINT: z.string().refine(isHttpsOrLoopback, 'must be an https URL (plain http only for localhost)').refine((v) => !/@|[?#]/.test(v), 'must not contain credentials, a query or a fragment').optional(),
    SECURITYHUB_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  })
  .refine((v) => !v.AWS_ACCESS_KEY_ID === !v.AWS_SECRET_ACCESS_KEY, { path: ['AWS_SECRET_ACCESS_KEY'], message: 'and AWS_ACCESS_KEY_ID go together', when: () => true });

/** Whether the environment names AWS credentials (keys, a profile, a web identity or container role). */
export function awsCredentialsIn(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.AWS_ACCESS_KEY_ID?.trim() && env.AWS_SECRET_ACCESS_KEY?.trim()) || CHAIN_HINTS.some((n) => env[n]?.trim());
}

/**
 * Security Hub settings; undefined unless SECURITYHUB_ENDPOINT is set or the environment names
 * AWS credentials and AWS_REGION. `explicit` (DRW_FINDING_SOURCES names securityhub): configured
 * whatever the hints, for an instance role the environment cannot show.
 */
export function loadSecurityHubConfig(env: NodeJS.ProcessEnv = process.env, opts: { explicit?: boolean } = {}): SecurityHubConfig | undefined {
  const vars = pick(env, VARS);
  if (!opts.explicit && !vars.SECURITYHUB_ENDPOINT && !(awsCredentialsIn(env) && vars.AWS_REGION)) return undefined;
  const v = parseEnv(schema, vars, 'Security Hub');
  return {
    region: v.AWS_REGION,
    endpoint: v.SECURITYHUB_ENDPOINT?.replace(/\/+$/, ''),
    credentials: v.AWS_ACCESS_KEY_ID && v.AWS_SECRET_ACCESS_KEY ? { accessKeyId: v.AWS_ACCESS_KEY_ID, secretAccessKey: v.AWS_SECRET_ACCESS_KEY, ...(v.AWS_SESSION_TOKEN ? { sessionToken: v.AWS_SESSION_TOKEN } : {}) } : undefined,
    profile: v.AWS_PROFILE,
    timeoutMs: v.SECURITYHUB_TIMEOUT_MS,
  };
}
