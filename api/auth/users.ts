/**
 * People: `Authorization: Bearer <JWT>` → who they are and which groups they are in. The
 * workflow applies the step policy to exactly this identity; the request body cannot change it.
 */
import type http from 'node:http';
import { ApiError } from '../service';
import { AuthError, bearerChallenge } from './errors';
import { JwtError, type JwtPayload, type JwtVerifier } from './jwt';

export interface Principal {
  /** The value of the first configured user claim present (DRW_JWT_USER_CLAIM). */
  user: string;
  groups: string[];
  /** Which claim named the user, for messages. */
  userClaim: string;
}

export interface ClaimNames {
  /** Tried in order; the first non-empty string wins. */
  user: string[];
  /** A claim name, or a dotted path into nested claims (`realm_access.roles`). */
  groups: string;
}

export const USER_REALM = 'drw';

/** A claim by exact name first (names may contain dots, e.g. URL-style claims), then by dotted path. */
export function claimAt(payload: JwtPayload, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(payload, name)) return payload[name];
  let cur: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Groups as an array of strings, or one string separated by spaces or commas (scope-style). */
export function groupsFrom(value: unknown): string[] {
  const raw = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  const out: string[] = [];
  for (const g of raw) {
    if (typeof g !== 'string') continue;
    const t = g.trim();
    if (t && t.length <= 200 && !out.includes(t)) out.push(t);
  }
  return out;
}

export function principalFrom(payload: JwtPayload, claims: ClaimNames): Principal | undefined {
  for (const c of claims.user) {
    const v = claimAt(payload, c);
    if (typeof v === 'string' && v.trim() && v.trim().length <= 200) return { user: v.trim(), groups: groupsFrom(claimAt(payload, claims.groups)), userClaim: c };
  }
  return undefined;
}

export function bearerToken(req: Pick<http.IncomingMessage, 'headers'>, realm: string): string {
  const h = req.headers.authorization;
  if (!h) throw new AuthError('missing credentials: send Authorization: Bearer <JWT>', bearerChallenge(realm));
  const m = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i.exec(h);
  if (!m) throw new AuthError('malformed Authorization header: expected "Bearer <JWT>"', bearerChallenge(realm, 'invalid_request', 'expected Bearer <JWT>'));
  return m[1];
}

export class UserAuthenticator {
  constructor(
    private readonly verifier: JwtVerifier,
    private readonly claims: ClaimNames,
  ) {}

  /** The caller's verified identity; 401 (with a challenge) when absent or invalid, 503 when the IdP's keys are unreachable. */
  async authenticate(req: Pick<http.IncomingMessage, 'headers'>): Promise<Principal> {
    return this.fromToken(bearerToken(req, USER_REALM));
  }

  async fromToken(token: string): Promise<Principal> {
    let payload: JwtPayload;
    try {
      payload = await this.verifier.verify(token);
    } catch (e) {
      if (e instanceof JwtError) {
        if (e.code === 'jwks_unavailable') throw new ApiError(503, `cannot verify the token now: ${e.message}; retry`);
        throw new AuthError(`invalid token: ${e.message}`, bearerChallenge(USER_REALM, 'invalid_token', e.message));
      }
      throw e;
    }
    const p = principalFrom(payload, this.claims);
    if (!p) {
      const msg = `token names no user: none of the claims [${this.claims.user.join(', ')}] is a non-empty string (DRW_JWT_USER_CLAIM)`;
      throw new AuthError(msg, bearerChallenge(USER_REALM, 'invalid_token', msg));
    }
    return p;
  }
}
