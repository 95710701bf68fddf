import { createHmac } from 'node:crypto';
import type http from 'node:http';
import { assertSafeExposure, createAuth, isLoopbackHost } from '../../../api/auth';
import { approvalFromToken, operatorFromToken, riskFromToken } from '../../../api/auth/identity';
import { claimAt, groupsFrom, principalFrom, type Principal } from '../../../api/auth/users';
import { ConfigError, loadConfig } from '../../../common/config';
import { parseAccessPolicy } from '../../../api/auth/access';
import { signIngestRequest } from '../../../api/auth/ingest';
import { AUDIENCE, claims, ISSUER, signJwt, testKey, tokenFor } from './tokens';

const HS = 'an-hs256-development-secret-of-32+chars';
const req = (headers: Record<string, string>) => ({ headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) }) as unknown as http.IncomingMessage;
const noBody = async () => Buffer.from('{}');
const ACCESS = parseAccessPolicy('version: 1\ngroups:\n  secops: [read, operate, decide, "submit:*"]\n  auditors: [read]\n', 'access.yaml');

async function status(p: Promise<unknown>): Promise<{ status: number; message: string; headers?: Record<string, string> }> {
  try {
    await p;
    return { status: 0, message: 'resolved' };
  } catch (e) {
    const x = e as { status: number; message: string; headers?: Record<string, string> };
    return { status: x.status, message: x.message, headers: x.headers };
  }
}

describe('configuration (common/config.ts)', () => {
  const base = { TEMPORAL_ADDRESS: '127.0.0.1:7233' };
  test('nothing set: no authentication', () => {
    const a = createAuth(loadConfig(base).auth);
    expect([a.users, a.ingest]).toEqual([false, false]);
  });

  test('ingest maps accept a string or an array per source', () => {
    const cfg = loadConfig({ ...base, DRW_INGEST_TOKENS: '{"alertmanager":["tok1-0123456789abcdef"],"*":"tok2-0123456789abcdef"}', DRW_GITHUB_WEBHOOK_SECRET: 'gh-0123456789abcdef' });
    expect(cfg.auth.ingestTokens).toEqual({ alertmanager: ['tok1-0123456789abcdef'], '*': ['tok2-0123456789abcdef'] });
    expect(createAuth(cfg.auth).ingest).toBe(true);
  });

  test('bad values are refused at start with the variable named', () => {
    const problems = (env: Record<string, string>) => {
      try {
        createAuth(loadConfig({ ...base, ...env }).auth);
        return [];
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems;
      }
    };
    expect(problems({ DRW_INGEST_TOKENS: '{alertmanager' })[0]).toMatch(/^DRW_INGEST_TOKENS: not valid JSON/);
    expect(problems({ DRW_INGEST_TOKENS: '["x"]' })[0]).toMatch(/^DRW_INGEST_TOKENS: expected a JSON object/);
    expect(problems({ DRW_INGEST_HMAC_SECRETS: '{"falco":[]}' })[0]).toMatch(/^DRW_INGEST_HMAC_SECRETS: "falco" must be a non-empty string/);
    expect(problems({ DRW_INGEST_TOKENS: '{"prometheus":"x-0123456789abcdef"}' })[0]).toMatch(/^DRW_INGEST_TOKENS: unknown source "prometheus" \(known: alertmanager, .*, drw, \*\)/);
    expect(problems({ DRW_JWT_HS256_SECRET: 'short' })[0]).toMatch(/^DRW_JWT_HS256_SECRET: at least 32 characters/);
    expect(problems({ DRW_JWT_JWKS_URL: 'https://idp.example/jwks' })).toEqual([expect.stringMatching(/^DRW_JWT_ISSUER: required with DRW_JWT_JWKS_URL/), expect.stringMatching(/^DRW_JWT_AUDIENCE: required with DRW_JWT_JWKS_URL/)]);
    expect(problems({ DRW_JWT_JWKS_URL: 'http://idp.example/jwks', DRW_JWT_ISSUER: 'i', DRW_JWT_AUDIENCE: 'a' })[0]).toMatch(/^DRW_JWT_JWKS_URL: must be https/);
    expect(problems({ DRW_JWT_ISSUER: ISSUER })[0]).toMatch(/^DRW_JWT_ISSUER: set, but nothing verifies tokens/);
    expect(problems({ DRW_JWT_PUBLIC_KEYS: '{"kty":"RSA"}' })[0]).toMatch(/^DRW_JWT_PUBLIC_KEYS\[0\]: not a valid RSA JWK/);
    expect(problems({ DRW_JWT_PUBLIC_KEYS: '/nonexistent/keys.pem' })[0]).toMatch(/^DRW_JWT_PUBLIC_KEYS: cannot read \/nonexistent\/keys.pem: ENOENT/);
  });
});

describe('non-loopback addresses need both halves of authentication', () => {
  test('loopback is recognised', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', 'drw.internal', '128.0.0.1']) expect(isLoopbackHost(h)).toBe(false);
  });

  const auth = (env: Record<string, string>) => loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233', ...env }).auth;
  const people = { DRW_JWT_HS256_SECRET: HS, DRW_JWT_ISSUER: ISSUER, DRW_JWT_AUDIENCE: AUDIENCE };
  const machines = { DRW_INGEST_TOKENS: '{"*":"an-ingest-token-of-at-least-32-characters"}' };

  test('refused with the variables named; allowed with both', () => {
    expect(() => assertSafeExposure('127.0.0.1', auth({}))).not.toThrow();
    expect(() => assertSafeExposure('0.0.0.0', auth({}))).toThrow(/DRW_API_HOST: 0.0.0.0 is not a loopback address.*DRW_JWT_JWKS_URL.*DRW_INGEST_TOKENS/s);
    expect(() => assertSafeExposure('0.0.0.0', auth(people))).toThrow(/ingest authentication \(DRW_INGEST_TOKENS, DRW_INGEST_HMAC_SECRETS or DRW_GITHUB_WEBHOOK_SECRET\)/);
    expect(() => assertSafeExposure('0.0.0.0', auth(machines))).toThrow(/person authentication \(DRW_JWT_JWKS_URL/);
    expect(() => assertSafeExposure('0.0.0.0', auth({ ...people, ...machines }))).not.toThrow();
  });

  test('an HS256 secret or static keys without issuer and audience are refused beyond loopback', () => {
    const rsa = testKey('RS256', 'k1');
    for (const keys of [{ DRW_JWT_HS256_SECRET: HS }, { DRW_JWT_PUBLIC_KEYS: rsa.pem }] as Record<string, string>[]) {
      expect(() => assertSafeExposure('10.0.0.5', auth({ ...keys, ...machines }))).toThrow(/set DRW_JWT_ISSUER and DRW_JWT_AUDIENCE, so that a token your identity provider issued for another application is not accepted/);
      expect(() => assertSafeExposure('10.0.0.5', auth({ ...keys, DRW_JWT_ISSUER: ISSUER, ...machines }))).toThrow(/set DRW_JWT_AUDIENCE,/);
      // On loopback the same configuration starts (a developer's HS256 secret).
      expect(() => assertSafeExposure('127.0.0.1', auth({ ...keys, ...machines }))).not.toThrow();
    }
  });

  test('ingest credentials shorter than 32 characters are refused beyond loopback', () => {
    const short = { DRW_INGEST_TOKENS: '{"alertmanager":"short-token-0123456789"}', DRW_INGEST_HMAC_SECRETS: '{"falco":"hmac-0123456789abcdef"}', DRW_GITHUB_WEBHOOK_SECRET: 'gh-0123456789' };
    expect(() => assertSafeExposure('10.0.0.5', auth({ ...people, ...short }))).toThrow(
      /ingest credentials must be at least 32 characters \(DRW_INGEST_TOKENS "alertmanager", DRW_INGEST_HMAC_SECRETS "falco", DRW_GITHUB_WEBHOOK_SECRET\)/,
    );
  });
});

describe('people: claims → principal', () => {
  test('user claim fallbacks, dotted group paths, URL-style names, string groups', () => {
    const names = { user: ['sub', 'preferred_username'], groups: 'groups' };
    expect(principalFrom({ sub: 'alice', groups: ['secops', 'secops', 7, ''] }, names)).toEqual({ user: 'alice', groups: ['secops'], userClaim: 'sub' });
    expect(principalFrom({ preferred_username: 'bob' }, names)).toEqual({ user: 'bob', groups: [], userClaim: 'preferred_username' });
    expect(principalFrom({ sub: '' }, names)).toBeUndefined();
    expect(claimAt({ realm_access: { roles: ['secops'] } }, 'realm_access.roles')).toEqual(['secops']);
    expect(claimAt({ 'https://drw.example/groups': ['x'] }, 'https://drw.example/groups')).toEqual(['x']);
    expect(groupsFrom('secops cloud-owners,devs')).toEqual(['secops', 'cloud-owners', 'devs']);
  });

  test('createAuth: 401 with a challenge for missing/invalid tokens, the principal for a good one', async () => {
    const a = createAuth(loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233', DRW_JWT_HS256_SECRET: HS, DRW_JWT_ISSUER: ISSUER, DRW_JWT_AUDIENCE: AUDIENCE }).auth, { access: ACCESS });
    const user = (r: http.IncomingMessage) => a.authorize(r, 'read', noBody);
    expect(await user(req({ Authorization: `Bearer ${signJwt(claims(), { alg: 'HS256', key: HS })}` }))).toMatchObject({ kind: 'person', user: 'alice', groups: ['secops'], userClaim: 'sub' });
    const missing = await status(user(req({})));
    expect(missing).toMatchObject({ status: 401, message: 'missing credentials: send Authorization: Bearer <JWT>', headers: { 'WWW-Authenticate': 'Bearer realm="drw"' } });
    const expired = await status(user(req({ Authorization: `Bearer ${signJwt(claims({ exp: 1_000 }), { alg: 'HS256', key: HS })}` })));
    expect(expired.status).toBe(401);
    expect(expired.message).toBe('invalid token: token expired at 1970-01-01T00:16:40.000Z');
    expect(expired.headers?.['WWW-Authenticate']).toBe('Bearer realm="drw", error="invalid_token", error_description="token expired at 1970-01-01T00:16:40.000Z"');
    const nobody = await status(user(req({ Authorization: `Bearer ${signJwt(claims({ sub: undefined }), { alg: 'HS256', key: HS })}` })));
    expect(nobody.message).toMatch(/token names no user: none of the claims \[sub, preferred_username\]/);
  });

  test('the native POST /v1/detections accepts a "drw" source credential or a person token', async () => {
    const rsa = testKey('RS256', 'k1');
    const a = createAuth(
      loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233', DRW_JWT_PUBLIC_KEYS: rsa.pem, DRW_INGEST_HMAC_SECRETS: '{"drw":"native-secret-0123456789abcdef"}' }).auth,
      { access: ACCESS },
    );
    const submitter = (r: http.IncomingMessage, raw: () => Promise<Buffer>) => a.authorize(r, 'submit:drw', raw);
    const body = Buffer.from('{"x":1}');
    expect(await submitter(req(signIngestRequest('native-secret-0123456789abcdef', body)), async () => body)).toEqual({ kind: 'source', source: 'drw', method: 'hmac' });
    expect(await submitter(req({ Authorization: `Bearer ${tokenFor(rsa)}` }), noBody)).toMatchObject({ kind: 'person', user: 'alice' });
    expect(await status(submitter(req({}), noBody))).toMatchObject({ status: 401, message: expect.stringMatching(/^missing credentials for "drw"/) });
    expect(await status(submitter(req({ Authorization: `Bearer ${tokenFor(rsa, claims({ exp: 1 }))}` }), noBody))).toMatchObject({ status: 401, message: expect.stringMatching(/^invalid token: token expired/) });
    // A valid token whose groups may not submit: 403 naming the permission.
    expect(await status(submitter(req({ Authorization: `Bearer ${tokenFor(rsa, claims({ groups: ['auditors'] }))}` }), noBody))).toMatchObject({
      status: 403,
      message: 'alice may not submit detections from "drw": that needs the "submit:drw" permission, which policies/access.yaml grants to none of their groups [auditors]',
    });
  });
});

describe('ticketing webhooks (POST /v1/integrations/...)', () => {
  const JIRA = 'jira-webhook-secret-0123456789abcdef';
  const body = Buffer.from('{"webhookEvent":"jira:issue_updated"}');
  const hub = (secret: string) => ({ 'X-Hub-Signature': 'sha256=' + createHmac('sha256', secret).update(body).digest('hex') });

  test('a Jira webhook secret alone signs the Jira route and leaves detections open on loopback', async () => {
    const a = createAuth(loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233', DRW_JIRA_WEBHOOK_SECRET: JIRA }).auth);
    expect(a.ingest).toBe(false);
    expect(await a.authorize(req({}), 'submit:drw', noBody)).toEqual({ kind: 'open' });
    expect(await a.authorize(req(hub(JIRA)), 'submit:jira', async () => body)).toEqual({ kind: 'source', source: 'jira', method: 'jira-signature' });
    expect(await status(a.authorize(req({}), 'submit:jira', async () => body))).toMatchObject({ status: 401, message: 'missing credentials for "jira": send X-Hub-Signature (Jira webhook secret)' });
    expect(await status(a.authorize(req(hub('another-secret-0123456789abcdef')), 'submit:jira', async () => body))).toMatchObject({ status: 401, message: expect.stringContaining('X-Hub-Signature does not match the body') });
    // GitHub's header name is not Jira's.
    expect(await status(a.authorize(req({ 'X-Hub-Signature-256': hub(JIRA)['X-Hub-Signature'] }), 'submit:jira', async () => body))).toMatchObject({ status: 401 });
  });

  test('the ServiceNow callback takes an ingest credential of source "servicenow"; a person needs submit:servicenow', async () => {
    const rsa = testKey('RS256', 'k1');
    const a = createAuth(loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233', DRW_JWT_PUBLIC_KEYS: rsa.pem, DRW_INGEST_TOKENS: '{"servicenow":"servicenow-token-0123456789abcdef"}' }).auth, { access: ACCESS });
    expect(await a.authorize(req({ Authorization: 'Bearer servicenow-token-0123456789abcdef' }), 'submit:servicenow', noBody)).toEqual({ kind: 'source', source: 'servicenow', method: 'bearer' });
    // The callback's token is not a detection source's.
    expect(await status(a.authorize(req({ Authorization: 'Bearer servicenow-token-0123456789abcdef' }), 'submit:drw', noBody))).toMatchObject({ status: 401 });
    expect(await status(a.authorize(req({ Authorization: `Bearer ${tokenFor(rsa, claims({ groups: ['auditors'] }))}` }), 'submit:servicenow', noBody))).toMatchObject({
      status: 403,
      message: expect.stringContaining('may not report ticket changes from "servicenow"'),
    });
    expect(parseAccessPolicy('version: 1\ngroups:\n  itsm: ["submit:servicenow", "submit:jira"]\n', 'access.yaml').groups.itsm).toEqual(['submit:servicenow', 'submit:jira']);
  });

  test('a Jira webhook secret shorter than 32 characters is refused beyond loopback', () => {
    const cfg = loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233', DRW_JWT_HS256_SECRET: HS, DRW_JWT_ISSUER: ISSUER, DRW_JWT_AUDIENCE: AUDIENCE, DRW_INGEST_TOKENS: '{"drw":"native-token-0123456789abcdef-0123456789"}', DRW_JIRA_WEBHOOK_SECRET: 'short-jira' }).auth;
    expect(() => assertSafeExposure('10.0.0.5', cfg)).toThrow(/at least 32 characters \(DRW_JIRA_WEBHOOK_SECRET\)/);
  });
});

describe('identity from the token; a different one in the body is refused (403)', () => {
  const alice: Principal = { user: 'alice', groups: ['secops', 'devs'], userClaim: 'sub' };
  const forbidden = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return { status: (e as { status: number }).status, message: (e as Error).message };
    }
    return undefined;
  };

  test('omitted or equal identity is taken from the token', () => {
    expect(approvalFromToken(alice, { reason: 'ok' })).toEqual({ approver: 'alice', groups: ['secops', 'devs'], reason: 'ok' });
    expect(approvalFromToken(alice, { approver: 'alice', groups: ['devs', 'secops'], reason: 'ok' })).toEqual({ approver: 'alice', groups: ['secops', 'devs'], reason: 'ok' });
    expect(operatorFromToken(alice, { reason: 'r' })).toEqual({ by: 'alice', reason: 'r' });
    expect(riskFromToken(alice, { riskScore: 90, reason: 'r' })).toEqual({ riskScore: 90, reason: 'r', by: 'alice' });
  });

  test('mismatches are 403 with precise messages', () => {
    expect(forbidden(() => approvalFromToken(alice, { approver: 'bob', reason: 'x' }))).toEqual({
      status: 403,
      message: 'approver "bob" in the body differs from the authenticated user "alice" (token claim sub); omit approver, it is taken from the token',
    });
    expect(forbidden(() => approvalFromToken(alice, { groups: ['secops', 'admins'], reason: 'x' }))).toEqual({
      status: 403,
      message: 'groups [admins] in the body are not in the token of "alice" (token groups [secops, devs]); omit groups, they are taken from the token',
    });
    expect(forbidden(() => approvalFromToken(alice, { groups: ['secops'], reason: 'x' }))?.message).toMatch(/^groups in the body \[secops\] differ from the token of "alice"/);
    expect(forbidden(() => operatorFromToken(alice, { by: 'mallory', reason: 'x' }))?.message).toMatch(/^by "mallory" in the body differs from the authenticated user "alice"/);
    expect(forbidden(() => riskFromToken(alice, { riskScore: 1, reason: 'x', by: 'Alice' }))?.status).toBe(403);
  });
});
