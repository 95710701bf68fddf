/**
 * Browser sign-in through OpenID Connect (authorization code with PKCE) against a minimal local
 * provider that follows the protocol: discovery, an authorization endpoint that answers at once
 * for "alice", a token endpoint that checks the PKCE verifier, and its JWKS. drw verifies the ID
 * token and takes the person from the access token through the API's own JWT verification.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { createAuth } from '../../../api/auth';
import { parseAccessPolicy } from '../../../api/auth/access';
import { createApi, listen } from '../../../api/server';
import { createOidcLogin } from '../../../api/ui/oidc';
import { registerUi } from '../../../api/ui/routes';
import { loadConfig } from '../../../common/config';
import { createLogger } from '../../../common/logger';
import { freePort } from '../../../bench/devserver';

const ACCESS = parseAccessPolicy('version: 1\ngroups:\n  secops: [read, operate, decide]\n', 'access.yaml');
const CLIENT = 'drw-ui';

/** code → what the authorization request bound it to. */
const codes = new Map<string, { challenge: string; nonce: string; redirect: string }>();
let idp: http.Server;
let issuer: string;
let key: KeyLike;
let jwk: object;
let app: FastifyInstance;
let url: string;

const sign = (claims: Record<string, unknown>, aud: string) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setAudience(aud).setSubject('alice').setIssuedAt().setExpirationTime('5m').sign(key);

function provider(req: http.IncomingMessage, res: http.ServerResponse): void {
  const u = new URL(req.url!, issuer);
  const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (u.pathname === '/.well-known/openid-configuration') {
    return json(200, { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, code_challenge_methods_supported: ['S256'] });
  }
  if (u.pathname === '/jwks') return json(200, { keys: [{ ...jwk, kid: 'k1', alg: 'RS256', use: 'sig' }] });
  if (u.pathname === '/authorize') {
    const q = u.searchParams;
    if (q.get('client_id') !== CLIENT || q.get('code_challenge_method') !== 'S256' || q.get('response_type') !== 'code') return json(400, { error: 'invalid_request' });
    const code = randomBytes(16).toString('hex');
    codes.set(code, { challenge: q.get('code_challenge')!, nonce: q.get('nonce')!, redirect: q.get('redirect_uri')! });
    const back = new URL(q.get('redirect_uri')!);
    back.searchParams.set('code', code);
    back.searchParams.set('state', q.get('state')!);
    return void res.writeHead(302, { location: back.toString() }).end();
  }
  if (u.pathname === '/token' && req.method === 'POST') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const f = new URLSearchParams(body);
      const c = codes.get(f.get('code') ?? '');
      codes.delete(f.get('code') ?? '');
      const verifier = f.get('code_verifier') ?? '';
      if (!c || f.get('grant_type') !== 'authorization_code' || f.get('client_id') !== CLIENT || f.get('redirect_uri') !== c.redirect || createHash('sha256').update(verifier).digest('base64url') !== c.challenge) {
        return json(400, { error: 'invalid_grant' });
      }
      void Promise.all([sign({ nonce: c.nonce }, CLIENT), sign({ groups: ['secops'] }, 'drw')]).then(([id, access]) => json(200, { id_token: id, access_token: access, token_type: 'Bearer', expires_in: 300 }));
    });
    return;
  }
  json(404, { error: 'not_found' });
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  jwk = await exportJWK(pair.publicKey);
  idp = http.createServer(provider);
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const cfg = loadConfig({ DRW_JWT_JWKS_URL: `${issuer}/jwks`, DRW_JWT_ISSUER: issuer, DRW_JWT_AUDIENCE: 'drw', DRW_OIDC_ISSUER: issuer, DRW_OIDC_CLIENT_ID: CLIENT });
  const auth = createAuth(cfg.auth, { access: ACCESS });
  const logger = createLogger('silent');
  const oidc = createOidcLogin(cfg.api.ui.oidc!, {
    redirectUrl: `${url}/ui/auth/callback`,
    identify: async (token) => {
      const c = await auth.authorize({ headers: { authorization: `Bearer ${token}` } }, 'read', async () => Buffer.alloc(0));
      return c.kind === 'person' ? { user: c.user, groups: c.groups } : Promise.reject(new Error('no person'));
    },
  });
  const backend = { pending: async () => [], state: async () => Promise.reject(new Error('unused')), runId: async () => undefined, decide: async () => Promise.reject(new Error('unused')) };
  app = await createApi({
    logger,
    ready: () => true,
    auth,
    host: '127.0.0.1',
    settings: cfg.api,
    routes: [],
    ui: (a) => registerUi(a, { backend, access: ACCESS, settings: cfg.api.ui, sessionKey: randomBytes(32), localPicker: false, oidc, secureCookies: false, temporalUi: { url: 'http://127.0.0.1:8233', namespace: 'default' }, logger }),
  });
  await listen(app, '127.0.0.1', port);
});
afterAll(async () => {
  await app?.close();
  await new Promise((r) => idp?.close(r));
});

/** A browser: cookies for drw, redirects followed by hand. */
class Browser {
  cookies = new Map<string, string>();
  async go(target: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const mine = target.startsWith(url);
    const res = await fetch(target, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: { ...(mine ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}), ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    if (mine) for (const c of res.headers.getSetCookie()) this.cookies.set(c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1).split(';')[0]);
    return res;
  }
  /** Up to the provider's answer: the callback URL it sends the browser to. */
  async startSignIn(): Promise<string> {
    const page = await (await this.go(`${url}/ui/sign-in`)).text();
    expect(page).not.toMatch(/Local identity picker/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1];
    const toIdp = await this.go(`${url}/ui/sign-in`, { method: 'POST', form: { csrf } });
    expect(toIdp.status).toBe(303);
    const authorize = new URL(toIdp.headers.get('location')!);
    expect(authorize.origin + authorize.pathname).toBe(`${issuer}/authorize`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const back = await this.go(authorize.toString());
    expect(back.status).toBe(302);
    return back.headers.get('location')!;
  }
}

test('an approver signs in through the identity provider (code flow with PKCE) and is who the access token says', async () => {
  const b = new Browser();
  const callback = await b.startSignIn();
  const done = await b.go(callback);
  expect([done.status, done.headers.get('location')]).toEqual([303, '/ui']);
  const inbox = await (await b.go(`${url}/ui`)).text();
  expect(inbox).toMatch(/Signed in as <strong>alice<\/strong> \(secops\)/);
  expect(inbox).not.toMatch(/local identity/);
});

test('a callback this browser did not start signs nobody in', async () => {
  const victim = new Browser();
  const stolen = await victim.startSignIn();
  const other = new Browser();
  const r = await other.go(stolen);
  expect(r.status).toBe(400);
  expect(await r.text()).toMatch(/This sign-in was not started here/);
  expect((await other.go(`${url}/ui`)).status).toBe(303);
});

test('an authorization code injected into another sign-in is refused: its PKCE verifier does not match', async () => {
  const attacker = new Browser();
  const injected = new URL(await attacker.startSignIn()).searchParams.get('code')!;
  const victim = new Browser();
  const own = new URL(await victim.startSignIn());
  own.searchParams.set('code', injected);
  const r = await victim.go(own.toString());
  expect(r.status).toBe(401);
  expect(await r.text()).toMatch(/the token endpoint answered 400: invalid_grant/);
  expect((await victim.go(`${url}/ui`)).status).toBe(303);
});

test('an answer whose state differs from the one this browser sent is refused', async () => {
  const b = new Browser();
  const cb = new URL(await b.startSignIn());
  cb.searchParams.set('state', 'another-state');
  const r = await b.go(cb.toString());
  expect(r.status).toBe(401);
  expect(await r.text()).toMatch(/state differs/);
});
