/**
 * JWT verification for person tokens with `jose` (jwtVerify, createRemoteJWKSet): RS256, ES256
 * and HS256 only. jose 6 is ESM-only and drw runs as CommonJS under Node 20 and ts-jest, so
 * drw pins jose 5, which ships a CommonJS build with the same verification API.
 *
 * drw adds, around jose: the algorithms a token may use are those with a key configured (never
 * `none`, never an HS256 "signature" made with a public key); `exp` is required; static keys are
 * tried before the JWKS (an identity-provider outage must not lock out a break-glass key); and
 * jose's errors become `JwtError`s whose messages say what was wrong with the token.
 */
import type { KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { AsymmetricAlg, VerificationKey } from './keys';

export type JwtAlg = AsymmetricAlg | 'HS256';
export type JwtPayload = Record<string, unknown>;

export type JwtErrorCode =
  | 'malformed'
  | 'alg_not_allowed'
  | 'unsupported_header'
  | 'no_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_exp'
  | 'wrong_issuer'
  | 'wrong_audience'
  /** The identity provider's keys could not be fetched: not the caller's fault (503). */
  | 'jwks_unavailable';

export class JwtError extends Error {
  override readonly name = 'JwtError';

  constructor(
    readonly code: JwtErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What the API needs from a JWT library. */
export interface JwtVerifier {
  /** Resolves to the verified payload, or rejects with a JwtError. */
  verify(token: string): Promise<JwtPayload>;
}

export interface RemoteJwksOptions {
  url: string;
  /**
   * The longest drw uses a fetched key set: after it the keys are fetched again, and tokens are
   * refused (503) while that fails, so a key the provider withdrew stops working within this time.
   */
  maxAgeMs?: number;
  /** An unknown kid re-fetches at most this often, so made-up kids cannot make drw hammer the provider. */
  cooldownMs?: number;
  timeoutMs?: number;
}

export interface JwtVerifierOptions {
  /** Accepted `iss` values (any one); empty: not checked (loopback only, see api/auth). */
  issuer?: string[];
  /** Accepted audiences (the token's `aud` must contain one); empty: not checked. */
  audience?: string[];
  clockToleranceSec?: number;
  /** Static public keys (break-glass, or an IdP without JWKS). */
  publicKeys?: VerificationKey[];
  /** HS256 shared secret (development). */
  hs256Secret?: Buffer;
  jwks?: RemoteJwksOptions;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

export const DEFAULT_JWKS_MAX_AGE_MS = 10 * 60_000;

const B64URL = /^[A-Za-z0-9_-]*$/;

function header(part: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('malformed', 'token header is not base64url JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new JwtError('malformed', 'token header is not a JSON object');
  return v as Record<string, unknown>;
}

const iso = (sec: unknown) => (typeof sec === 'number' && Math.abs(sec) < 8.64e12 ? new Date(sec * 1000).toISOString() : String(sec));
const shown = (v: unknown) => JSON.stringify(v ?? null).slice(0, 200);

/** jose's verdict on a token, in drw's words. */
function fromJose(e: unknown, o: JwtVerifierOptions, alg: string, kid: string | undefined): JwtError {
  if (e instanceof JwtError) return e;
  if (e instanceof errors.JWTExpired) return new JwtError('expired', `token expired at ${iso(e.payload.exp)}`);
  if (e instanceof errors.JWTClaimValidationFailed) {
    const p = e.payload;
    if (e.claim === 'exp') return e.reason === 'missing' ? new JwtError('missing_exp', 'token has no exp claim; tokens must expire') : new JwtError('malformed', 'claim exp must be a number (seconds since the epoch)');
    if (e.claim === 'nbf') return e.reason === 'check_failed' ? new JwtError('not_yet_valid', `token not valid before ${iso(p.nbf)}`) : new JwtError('malformed', 'claim nbf must be a number (seconds since the epoch)');
    if (e.claim === 'iss') return new JwtError('wrong_issuer', `token issuer ${shown(p.iss)} is not ${o.issuer!.join(' or ')}`);
    if (e.claim === 'aud') return new JwtError('wrong_audience', `token audience ${shown(p.aud)} does not include ${o.audience!.join(' or ')}`);
    return new JwtError('malformed', `claim ${e.claim}: ${e.message}`);
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return new JwtError('bad_signature', 'signature verification failed');
  if (e instanceof errors.JWKSNoMatchingKey) return new JwtError('no_key', `no ${alg} key${kid !== undefined ? ` with kid ${shown(kid).slice(0, 80)}` : ''} to verify the token`);
  if (e instanceof errors.JOSEAlgNotAllowed) return new JwtError('alg_not_allowed', `alg ${shown(alg).slice(0, 40)} is not accepted`);
  if (e instanceof errors.JOSENotSupported) return new JwtError('unsupported_header', `token uses an unsupported feature: ${e.message}`);
  return new JwtError('malformed', `token cannot be verified: ${(e as Error)?.message ?? String(e)}`.slice(0, 300));
}

/** The key set could not be fetched (network, HTTP status, timeout, not a JWKS): the provider's fault, not the token's. */
function unavailable(e: unknown, url: string): JwtError | undefined {
  const fetchFailed = !(e instanceof errors.JOSEError) || e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid || e.code === 'ERR_JOSE_GENERIC';
  if (!fetchFailed) return undefined;
  const cause = (e as { code?: string; message?: string }) ?? {};
  return new JwtError('jwks_unavailable', `cannot fetch the signing keys from ${url} (${cause.code && cause.code !== 'ERR_JOSE_GENERIC' ? cause.code : (cause.message ?? 'unknown error')})`);
}

export function createJwtVerifier(o: JwtVerifierOptions): JwtVerifier {
  const allowed = new Set<JwtAlg>();
  if (o.hs256Secret) allowed.add('HS256');
  for (const k of o.publicKeys ?? []) allowed.add(k.alg);
  if (o.jwks) (['RS256', 'ES256'] as const).forEach((a) => allowed.add(a));
  if (allowed.size === 0) throw new Error('JWT verifier without any key: configure a JWKS URL, public keys or an HS256 secret');

  const remote: JWTVerifyGetKey | undefined = o.jwks
    ? createRemoteJWKSet(new URL(o.jwks.url), { cacheMaxAge: o.jwks.maxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS, cooldownDuration: o.jwks.cooldownMs ?? 30_000, timeoutDuration: o.jwks.timeoutMs ?? 5_000 })
    : undefined;
  const options = (alg: JwtAlg): JWTVerifyOptions => ({
    algorithms: [alg],
    requiredClaims: ['exp'],
    clockTolerance: o.clockToleranceSec ?? 30,
    ...(o.issuer?.length ? { issuer: o.issuer } : {}),
    ...(o.audience?.length ? { audience: o.audience } : {}),
    ...(o.now ? { currentDate: new Date(o.now()) } : {}),
  });

  return {
    async verify(token: string): Promise<JwtPayload> {
      if (typeof token !== 'string' || token.length === 0) throw new JwtError('malformed', 'empty token');
      const parts = token.split('.');
      if (parts.length === 5) throw new JwtError('malformed', 'token is encrypted (JWE); a signed JWT (JWS) is required');
      if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)) || !parts[0] || !parts[1]) {
        throw new JwtError('malformed', 'token is not a JWT (three base64url parts separated by dots)');
      }
      // Read before jose only to name the refusal precisely; jose enforces the same list.
      const h = header(parts[0]);
      const alg = typeof h.alg === 'string' ? h.alg : '';
      if (!alg) throw new JwtError('malformed', 'token header has no alg');
      if (alg.toLowerCase() === 'none') throw new JwtError('alg_not_allowed', 'unsigned tokens (alg "none") are refused');
      if (!allowed.has(alg as JwtAlg)) throw new JwtError('alg_not_allowed', `alg ${shown(alg).slice(0, 40)} is not accepted (accepted: ${[...allowed].join(', ')})`);
      const kid = typeof h.kid === 'string' ? h.kid : undefined;
      const a = alg as JwtAlg;
      const opts = options(a);
      const verifyWith = async (key: KeyObject | Uint8Array | JWTVerifyGetKey): Promise<JWTPayload> =>
        typeof key === 'function' ? (await jwtVerify(token, key, opts)).payload : (await jwtVerify(token, key, opts)).payload;
      try {
        if (a === 'HS256') return await verifyWith(o.hs256Secret!);
        const local = (o.publicKeys ?? []).filter((k) => k.alg === a && (kid === undefined || k.kid === undefined || k.kid === kid));
        for (const k of local) {
          try {
            return await verifyWith(k.key);
          } catch (e) {
            if (!(e instanceof errors.JWSSignatureVerificationFailed)) throw e;
          }
        }
        if (remote) {
          try {
            return await verifyWith(remote);
          } catch (e) {
            // A static key of this algorithm was tried: the token is forged or for another key, whatever the JWKS holds.
            if (local.length && e instanceof errors.JWKSNoMatchingKey) throw new JwtError('bad_signature', 'signature verification failed');
            throw unavailable(e, o.jwks!.url) ?? e;
          }
        }
        if (local.length === 0) throw new errors.JWKSNoMatchingKey();
        throw new JwtError('bad_signature', 'signature verification failed');
      } catch (e) {
        throw fromJose(e, o, alg, kid);
      }
    },
  };
}
