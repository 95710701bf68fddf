/**
 * The approver's browser session: a cookie sealed with AES-256-GCM (confidential and tamper-proof)
 * under a key kept in drw's data folder, holding who signed in, how, their groups, the CSRF token
 * of this session and when it expires. Nothing in the cookie is trusted before it unseals.
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const SESSION_COOKIE = 'drw_ui';
/** Before sign-in: the sign-in form's CSRF token and, with OIDC, the flow's state, nonce and PKCE verifier. */
export const PRE_COOKIE = 'drw_ui_pre';

const KEY_BYTES = 32;

/** The session key: DRW_UI_SESSION_KEY_FILE's 32 bytes (hex), created with mode 0600 on first start. */
export function loadSessionKey(file: string): { key: Buffer; created: boolean } {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const key = randomBytes(KEY_BYTES);
    try {
      writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      return { key, created: true };
    } catch (e) {
      // Another process sharing the data folder created it first: use theirs.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${file}: not a session key (64 hexadecimal characters)`);
  return { key: Buffer.from(hex, 'hex'), created: false };
}

export const sessionSchema = z.object({
  v: z.literal(1),
  user: z.string().min(1).max(200),
  groups: z.array(z.string().min(1).max(200)).max(100),
  /** `local`: the loopback identity picker (nothing proven); `oidc`: the identity provider's verified token. */
  via: z.enum(['local', 'oidc']),
  csrf: z.string().min(20),
  exp: z.number().int(),
});
export type Session = z.infer<typeof sessionSchema>;

export const preSessionSchema = z.object({
  v: z.literal(1),
  csrf: z.string().min(20),
  exp: z.number().int(),
  next: z.string().max(2000).optional(),
  oidc: z.object({ state: z.string(), nonce: z.string(), verifier: z.string() }).optional(),
});
export type PreSession = z.infer<typeof preSessionSchema>;

export const newToken = (): string => randomBytes(24).toString('base64url');

export class CookieSealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error('the session key must be 32 bytes');
  }

  seal(value: object): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(JSON.stringify(value), 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
  }

  /** The sealed value, validated, or undefined (tampered, another key, expired, malformed). */
  unseal<T extends { exp: number }>(sealed: string | undefined, schema: z.ZodType<T>, now = Date.now()): T | undefined {
    if (!sealed || sealed.length > 8192) return undefined;
    try {
      const buf = Buffer.from(sealed, 'base64url');
      if (buf.length < 29) return undefined;
      const d = createDecipheriv('aes-256-gcm', this.key, buf.subarray(0, 12));
      d.setAuthTag(buf.subarray(12, 28));
      const text = Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8');
      const r = schema.safeParse(JSON.parse(text));
      return r.success && r.data.exp > now ? r.data : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Cookies of a request (first value of each name). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 1) continue;
    const k = part.slice(0, i).trim();
    if (!(k in out)) out[k] = part.slice(i + 1).trim();
  }
  return out;
}

/** A Set-Cookie value: HttpOnly, SameSite=Strict, scoped to /ui; Secure when drw is served over https. */
export function cookie(name: string, value: string, o: { maxAgeSec: number; secure: boolean }): string {
  return [`${name}=${value}`, 'Path=/ui', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.max(0, Math.floor(o.maxAgeSec))}`, ...(o.secure ? ['Secure'] : [])].join('; ');
}

/** Whether a submitted CSRF token is this session's (constant time). */
export function sameToken(expected: string, got: unknown): boolean {
  if (typeof got !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(got);
  return a.length === b.length && timingSafeEqual(a, b);
}
