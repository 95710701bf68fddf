import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import { createJwtVerifier, JwtError, type JwtVerifier, type JwtErrorCode } from '../../../api/auth/jwt';
import { parsePublicKeys } from '../../../api/auth/keys';
import { AUDIENCE, b64url, claims, ISSUER, nowSec, signJwt, testKey, tokenFor } from './tokens';

const HS_SECRET = 'an-hs256-development-secret-of-32+chars';
const rsa = testKey('RS256', 'rsa-1');
const ec = testKey('ES256', 'ec-1');
const other = testKey('RS256', 'rsa-1'); // same kid, different key: a forgery attempt

async function rejects(v: JwtVerifier, token: string, code: JwtErrorCode, message?: RegExp): Promise<void> {
  const err = await v.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JwtError);
  expect((err as JwtError).code).toBe(code);
  if (message) expect((err as JwtError).message).toMatch(message);
}

describe('static keys (RS256, ES256) and an HS256 secret', () => {
  const v = createJwtVerifier({
    issuer: [ISSUER],
    audience: [AUDIENCE],
    clockToleranceSec: 30,
    publicKeys: parsePublicKeys(JSON.stringify({ keys: [rsa.jwk, ec.jwk] })),
    hs256Secret: Buffer.from(HS_SECRET),
  });

  test('good tokens verify and return their claims', async () => {
    expect(await v.verify(tokenFor(rsa))).toMatchObject({ sub: 'alice', groups: ['secops'], iss: ISSUER });
    expect(await v.verify(tokenFor(ec, claims({ sub: 'bob' })))).toMatchObject({ sub: 'bob' });
    expect(await v.verify(signJwt(claims({ sub: 'carol' }), { alg: 'HS256', key: HS_SECRET }))).toMatchObject({ sub: 'carol' });
    // aud may be an array holding ours among others.
    expect(await v.verify(tokenFor(rsa, claims({ aud: ['other-app', AUDIENCE] })))).toMatchObject({ sub: 'alice' });
  });

  test('a bad signature is refused: another key with the same kid, a tampered payload, a wrong HS256 secret', async () => {
    await rejects(v, tokenFor(other), 'bad_signature', /signature verification failed/);
    const [h, , s] = tokenFor(rsa).split('.');
    const forged = `${h}.${b64url(JSON.stringify(claims({ groups: ['secops', 'admins'] })))}.${s}`;
    await rejects(v, forged, 'bad_signature');
    await rejects(v, signJwt(claims(), { alg: 'HS256', key: 'not-the-secret-but-just-as-long-xx' }), 'bad_signature');
    // ES256 signatures are 64-byte R||S; a DER signature is refused rather than guessed at.
    const [eh, ep, es] = tokenFor(ec).split('.');
    await rejects(v, `${eh}.${ep}.${b64url(Buffer.concat([Buffer.from([0x30, 0x44]), Buffer.from(es, 'base64url')]))}`, 'bad_signature');
    await rejects(v, `${eh}.${ep}.`, 'bad_signature');
  });

  test('expiry: expired refused (beyond the clock tolerance), exp required, nbf honoured', async () => {
    const t = nowSec();
    await rejects(v, tokenFor(rsa, claims({ exp: t - 3600 })), 'expired', /^token expired at \d{4}-/);
    expect(await v.verify(tokenFor(rsa, claims({ exp: t - 10 })))).toBeDefined(); // within 30 s tolerance
    await rejects(v, tokenFor(rsa, claims({ exp: undefined })), 'missing_exp', /tokens must expire/);
    await rejects(v, tokenFor(rsa, claims({ exp: 'tomorrow' })), 'malformed', /exp must be a number/);
    await rejects(v, tokenFor(rsa, claims({ nbf: t + 3600 })), 'not_yet_valid');
  });

  test('wrong issuer or audience is refused', async () => {
    await rejects(v, tokenFor(rsa, claims({ iss: 'https://evil.example' })), 'wrong_issuer', /issuer "https:\/\/evil.example" is not https:\/\/idp.test.drw/);
    await rejects(v, tokenFor(rsa, claims({ iss: undefined })), 'wrong_issuer');
    await rejects(v, tokenFor(rsa, claims({ aud: 'another-app' })), 'wrong_audience', /does not include drw-api/);
    await rejects(v, tokenFor(rsa, claims({ aud: undefined })), 'wrong_audience');
  });

  test('alg none and algorithms without a configured key are refused', async () => {
    await rejects(v, signJwt(claims(), { alg: 'none' }), 'alg_not_allowed', /alg "none"/);
    await rejects(v, signJwt(claims(), { alg: 'NONE' }), 'alg_not_allowed');
    await rejects(v, signJwt(claims(), { alg: 'RS384', key: rsa.privateKey }), 'alg_not_allowed', /accepted: HS256, RS256, ES256/);
    // Key confusion: an HS256 token "signed" with the RSA public key is never checked against that key.
    const rsOnly = createJwtVerifier({ publicKeys: parsePublicKeys(rsa.pem) });
    await rejects(rsOnly, signJwt(claims(), { alg: 'HS256', key: rsa.pem }), 'alg_not_allowed', /accepted: RS256/);
    // An ES256 token when only an RSA key is configured: no key, not a fallback.
    const mixed = createJwtVerifier({ publicKeys: parsePublicKeys(rsa.pem), hs256Secret: Buffer.from(HS_SECRET) });
    await rejects(mixed, tokenFor(ec), 'alg_not_allowed');
  });

  test('malformed tokens and unsupported headers are refused', async () => {
    await rejects(v, '', 'malformed');
    await rejects(v, 'abc.def', 'malformed', /three base64url parts/);
    await rejects(v, 'a.b.c.d.e', 'malformed', /encrypted \(JWE\)/);
    await rejects(v, 'a$b.c.d', 'malformed');
    await rejects(v, `${b64url('[1]')}.${b64url('{}')}.`, 'malformed', /header is not a JSON object/);
    // jose checks the signature before it reads the payload: an unsigned garbage payload is a bad signature.
    await rejects(v, `${b64url('{"alg":"RS256"}')}.${b64url('nope')}.`, 'bad_signature');
    await rejects(v, signJwt(claims(), { alg: 'RS256', key: rsa.privateKey, kid: 'rsa-1', header: { crit: ['exp'] } }), 'unsupported_header');
  });

  test('a kid that names no configured key is refused; keys from the header (jwk, jku) are never used', async () => {
    await rejects(v, signJwt(claims(), { alg: 'RS256', key: rsa.privateKey, kid: 'unknown' }), 'no_key', /no RS256 key with kid "unknown"/);
    const attacker = testKey('RS256', 'rsa-9');
    await rejects(v, signJwt(claims(), { alg: 'RS256', key: attacker.privateKey, kid: 'rsa-1', header: { jwk: attacker.jwk, jku: 'https://evil.example/jwks' } }), 'bad_signature');
  });

  test('a verifier needs at least one key', () => {
    expect(() => createJwtVerifier({})).toThrow(/without any key/);
  });
});

describe('parsePublicKeys (DRW_JWT_PUBLIC_KEYS)', () => {
  test('PEM blocks, JWK, JWKS and JWK arrays', () => {
    expect(parsePublicKeys(`${rsa.pem}\n${ec.pem}`).map((k) => k.alg)).toEqual(['RS256', 'ES256']);
    expect(parsePublicKeys(JSON.stringify(ec.jwk))).toMatchObject([{ alg: 'ES256', kid: 'ec-1' }]);
    expect(parsePublicKeys(JSON.stringify([rsa.jwk, ec.jwk])).map((k) => k.kid)).toEqual(['rsa-1', 'ec-1']);
    const pkcs1 = rsa.publicKey.export({ format: 'pem', type: 'pkcs1' }).toString();
    expect(parsePublicKeys(pkcs1)[0].alg).toBe('RS256');
  });

  test('refuses private keys, weak or unsupported keys, and keys declaring another alg', () => {
    const priv = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => parsePublicKeys(priv)).toThrow(/DRW_JWT_PUBLIC_KEYS\[0\]: is a private key/);
    expect(() => parsePublicKeys(JSON.stringify(rsa.privateKey.export({ format: 'jwk' })))).toThrow(/is a private key/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => parsePublicKeys(small)).toThrow(/RSA key of 1024 bits \(at least 2048 needed\)/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => parsePublicKeys(p384)).toThrow(/only P-256\/ES256/);
    expect(() => parsePublicKeys('{"kty":"oct","k":"c2VjcmV0"}')).toThrow(/use DRW_JWT_HS256_SECRET/);
    expect(() => parsePublicKeys(JSON.stringify({ ...rsa.jwk, alg: 'ES256' }))).toThrow(/declares alg ES256 but is a key for RS256/);
    expect(() => parsePublicKeys('not a key')).toThrow(/expected PEM public keys, a JWK or a JWKS/);
    expect(() => parsePublicKeys('{"keys":[]}')).toThrow(/holds no key/);
  });
});

describe('JWKS (jose): fetched once, cached, re-fetched on an unknown kid at most once per cooldown, never used beyond its maximum age', () => {
  const servers: http.Server[] = [];
  afterAll(async () => Promise.all(servers.map((x) => new Promise((r) => x.close(r)))));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** A local identity provider's JWKS endpoint (jose fetches it over HTTP as from a real one). */
  async function idp(initial: Record<string, unknown>[], o: { maxAgeMs?: number; cooldownMs?: number } = {}) {
    const state = { keys: initial, fail: false, calls: 0 };
    const server = http.createServer((_req, res) => {
      state.calls++;
      if (state.fail) return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: state.keys }));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    const v = createJwtVerifier({ issuer: [ISSUER], audience: [AUDIENCE], jwks: { url, maxAgeMs: o.maxAgeMs ?? 600_000, cooldownMs: o.cooldownMs ?? 30_000 } });
    return { state, v, url };
  }

  test('many verifications, one fetch; concurrent cold requests share it', async () => {
    const { state, v } = await idp([rsa.jwk, ec.jwk]);
    await Promise.all([v.verify(tokenFor(rsa)), v.verify(tokenFor(ec)), v.verify(tokenFor(rsa))]);
    for (let i = 0; i < 5; i++) await v.verify(tokenFor(i % 2 ? rsa : ec));
    expect(state.calls).toBe(1);
  });

  test('key rotation: an unknown kid re-fetches once; made-up kids within the cooldown do not', async () => {
    const { state, v } = await idp([rsa.jwk], { cooldownMs: 300 });
    await v.verify(tokenFor(rsa));
    const next = testKey('RS256', 'rsa-2');
    state.keys = [rsa.jwk, next.jwk];
    await sleep(350);
    expect(await v.verify(tokenFor(next))).toMatchObject({ sub: 'alice' });
    expect(state.calls).toBe(2);
    const bogus = signJwt(claims(), { alg: 'RS256', key: next.privateKey, kid: 'made-up' });
    await rejects(v, bogus, 'no_key', /no RS256 key with kid "made-up"/);
    await rejects(v, bogus, 'no_key');
    expect(state.calls).toBe(2);
    await sleep(350);
    await rejects(v, bogus, 'no_key');
    expect(state.calls).toBe(3);
  });

  test('past its maximum age a key set is not used: while the provider is down tokens are refused as unavailable (503), then accepted again', async () => {
    const { state, v, url } = await idp([rsa.jwk], { maxAgeMs: 300 });
    await v.verify(tokenFor(rsa));
    state.fail = true;
    await sleep(350);
    await rejects(v, tokenFor(rsa), 'jwks_unavailable', new RegExp(`cannot fetch the signing keys from ${url}`));
    state.fail = false;
    expect(await v.verify(tokenFor(rsa))).toMatchObject({ sub: 'alice' });
  });

  test('a key withdrawn from the JWKS stops verifying within the maximum age', async () => {
    const { state, v } = await idp([rsa.jwk, ec.jwk], { maxAgeMs: 300 });
    await v.verify(tokenFor(ec));
    state.keys = [rsa.jwk];
    await sleep(350);
    await rejects(v, tokenFor(ec), 'no_key');
  });

  test('static keys and a JWKS together: static keys first (no fetch), the JWKS for the rest', async () => {
    const { state, url } = await idp([rsa.jwk]);
    const breakGlass = testKey('ES256', 'ignored');
    const v = createJwtVerifier({ publicKeys: parsePublicKeys(breakGlass.pem), jwks: { url } });
    state.fail = true;
    expect(await v.verify(signJwt(claims(), { alg: 'ES256', key: breakGlass.privateKey, kid: 'any' }))).toMatchObject({ sub: 'alice' });
    expect(state.calls).toBe(0);
    state.fail = false;
    expect(await v.verify(tokenFor(rsa))).toMatchObject({ sub: 'alice' });
    // An ES256 token whose kid is in neither: the static ES256 key does not verify it, the JWKS has no such key.
    await rejects(v, tokenFor(ec), 'bad_signature');
  });

  test('no keys at all (the identity provider is down) is jwks_unavailable, not a bad token', async () => {
    const { state, v } = await idp([rsa.jwk]);
    state.fail = true;
    await rejects(v, tokenFor(rsa), 'jwks_unavailable');
  });

  test('keys the JWKS publishes for encryption are not used to verify', async () => {
    const { v } = await idp([{ ...rsa.jwk, use: 'enc' }]);
    await rejects(v, tokenFor(rsa), 'no_key');
  });
});

test('tokens signed by jose itself (RS256, ES256, HS256) verify', async () => {
  const rs = await jose.generateKeyPair('RS256', { extractable: true });
  const es = await jose.generateKeyPair('ES256', { extractable: true });
  const mk = (alg: string, key: jose.KeyLike | Uint8Array, kid?: string) =>
    new jose.SignJWT({ sub: 'alice', groups: ['secops'] }).setProtectedHeader({ alg, ...(kid ? { kid } : {}), typ: 'JWT' }).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m').sign(key);
  const jwks = { keys: [{ ...(await jose.exportJWK(rs.publicKey)), kid: 'rs', alg: 'RS256', use: 'sig' }, { ...(await jose.exportJWK(es.publicKey)), kid: 'es', alg: 'ES256', use: 'sig' }] };
  const v = createJwtVerifier({ issuer: [ISSUER], audience: [AUDIENCE], publicKeys: parsePublicKeys(JSON.stringify(jwks)), hs256Secret: Buffer.from(HS_SECRET) });
  expect(await v.verify(await mk('RS256', rs.privateKey, 'rs'))).toMatchObject({ sub: 'alice', groups: ['secops'] });
  expect(await v.verify(await mk('ES256', es.privateKey, 'es'))).toMatchObject({ sub: 'alice' });
  expect(await v.verify(await mk('HS256', new TextEncoder().encode(HS_SECRET)))).toMatchObject({ sub: 'alice' });
});
