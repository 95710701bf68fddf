/**
 * Test-only JWT minting with node:crypto (the verifier under test never signs). Also used by
 * the e2e tests. `jose` interop is checked separately in jwt.test.ts.
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export const ISSUER = 'https://idp.test.drw/realms/secops';
export const AUDIENCE = 'drw-api';

export const b64url = (x: Buffer | string) => Buffer.from(x).toString('base64url');
export const nowSec = () => Math.floor(Date.now() / 1000);

export interface SignOptions {
  alg: string;
  /** Private key (RS256/ES256) or secret (HS256); ignored for alg none. */
  key?: KeyObject | string | Buffer;
  kid?: string;
  header?: Record<string, unknown>;
}

export function signJwt(payload: Record<string, unknown>, o: SignOptions): string {
  const header = { alg: o.alg, typ: 'JWT', ...(o.kid ? { kid: o.kid } : {}), ...o.header };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  let sig: Buffer;
  if (o.alg === 'HS256') sig = createHmac('sha256', o.key as string | Buffer).update(input).digest();
  else if (o.alg === 'RS256') sig = sign('sha256', Buffer.from(input), o.key as KeyObject);
  else if (o.alg === 'ES256') sig = sign('sha256', Buffer.from(input), { key: o.key as KeyObject, dsaEncoding: 'ieee-p1363' });
  else sig = Buffer.alloc(0);
  return `${input}.${b64url(sig)}`;
}

/** Standard claims for a person: valid for five minutes. */
export function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const t = nowSec();
  return { iss: ISSUER, aud: AUDIENCE, sub: 'alice', groups: ['secops'], iat: t, exp: t + 300, ...extra };
}

export interface TestKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public JWK with kid/alg/use, as a JWKS publishes it. */
  jwk: Record<string, unknown>;
  pem: string;
}

export function testKey(alg: 'RS256' | 'ES256', kid: string): TestKey {
  const { privateKey, publicKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    kid,
    alg,
    privateKey,
    publicKey,
    jwk: { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg, use: 'sig' },
    pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

export function tokenFor(k: TestKey, payload: Record<string, unknown> = claims()): string {
  return signJwt(payload, { alg: k.alg, key: k.privateKey, kid: k.kid });
}
