import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook authentication helpers for the HTTP API. Both verifiers return false instead of throwing,
 * so a malformed header can never turn into a 500 or leak which check failed.
 */

export function signHmacSha256(secret: string | Buffer, rawBody: Buffer | string, prefix = 'sha256='): string {
  return prefix + createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** GitHub `X-Hub-Signature-256: sha256=<hex>` (and any `<prefix><hex HMAC-SHA256>` header). */
export function verifyHmacSha256(secret: string | Buffer, rawBody: Buffer | string, header: string | undefined, prefix = 'sha256='): boolean {
  try {
    // An empty secret makes the HMAC computable by anyone: treat it as "not configured".
    if (secret.length === 0 || typeof header !== 'string' || !header.startsWith(prefix)) return false;
    const hex = header.slice(prefix.length).trim();
    if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
    const given = Buffer.from(hex, 'hex');
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    return given.length === expected.length && timingSafeEqual(given, expected);
  } catch {
    return false;
  }
}

/**
 * `Authorization: Bearer <token>` against any of the accepted tokens (several allow rotation).
 * Tokens are compared as SHA-256 digests so the comparison is constant-time whatever their lengths,
 * and every candidate is checked so timing does not reveal which one matched.
 */
export function verifyBearer(expected: string[], authorizationHeader: string | undefined): boolean {
  try {
    const m = typeof authorizationHeader === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorizationHeader) : null;
    if (!m) return false;
    const given = digest(m[1]);
    let ok = false;
    for (const token of expected) {
      if (typeof token !== 'string' || token.length === 0) continue;
      if (timingSafeEqual(digest(token), given)) ok = true;
    }
    return ok;
  } catch {
    return false;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
