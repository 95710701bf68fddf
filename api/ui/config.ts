/**
 * The approval pages' settings (read with the API's, api/config.ts; problems name the variable).
 *
 *   DRW_UI_SESSION_KEY_FILE   the key that seals session cookies (created on first start;
 *                             default <DRW_DATA_DIR or .drw>/ui-session.key); several API
 *                             instances behind one address share it
 *   DRW_UI_SESSION_HOURS      how long a sign-in lasts (8)
 *   DRW_OIDC_ISSUER           the identity provider (OpenID Connect discovery at
 *                             <issuer>/.well-known/openid-configuration); needs DRW_JWT_* too,
 *                             which verify its tokens exactly as the API's
 *   DRW_OIDC_CLIENT_ID        drw's client at the provider (authorization code with PKCE)
 *   DRW_OIDC_CLIENT_SECRET    for a confidential client (optional: a public client uses PKCE alone)
 *   DRW_OIDC_SCOPES           requested scopes ("openid profile email groups")
 *   DRW_OIDC_REDIRECT_URL     the callback registered at the provider (<DRW_PUBLIC_URL>/ui/auth/callback)
 */
import path from 'node:path';
import { z } from 'zod';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scopes: string;
  /** Absent: <DRW_PUBLIC_URL>/ui/auth/callback. */
  redirectUrl?: string;
}

export interface UiSettings {
  sessionKeyFile: string;
  sessionTtlMs: number;
  oidc?: OidcSettings;
}

const schema = z.object({
  DRW_UI_SESSION_KEY_FILE: z.string().min(1).optional(),
  DRW_UI_SESSION_HOURS: z.coerce.number().positive().max(24 * 30).default(8),
  DRW_OIDC_ISSUER: z.url().optional(),
  DRW_OIDC_CLIENT_ID: z.string().min(1).max(500).optional(),
  DRW_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  DRW_OIDC_SCOPES: z.string().min(1).default('openid profile email groups'),
  DRW_OIDC_REDIRECT_URL: z.url().optional(),
});

const isLoopbackUrl = (u: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);

export function loadUiSettings(env: NodeJS.ProcessEnv, root: string, problems: string[]): UiSettings {
  const r = schema.safeParse(Object.fromEntries(Object.keys(schema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]])));
  if (!r.success) {
    for (const i of r.error.issues) problems.push(`${i.path.join('.')}: ${i.message}`);
    return loadUiSettings({}, root, []);
  }
  const e = r.data;
  const sessionKeyFile = path.resolve(e.DRW_UI_SESSION_KEY_FILE ?? path.join(env.DRW_DATA_DIR || path.join(root, '.drw'), 'ui-session.key'));
  let oidc: OidcSettings | undefined;
  if (e.DRW_OIDC_ISSUER || e.DRW_OIDC_CLIENT_ID) {
    if (!e.DRW_OIDC_ISSUER) problems.push('DRW_OIDC_ISSUER: required with DRW_OIDC_CLIENT_ID (the identity provider, e.g. https://idp.example.com/realms/secops)');
    if (!e.DRW_OIDC_CLIENT_ID) problems.push('DRW_OIDC_CLIENT_ID: required with DRW_OIDC_ISSUER (drw\'s client id at the identity provider)');
    if (e.DRW_OIDC_ISSUER && !isLoopbackUrl(new URL(e.DRW_OIDC_ISSUER)) && new URL(e.DRW_OIDC_ISSUER).protocol !== 'https:') {
      problems.push('DRW_OIDC_ISSUER: must be https; plain http is accepted only on loopback');
    }
    if (!e.DRW_OIDC_SCOPES.split(/\s+/).includes('openid')) problems.push('DRW_OIDC_SCOPES: must include "openid"');
    const hasJwt = Boolean(env.DRW_JWT_JWKS_URL || env.DRW_JWT_PUBLIC_KEYS || env.DRW_JWT_HS256_SECRET);
    if (!hasJwt) problems.push('DRW_OIDC_ISSUER: the browser sign-in needs person authentication too (DRW_JWT_JWKS_URL with DRW_JWT_ISSUER and DRW_JWT_AUDIENCE): the provider\'s tokens are verified as the API verifies them');
    if (e.DRW_OIDC_ISSUER && e.DRW_OIDC_CLIENT_ID) {
      oidc = { issuer: e.DRW_OIDC_ISSUER, clientId: e.DRW_OIDC_CLIENT_ID, scopes: e.DRW_OIDC_SCOPES, ...(e.DRW_OIDC_CLIENT_SECRET ? { clientSecret: e.DRW_OIDC_CLIENT_SECRET } : {}), ...(e.DRW_OIDC_REDIRECT_URL ? { redirectUrl: e.DRW_OIDC_REDIRECT_URL } : {}) };
    }
  }
  return { sessionKeyFile, sessionTtlMs: Math.round(e.DRW_UI_SESSION_HOURS * 3_600_000), ...(oidc ? { oidc } : {}) };
}
