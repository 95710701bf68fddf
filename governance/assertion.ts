/**
 * Signed approval assertions. The API verifies a person's token, then signs what that person
 * decided (remediation, step, step digest, decision, identity, groups, reason, time) as a compact
 * JWS with Ed25519; the workflow verifies it here against the public keys in its own input. So
 * write access to the Temporal namespace is not enough to approve as someone else: only the
 * holder of the API's private key can make an approval count.
 * Pure (no Node.js API, no clock): it runs in the workflow sandbox; verification uses
 * @noble/curves, a maintained, audited pure-JS Ed25519.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { z } from 'zod';
import { DIGEST_PATTERN } from '../planner/digest';

export const ASSERTION_TYPE = 'drw-approval+jwt';
/** An assertion is good this long after the API signed it (signal delivery is seconds; this bounds a replayed copy). */
export const ASSERTION_TTL_MS = 15 * 60_000;
/** Clocks of the API and the workflow's history may differ this much. */
export const ASSERTION_SKEW_MS = 2 * 60_000;

/** A public key a remediation accepts assertions from: `kid` names it, `publicKey` is the raw 32 bytes, base64url. */
export const approvalKeySchema = z.object({ kid: z.string().regex(/^[0-9a-f]{16}$/), publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/) }).strict();
export type ApprovalKey = z.infer<typeof approvalKeySchema>;

export const approvalClaimsSchema = z
  .object({
    v: z.literal(1),
    wf: z.string().min(1).max(300),
    step: z.string().min(1).max(200),
    digest: z.string().regex(DIGEST_PATTERN),
    decision: z.enum(['approve', 'deny']),
    approver: z.string().min(1).max(200),
    groups: z.array(z.string().min(1).max(200)).max(100),
    reason: z.string().min(1).max(2000),
    iat: z.number().int().positive(),
  })
  .strict();
export type ApprovalClaims = z.infer<typeof approvalClaimsSchema>;

const headerSchema = z.object({ alg: z.literal('EdDSA'), typ: z.literal(ASSERTION_TYPE), kid: z.string() }).strict();

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function base64urlDecode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error('not base64url');
  const out: number[] = [];
  let bits = 0;
  let acc = 0;
  for (const ch of text) {
    acc = (acc << 6) | B64URL.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

export function base64urlEncode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffffff;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += B64URL[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += B64URL[(acc << (6 - bits)) & 63];
  return out;
}

function utf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

export type Verified = { ok: true; claims: ApprovalClaims; kid: string } | { ok: false; error: string };

/** Checks signature, key, shape and age; what the claims must match is the caller's business. */
export function verifyAssertion(token: string, keys: readonly ApprovalKey[], nowMs: number): Verified {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, error: 'not a compact JWS (three parts)' };
  try {
    const header = headerSchema.safeParse(JSON.parse(utf8(base64urlDecode(parts[0]))));
    if (!header.success) return { ok: false, error: `not a ${ASSERTION_TYPE} EdDSA header` };
    const key = keys.find((k) => k.kid === header.data.kid);
    if (!key) return { ok: false, error: `signed with key ${header.data.kid.slice(0, 16)}, which this remediation does not trust` };
    const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
    if (!ed25519.verify(base64urlDecode(parts[2]), signed, base64urlDecode(key.publicKey))) return { ok: false, error: 'bad signature' };
    const claims = approvalClaimsSchema.safeParse(JSON.parse(utf8(base64urlDecode(parts[1]))));
    if (!claims.success) return { ok: false, error: 'signed claims of the wrong shape' };
    if (claims.data.iat > nowMs + ASSERTION_SKEW_MS) return { ok: false, error: 'signed in the future' };
    if (nowMs - claims.data.iat > ASSERTION_TTL_MS + ASSERTION_SKEW_MS) return { ok: false, error: `expired (signed ${Math.round((nowMs - claims.data.iat) / 1000)} s ago)` };
    return { ok: true, claims: claims.data, kid: key.kid };
  } catch (e) {
    return { ok: false, error: `unreadable: ${(e as Error).message}` };
  }
}
