import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Drw-Signature-256';
export const TIMESTAMP_HEADER = 'X-Drw-Timestamp';
export const IDEMPOTENCY_HEADER = 'X-Drw-Idempotency-Key';

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`, the scheme GitHub webhooks made familiar. */
export function signBody(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

/** For receivers written in TypeScript: constant-time comparison of a received header. */
export function verifySignature(secret: string, rawBody: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(secret, rawBody));
  const got = Buffer.from(header);
  return got.length === expected.length && timingSafeEqual(got, expected);
}
