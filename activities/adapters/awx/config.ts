import { z } from 'zod';
import { baseUrlProblem, parseEnv, pick, trimSlash } from '../jira/env';
import { runbookMapSchema } from '../runbook-job';

export interface AwxConfig {
  /** AWX or Automation Platform, e.g. https://awx.example.com or https://aap.example.com. */
  baseUrl: string;
  /** The controller API's path: /api/v2 on AWX and AAP up to 2.4, /api/controller/v2 behind the AAP 2.5 gateway. */
  apiPath: string;
  /** OAuth2 / personal access token (Bearer); or username + password (basic). */
  token?: string;
  username?: string;
  password?: string;
  /** runbook name → job template id. */
  templates: Record<string, number>;
  /** Pass the asset as the job's limit (the template must prompt for it). */
  limitToAsset: boolean;
  timeoutMs: number;
  pollIntervalMs: number;
  jobWaitMs: number;
  outputMaxChars: number;
}

const VARS = [
  'AWX_URL',
  'AWX_API_PATH',
  'AWX_TOKEN',
  'AWX_USERNAME',
  'AWX_PASSWORD',
  'AWX_JOB_TEMPLATES',
  'AWX_LIMIT_TO_ASSET',
  'AWX_TIMEOUT_MS',
  'AWX_POLL_INTERVAL_MS',
  'AWX_JOB_WAIT_MS',
  'AWX_OUTPUT_MAX_CHARS',
] as const;
const TRIGGERS = ['AWX_URL', 'AWX_TOKEN', 'AWX_USERNAME', 'AWX_JOB_TEMPLATES'];

const ms = (def: number) => z.coerce.number().int().min(0).max(24 * 3_600_000).default(def);

const schema = z
  .object({
    AWX_URL: z.string({ error: 'is required' }).refine((v) => !baseUrlProblem(v), { error: (i) => baseUrlProblem(String(i.input)) ?? 'invalid URL' }),
    AWX_API_PATH: z.string().regex(/^(\/[a-z0-9_-]+)+$/, 'must be a path like /api/v2 or /api/controller/v2').default('/api/v2'),
    AWX_TOKEN: z.string().max(4096).optional(),
    AWX_USERNAME: z.string().max(256).optional(),
    AWX_PASSWORD: z.string().max(4096).optional(),
    AWX_JOB_TEMPLATES: runbookMapSchema(z.number().int().positive(), '{"restart-service": 7}'),
    AWX_LIMIT_TO_ASSET: z.enum(['1', '0', 'true', 'false']).default('0'),
    AWX_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
    AWX_POLL_INTERVAL_MS: ms(5_000),
    AWX_JOB_WAIT_MS: ms(600_000),
    AWX_OUTPUT_MAX_CHARS: z.coerce.number().int().min(100).max(100_000).default(2_000),
  })
  // `when`: report a missing credential together with the other problems, not only once they are fixed.
  .refine((v) => Boolean(v.AWX_TOKEN || (v.AWX_USERNAME && v.AWX_PASSWORD)), {
    path: ['AWX_TOKEN'],
    message: 'is required (or AWX_USERNAME and AWX_PASSWORD)',
    when: () => true,
  });

/** AWX / Automation Platform settings from the environment; undefined when none of its variables is set. */
export function loadAwxConfig(env: NodeJS.ProcessEnv = process.env): AwxConfig | undefined {
  const vars = pick(env, VARS);
  if (!TRIGGERS.some((n) => vars[n] !== undefined)) return undefined;
  const v = parseEnv(schema, vars, 'AWX');
  return {
    baseUrl: trimSlash(v.AWX_URL),
    apiPath: v.AWX_API_PATH,
    token: v.AWX_TOKEN,
    username: v.AWX_TOKEN ? undefined : v.AWX_USERNAME,
    password: v.AWX_TOKEN ? undefined : v.AWX_PASSWORD,
    templates: v.AWX_JOB_TEMPLATES,
    limitToAsset: ['1', 'true'].includes(v.AWX_LIMIT_TO_ASSET),
    timeoutMs: v.AWX_TIMEOUT_MS,
    pollIntervalMs: v.AWX_POLL_INTERVAL_MS,
    jobWaitMs: v.AWX_JOB_WAIT_MS,
    outputMaxChars: v.AWX_OUTPUT_MAX_CHARS,
  };
}
