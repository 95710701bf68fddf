import { z } from 'zod';
import { baseUrlProblem, parseEnv, pick, trimSlash } from '../jira/env';

export interface EntraConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Microsoft Graph; configurable for national clouds and simulators. */
  graphUrl: string;
  /** Entra ID authority. */
  loginUrl: string;
  scope: string;
  timeoutMs: number;
}

const VARS = ['ENTRA_TENANT_ID', 'ENTRA_CLIENT_ID', 'ENTRA_CLIENT_SECRET', 'ENTRA_GRAPH_URL', 'ENTRA_LOGIN_URL', 'ENTRA_TIMEOUT_MS'] as const;
const TRIGGERS = ['ENTRA_TENANT_ID', 'ENTRA_CLIENT_ID', 'ENTRA_CLIENT_SECRET', 'ENTRA_GRAPH_URL'];

const url = (def: string) => z.string().refine((v) => !baseUrlProblem(v), { error: (i) => baseUrlProblem(String(i.input)) ?? 'invalid URL' }).default(def);
const required = () => z.string({ error: 'is required' }).min(1, 'is required');

const schema = z.object({
  // A GUID or a verified domain: either is a path segment of the token URL.
  ENTRA_TENANT_ID: required().regex(/^[A-Za-z0-9.-]{1,128}$/, 'must be a tenant id or domain'),
  ENTRA_CLIENT_ID: required(),
  ENTRA_CLIENT_SECRET: required(),
  ENTRA_GRAPH_URL: url('https://graph.microsoft.com'),
  ENTRA_LOGIN_URL: url('https://login.microsoftonline.com'),
  ENTRA_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
});

/** Microsoft Entra ID (Graph) settings from the environment; undefined when none of its variables is set. */
export function loadEntraConfig(env: NodeJS.ProcessEnv = process.env): EntraConfig | undefined {
  const vars = pick(env, VARS);
  if (!TRIGGERS.some((n) => vars[n] !== undefined)) return undefined;
  const v = parseEnv(schema, vars, 'Entra ID');
  const graphUrl = trimSlash(v.ENTRA_GRAPH_URL);
  return {
    tenantId: v.ENTRA_TENANT_ID,
    clientId: v.ENTRA_CLIENT_ID,
    clientSecret: v.ENTRA_CLIENT_SECRET,
    graphUrl,
    loginUrl: trimSlash(v.ENTRA_LOGIN_URL),
    // The .default scope of the real Graph, whatever URL the API is reached at (simulators).
    scope: 'https://graph.microsoft.com/.default',
    timeoutMs: v.ENTRA_TIMEOUT_MS,
  };
}
