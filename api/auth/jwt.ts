/**
 * JWT (JWS compact) verification for person tokens: RS256, ES256 and HS256 only, with
 * node:crypto. Everything else goes through the small `JwtVerifier` interface so the
 * implementation can be swapped for `jose` (jwtVerify + createRemoteJWKSet) without touching
 * callers; see the note at the end of this file.
 *
 * What is checked, in order: the token's shape; the header's `alg` against the algorithms
 * that have a key configured (`none` and everything else refused; `crit` refused); the
 * signature with a key bound to that algorithm (header `jwk`/`jku`/`x5u`/`x5c` are never
 * used); then `exp` (required), `nbf`, `iss` and `aud` with a small clock tolerance.
 */
import { createHmac, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { parseJwks, type AsymmetricAlg, type VerificationKey } from './keys';

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

export interface JwtVerifierOptions {
  /** Accepted `iss` values (any one); empty: not checked. */
  issuer?: string[];
  /** Accepted audiences (the token's `aud` must contain one); empty: not checked. */
  audience?: string[];
  clockToleranceSec?: number;
  /** Static public keys (development, or an IdP without JWKS). */
  publicKeys?: VerificationKey[];
  /** HS256 shared secret (development). */
  hs256Secret?: Buffer;
  jwks?: JwksSource;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function decodeJson(part: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('malformed', `token ${what} is not base64url JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new JwtError('malformed', `token ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

const iso = (sec: number) => (Number.isFinite(sec * 1000) && Math.abs(sec) < 8.64e12 ? new Date(sec * 1000).toISOString() : String(sec));

export function createJwtVerifier(o: JwtVerifierOptions): JwtVerifier {
  const allowed = new Set<JwtAlg>();
  if (o.hs256Secret) allowed.add('HS256');
  for (const k of o.publicKeys ?? []) allowed.add(k.alg);
  if (o.jwks) (['RS256', 'ES256'] as const).forEach((a) => allowed.add(a));
  if (allowed.size === 0) throw new Error('JWT verifier without any key: configure a JWKS URL, public keys or an HS256 secret');
  const now = o.now ?? Date.now;
  const tolerance = o.clockToleranceSec ?? 30;

  const verifyWith = (alg: AsymmetricAlg, input: Buffer, signature: Buffer) => (k: VerificationKey) => {
    try {
      return cryptoVerify('sha256', input, alg === 'ES256' ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.key, signature);
    } catch {
      return false;
    }
  };

  /** Static keys first (a JWKS outage must not lock out a configured key), then the JWKS. */
  async function verifyAsymmetric(alg: AsymmetricAlg, kid: string | undefined, input: Buffer, signature: Buffer): Promise<boolean> {
    const check = verifyWith(alg, input, signature);
    const local = (o.publicKeys ?? []).filter((k) => k.alg === alg && (kid === undefined || k.kid === undefined || k.kid === kid));
    if (local.some(check)) return true;
    const remote = o.jwks ? (await o.jwks.keys(kid, alg)).filter((k) => k.alg === alg) : [];
    if (local.length === 0 && remote.length === 0) {
      throw new JwtError('no_key', `no ${alg} key${kid !== undefined ? ` with kid ${JSON.stringify(kid).slice(0, 80)}` : ''} to verify the token`);
    }
    return remote.some(check);
  }

  return {
    async verify(token: string): Promise<JwtPayload> {
      if (typeof token !== 'string' || token.length === 0) throw new JwtError('malformed', 'empty token');
      const parts = token.split('.');
      if (parts.length === 5) throw new JwtError('malformed', 'token is encrypted (JWE); a signed JWT (JWS) is required');
      if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)) || !parts[0] || !parts[1]) {
        throw new JwtError('malformed', 'token is not a JWT (three base64url parts separated by dots)');
      }
      const header = decodeJson(parts[0], 'header');
      const alg = header.alg;
      if (typeof alg !== 'string') throw new JwtError('malformed', 'token header has no alg');
      if (alg.toLowerCase() === 'none') throw new JwtError('alg_not_allowed', 'unsigned tokens (alg "none") are refused');
      if (!allowed.has(alg as JwtAlg)) {
        throw new JwtError('alg_not_allowed', `alg ${JSON.stringify(alg).slice(0, 40)} is not accepted (accepted: ${[...allowed].join(', ')})`);
      }
      if (header.crit !== undefined) throw new JwtError('unsupported_header', 'token header has "crit" extensions, which are not supported');
      if (header.b64 !== undefined) throw new JwtError('unsupported_header', 'token header has "b64", which is not supported');
      const kid = typeof header.kid === 'string' ? header.kid : undefined;
      const payload = decodeJson(parts[1], 'payload');

      const signingInput = Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii');
      const signature = Buffer.from(parts[2], 'base64url');
      let ok = false;
      if (alg === 'HS256') {
        const expected = createHmac('sha256', o.hs256Secret!).update(signingInput).digest();
        ok = signature.length === expected.length && timingSafeEqual(signature, expected);
      } else {
        const a = alg as AsymmetricAlg;
        // ES256 signatures are R||S, 64 bytes (RFC 7518 §3.4), never DER.
        ok = (a !== 'ES256' || signature.length === 64) && (await verifyAsymmetric(a, kid, signingInput, signature));
      }
      if (!ok) throw new JwtError('bad_signature', 'signature verification failed');

      const t = now() / 1000;
      const num = (name: string): number | undefined => {
        const v = payload[name];
        if (v === undefined) return undefined;
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new JwtError('malformed', `claim ${name} must be a number (seconds since the epoch)`);
        return v;
      };
      const exp = num('exp');
      const nbf = num('nbf');
      num('iat');
      if (exp === undefined) throw new JwtError('missing_exp', 'token has no exp claim; tokens must expire');
      if (t - tolerance >= exp) throw new JwtError('expired', `token expired at ${iso(exp)}`);
      if (nbf !== undefined && t + tolerance < nbf) throw new JwtError('not_yet_valid', `token not valid before ${iso(nbf)}`);
      if (o.issuer?.length) {
        if (typeof payload.iss !== 'string' || !o.issuer.includes(payload.iss)) {
          throw new JwtError('wrong_issuer', `token issuer ${JSON.stringify(payload.iss ?? null).slice(0, 200)} is not ${o.issuer.join(' or ')}`);
        }
      }
      if (o.audience?.length) {
        const aud = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud.filter((x): x is string => typeof x === 'string') : [];
        if (!aud.some((x) => o.audience!.includes(x))) {
          throw new JwtError('wrong_audience', `token audience ${JSON.stringify(payload.aud ?? null).slice(0, 200)} does not include ${o.audience.join(' or ')}`);
        }
      }
      return payload;
    },
  };
}

/** Where asymmetric keys come from at run time. */
export interface JwksSource {
  keys(kid: string | undefined, alg: AsymmetricAlg): Promise<VerificationKey[]>;
}

export interface RemoteJwksOptions {
  /** Keys are re-fetched after this long (default 10 minutes). */
  cacheMs?: number;
  /**
   * An unknown kid re-fetches at most this often (default 30 s), so tokens with made-up kids
   * cannot make drw hammer the identity provider.
   */
  cooldownMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  onWarning?: (msg: string) => void;
}

const MAX_JWKS_BYTES = 512 * 1024;

/**
 * A JWKS URL with caching: one fetch serves every request until `cacheMs` passes; an unknown
 * kid (key rotation) triggers one re-fetch per `cooldownMs`; concurrent misses share one fetch;
 * when a re-fetch fails the last good keys keep serving.
 */
export class RemoteJwks implements JwksSource {
  private cached?: { keys: VerificationKey[]; at: number };
  private lastAttempt = -Infinity;
  private inflight?: Promise<void>;
  /** Fetches made; tests read it. */
  fetches = 0;

  constructor(
    readonly url: string,
    private readonly o: RemoteJwksOptions = {},
  ) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  async keys(kid: string | undefined, alg: AsymmetricAlg): Promise<VerificationKey[]> {
    const cacheMs = this.o.cacheMs ?? 10 * 60_000;
    const cooldownMs = this.o.cooldownMs ?? 30_000;
    const mayFetch = () => this.now() - this.lastAttempt >= cooldownMs;
    const stale = !this.cached || this.now() - this.cached.at >= cacheMs;
    if (stale && mayFetch()) await this.refresh();
    else if (this.inflight) await this.inflight;
    let found = this.select(kid, alg);
    // An unknown kid: the provider may have rotated its keys since the last fetch.
    if (found.length === 0 && mayFetch()) {
      await this.refresh();
      found = this.select(kid, alg);
    }
    if (!this.cached) throw new JwtError('jwks_unavailable', `cannot fetch the signing keys from ${this.url}`);
    return found;
  }

  private select(kid: string | undefined, alg: AsymmetricAlg): VerificationKey[] {
    return (this.cached?.keys ?? []).filter((k) => k.alg === alg && (kid === undefined || k.kid === kid));
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async load(): Promise<void> {
    this.lastAttempt = this.now();
    this.fetches++;
    try {
      const res = await (this.o.fetch ?? fetch)(this.url, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 5_000),
        redirect: 'error',
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const text = await res.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error(`document larger than ${MAX_JWKS_BYTES} bytes`);
      const { keys, skipped } = parseJwks(JSON.parse(text), this.url);
      if (skipped.length) this.o.onWarning?.(`JWKS ${this.url}: ${skipped.length} key(s) not usable: ${skipped.join('; ')}`);
      this.cached = { keys, at: this.now() };
    } catch (e) {
      // Keep serving the last good keys; a later request retries after the cooldown.
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      this.o.onWarning?.(`JWKS ${this.url}: fetch failed (${(e as Error).message}${cause ? `: ${cause}` : ''})${this.cached ? '; keeping the cached keys' : ''}`);
    }
  }
}

/*
 * Replacing this with jose (ESM-only from v6; loadable once Jest can load it, e.g. Node ≥ 24.9
 * or a transform for node_modules/jose): createJwtVerifier becomes
 *   jwtVerify(token, remoteJwks ?? staticKeyLookup, { algorithms, issuer, audience, clockTolerance, requiredClaims: ['exp'] })
 * with createRemoteJWKSet(url, { cacheMaxAge, cooldownDuration }) as the JWKS source, and jose's
 * error codes (ERR_JWT_EXPIRED, ERR_JWS_SIGNATURE_VERIFICATION_FAILED, ERR_JWT_CLAIM_VALIDATION_FAILED
 * with claim iss/aud/nbf, ERR_JOSE_ALG_NOT_ALLOWED, ERR_JWKS_NO_MATCHING_KEY, ERR_JWKS_TIMEOUT)
 * mapped onto JwtErrorCode. The unit tests in test/unit/auth/jwt.test.ts describe the contract.
 */
