import { z } from 'zod';
import { baseUrlProblem, parseEnv, pick, trimSlash } from '../jira/env';

export interface OpaConfig {
  /** OPA's REST API, e.g. https://opa.example.com:8181 or http://127.0.0.1:8181 (a sidecar). */
  url: string;
  /** Bearer token, when OPA runs with --authentication=token. */
  token?: string;
  timeoutMs: number;
}

const VARS = ['OPA_URL', 'OPA_TOKEN', 'OPA_TIMEOUT_MS'] as const;

const schema = z.object({
  // A policy decision gates containment: it must not be readable or forgeable on the way.
  OPA_URL: z.string({ error: 'is required' }).refine((v) => !baseUrlProblem(v), { error: (i) => baseUrlProblem(String(i.input)) ?? 'invalid URL' }),
  OPA_TOKEN: z.string().max(4096).optional(),
  OPA_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
});

/** OPA settings from the environment; undefined when OPA_URL and OPA_TOKEN are both unset. */
export function loadOpaConfig(env: NodeJS.ProcessEnv = process.env): OpaConfig | undefined {
  const vars = pick(env, VARS);
  if (vars.OPA_URL === undefined && vars.OPA_TOKEN === undefined) return undefined;
  const v = parseEnv(schema, vars, 'OPA');
  return { url: trimSlash(v.OPA_URL), token: v.OPA_TOKEN, timeoutMs: v.OPA_TIMEOUT_MS };
}
