import { z } from 'zod';
import { baseUrlProblem, parseEnv, pick, trimSlash } from '../jira/env';
import { runbookMapSchema } from '../runbook-job';

export interface RundeckConfig {
  baseUrl: string;
  token: string;
  /** API version in the paths (/api/{version}/...); 41 is Rundeck 4.x, served by every 4.x and 5.x server. */
  apiVersion: number;
  /** runbook name → job UUID. */
  jobs: Record<string, string>;
  /** Run the job on the asset's node only (node filter `name: <asset>`). */
  filterToAsset: boolean;
  timeoutMs: number;
  pollIntervalMs: number;
  jobWaitMs: number;
  outputMaxChars: number;
  /** Log lines read for the summary (the output API's lastlines). */
  outputLines: number;
}

const VARS = [
  'RUNDECK_URL',
  'RUNDECK_TOKEN',
  'RUNDECK_API_VERSION',
  'RUNDECK_JOBS',
  'RUNDECK_FILTER_TO_ASSET',
  'RUNDECK_TIMEOUT_MS',
  'RUNDECK_POLL_INTERVAL_MS',
  'RUNDECK_JOB_WAIT_MS',
  'RUNDECK_OUTPUT_MAX_CHARS',
] as const;
const TRIGGERS = ['RUNDECK_URL', 'RUNDECK_TOKEN', 'RUNDECK_JOBS'];

const ms = (def: number) => z.coerce.number().int().min(0).max(24 * 3_600_000).default(def);

const schema = z.object({
  RUNDECK_URL: z.string({ error: 'is required' }).refine((v) => !baseUrlProblem(v), { error: (i) => baseUrlProblem(String(i.input)) ?? 'invalid URL' }),
  RUNDECK_TOKEN: z.string({ error: 'is required' }).min(1).max(4096),
  // Options as a JSON map (which the adapter uses) need API v18; meta.* needs v32.
  RUNDECK_API_VERSION: z.coerce.number().int().min(18).max(99).default(41),
  RUNDECK_JOBS: runbookMapSchema(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'job ids are UUIDs'), '{"restart-service": "<job uuid>"}'),
  RUNDECK_FILTER_TO_ASSET: z.enum(['1', '0', 'true', 'false']).default('0'),
  RUNDECK_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  RUNDECK_POLL_INTERVAL_MS: ms(5_000),
  RUNDECK_JOB_WAIT_MS: ms(600_000),
  RUNDECK_OUTPUT_MAX_CHARS: z.coerce.number().int().min(100).max(100_000).default(2_000),
});

/** Rundeck settings from the environment; undefined when none of its variables is set. */
export function loadRundeckConfig(env: NodeJS.ProcessEnv = process.env): RundeckConfig | undefined {
  const vars = pick(env, VARS);
  if (!TRIGGERS.some((n) => vars[n] !== undefined)) return undefined;
  const v = parseEnv(schema, vars, 'Rundeck');
  return {
    baseUrl: trimSlash(v.RUNDECK_URL),
    token: v.RUNDECK_TOKEN,
    apiVersion: v.RUNDECK_API_VERSION,
    jobs: v.RUNDECK_JOBS,
    filterToAsset: ['1', 'true'].includes(v.RUNDECK_FILTER_TO_ASSET),
    timeoutMs: v.RUNDECK_TIMEOUT_MS,
    pollIntervalMs: v.RUNDECK_POLL_INTERVAL_MS,
    jobWaitMs: v.RUNDECK_JOB_WAIT_MS,
    outputMaxChars: v.RUNDECK_OUTPUT_MAX_CHARS,
    outputLines: 200,
  };
}
