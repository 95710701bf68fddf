import { readFileSync } from 'node:fs';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { baseUrlProblem, parseEnv, pick, trimSlash } from '../jira/env';

export interface OktaConfig {
  /** The Okta org, e.g. https://acme.okta.com. */
  orgUrl: string;
  /** Either an API token (SSWS) ... */
  apiToken?: string;
  /** ... or an OAuth 2.0 service app: client id + private key (private_key_jwt, as Okta requires for its API scopes). */
  oauth?: { clientId: string; privateKey: KeyObject; keyId?: string; scopes: string };
  timeoutMs: number;
}

const VARS = ['OKTA_ORG_URL', 'OKTA_API_TOKEN', 'OKTA_CLIENT_ID', 'OKTA_PRIVATE_KEY', 'OKTA_KEY_ID', 'OKTA_SCOPES', 'OKTA_TIMEOUT_MS'] as const;
const TRIGGERS = ['OKTA_ORG_URL', 'OKTA_API_TOKEN', 'OKTA_CLIENT_ID'];

const schema = z
  .object({
    OKTA_ORG_URL: z.string({ error: 'is required' }).refine((v) => !baseUrlProblem(v), { error: (i) => baseUrlProblem(String(i.input)) ?? 'invalid URL' }),
    OKTA_API_TOKEN: z.string().max(4096).optional(),
    OKTA_CLIENT_ID: z.string().max(256).optional(),
    OKTA_PRIVATE_KEY: z.string().optional(),
    OKTA_KEY_ID: z.string().max(256).optional(),
    OKTA_SCOPES: z.string().regex(/^[a-z.]+( [a-z.]+)*$/, 'space-separated Okta scopes, e.g. okta.users.manage').default('okta.users.manage'),
    OKTA_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  })
  .refine((v) => Boolean(v.OKTA_API_TOKEN || (v.OKTA_CLIENT_ID && v.OKTA_PRIVATE_KEY)), {
    path: ['OKTA_API_TOKEN'],
    message: 'is required (or OKTA_CLIENT_ID and OKTA_PRIVATE_KEY for an OAuth service app)',
    when: () => true,
  });

/** Okta settings from the environment; undefined when none of its variables is set. */
export function loadOktaConfig(env: NodeJS.ProcessEnv = process.env): OktaConfig | undefined {
  const vars = pick(env, VARS);
  if (!TRIGGERS.some((n) => vars[n] !== undefined)) return undefined;
  const v = parseEnv(schema, vars, 'Okta');
  const base = { orgUrl: trimSlash(v.OKTA_ORG_URL), timeoutMs: v.OKTA_TIMEOUT_MS };
  if (v.OKTA_API_TOKEN) return { ...base, apiToken: v.OKTA_API_TOKEN };
  return { ...base, oauth: { clientId: v.OKTA_CLIENT_ID!, privateKey: privateKey(v.OKTA_PRIVATE_KEY!), keyId: v.OKTA_KEY_ID, scopes: v.OKTA_SCOPES } };
}

/** A PEM given inline or as a file path; the message never quotes the key. */
function privateKey(value: string): KeyObject {
  let pem = value;
  if (!value.includes('-----BEGIN')) {
    try {
      pem = readFileSync(value, 'utf8');
    } catch (e) {
      throw new Error(`invalid Okta configuration: OKTA_PRIVATE_KEY: cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    return key;
  } catch {
    throw new Error('invalid Okta configuration: OKTA_PRIVATE_KEY: not an RSA private key in PEM');
  }
}
