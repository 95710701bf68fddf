/**
 * Sign-in through the identity provider: OpenID Connect authorization code flow with PKCE (S256),
 * state and nonce. The provider's endpoints come from its discovery document; the ID token is
 * verified (signature from the provider's JWKS, issuer, audience = drw's client, nonce); who the
 * person is and their groups come from the access token, verified by the API's own person
 * authentication (DRW_JWT_*), so a browser session and a CLI token give the same identity.
 *
 * jose (already drw's JWT library) verifies the tokens; the protocol steps are the few requests
 * below, which keeps the flow in CommonJS without an ESM-only client library.
 */
import { createHash, randomBytes } from 'node:crypto';
import axios from 'axios';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { z } from 'zod';
import type { OidcSettings } from './config';

export interface OidcCheck {
  state: string;
  nonce: string;
  verifier: string;
}

export interface OidcLogin {
  /** Where to send the browser, and what the callback must match (kept in the sealed pre-session cookie). */
  begin(): Promise<{ url: string; check: OidcCheck }>;
  /** The callback's query → the verified person. Throws with a reason on anything wrong. */
  finish(query: URLSearchParams, check: OidcCheck): Promise<{ user: string; groups: string[] }>;
}

const discoverySchema = z.looseObject({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
});
const tokenSchema = z.looseObject({ id_token: z.string(), access_token: z.string(), token_type: z.string() });

const b64 = (n: number) => randomBytes(n).toString('base64url');

export interface OidcDeps {
  /** The API's person authentication: the access token → user and groups (api/auth UserAuthenticator). */
  identify(accessToken: string): Promise<{ user: string; groups: string[] }>;
  redirectUrl: string;
  timeoutMs?: number;
}

export function createOidcLogin(s: OidcSettings, deps: OidcDeps): OidcLogin {
  const http = axios.create({ timeout: deps.timeoutMs ?? 10_000, maxRedirects: 0, validateStatus: () => true });
  let discovered: Promise<z.infer<typeof discoverySchema>> | undefined;
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  const discovery = () =>
    (discovered ??= (async () => {
      const url = `${s.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const r = await http.get(url);
      if (r.status !== 200) throw new Error(`the identity provider's discovery document ${url} answered ${r.status}`);
      const d = discoverySchema.safeParse(r.data);
      if (!d.success) throw new Error(`the discovery document ${url} is not OpenID Connect's: ${d.error.issues.map((i) => i.path.join('.')).join(', ')}`);
      if (d.data.issuer !== s.issuer) throw new Error(`the discovery document names issuer ${d.data.issuer}, not DRW_OIDC_ISSUER ${s.issuer}`);
      if (d.data.code_challenge_methods_supported && !d.data.code_challenge_methods_supported.includes('S256')) throw new Error('the identity provider does not offer PKCE with S256');
      jwks = createRemoteJWKSet(new URL(d.data.jwks_uri));
      return d.data;
    })().catch((e) => {
      discovered = undefined;
      throw e;
    }));

  return {
    async begin() {
      const d = await discovery();
      const check = { state: b64(24), nonce: b64(24), verifier: b64(48) };
      const u = new URL(d.authorization_endpoint);
      u.searchParams.set('response_type', 'code');
      u.searchParams.set('client_id', s.clientId);
      u.searchParams.set('redirect_uri', deps.redirectUrl);
      u.searchParams.set('scope', s.scopes);
      u.searchParams.set('state', check.state);
      u.searchParams.set('nonce', check.nonce);
      u.searchParams.set('code_challenge', createHash('sha256').update(check.verifier).digest('base64url'));
      u.searchParams.set('code_challenge_method', 'S256');
      return { url: u.toString(), check };
    },
    async finish(q, check) {
      if (q.get('error')) throw new Error(`the identity provider refused: ${q.get('error')}${q.get('error_description') ? ` (${q.get('error_description')!.slice(0, 200)})` : ''}`);
      if (q.get('state') !== check.state) throw new Error('the answer is not for the sign-in this browser started (state differs)');
      const code = q.get('code');
      if (!code) throw new Error('the identity provider sent no authorization code');
      const d = await discovery();
      const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: deps.redirectUrl, client_id: s.clientId, code_verifier: check.verifier });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      if (s.clientSecret) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(s.clientId)}:${encodeURIComponent(s.clientSecret)}`).toString('base64')}`;
      const r = await http.post(d.token_endpoint, form.toString(), { headers });
      if (r.status !== 200) throw new Error(`the token endpoint answered ${r.status}${typeof r.data?.error === 'string' ? `: ${r.data.error}` : ''}`);
      const t = tokenSchema.safeParse(r.data);
      if (!t.success) throw new Error('the token endpoint answered without an id_token and an access_token');
      const { payload } = await jwtVerify(t.data.id_token, jwks!, { issuer: s.issuer, audience: s.clientId });
      if (payload.nonce !== check.nonce) throw new Error('the ID token is not for this sign-in (nonce differs)');
      return deps.identify(t.data.access_token);
    },
  };
}
