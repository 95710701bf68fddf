/**
 * The AES-256-GCM key ring shared by the payload codec and the archive's encryption at
 * rest: keys by id, so they can rotate (new data uses the current key, old data names the
 * key it was sealed with). Keys come from the environment or a file, never from history.
 *
 *   DRW_CODEC_KEYS    JSON {"<id>": "<base64 of 32 bytes>", ...}, or the path of a file holding it
 *   DRW_CODEC_KEY_ID  the current key id (optional when there is one key)
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRingError';
  }
}

export class KeyRing {
  private constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    readonly currentId: string,
  ) {}

  static of(keys: Record<string, Buffer>, currentId?: string): KeyRing {
    const ids = Object.keys(keys);
    if (ids.length === 0) throw new KeyRingError('DRW_CODEC_KEYS: no keys');
    for (const [id, k] of Object.entries(keys)) {
      if (!KEY_ID.test(id)) throw new KeyRingError(`DRW_CODEC_KEYS: key id "${id.slice(0, 64)}" must be 1-64 of A-Z a-z 0-9 . _ -`);
      if (k.length !== 32) throw new KeyRingError(`DRW_CODEC_KEYS: key "${id}" must be 32 bytes (base64 of a 256-bit key), got ${k.length}`);
    }
    const current = currentId ?? (ids.length === 1 ? ids[0] : undefined);
    if (!current) throw new KeyRingError('DRW_CODEC_KEY_ID: required when DRW_CODEC_KEYS holds several keys (the one new data is encrypted with)');
    if (!keys[current]) throw new KeyRingError(`DRW_CODEC_KEY_ID: "${current}" is not a key in DRW_CODEC_KEYS (${ids.join(', ')})`);
    return new KeyRing(new Map(Object.entries(keys)), current);
  }

  has(id: string): boolean {
    return this.keys.has(id);
  }

  ids(): string[] {
    return [...this.keys.keys()];
  }

  /** iv (12 bytes) | ciphertext | tag (16 bytes), with the current key; `aad` binds the ciphertext to its context. */
  seal(plain: Uint8Array, aad?: Uint8Array): { keyId: string; data: Buffer } {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    if (aad) cipher.setAAD(aad);
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    return { keyId: this.currentId, data: Buffer.concat([iv, ct, cipher.getAuthTag()]) };
  }

  open(keyId: string, data: Uint8Array, aad?: Uint8Array): Buffer {
    const key = this.keys.get(keyId);
    if (!key) throw new KeyRingError(`no key "${keyId}" in DRW_CODEC_KEYS (have ${this.ids().join(', ')}); keep retired keys to read old data`);
    if (data.length < IV_BYTES + TAG_BYTES) throw new KeyRingError('encrypted data too short');
    const buf = Buffer.from(data);
    const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, IV_BYTES));
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(buf.subarray(IV_BYTES, buf.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new KeyRingError(`data does not authenticate with key "${keyId}" (altered, or another key)`);
    }
  }
}

const keyMap = z.record(z.string(), z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'));

/** The key ring from the environment, or undefined when no key is configured (codec off). */
export function keyRingFromEnv(env: NodeJS.ProcessEnv): KeyRing | undefined {
  const raw = env.DRW_CODEC_KEYS?.trim();
  if (!raw) {
    if (env.DRW_CODEC_KEY_ID) throw new KeyRingError('DRW_CODEC_KEY_ID: set, but DRW_CODEC_KEYS is not');
    return undefined;
  }
  let text = raw;
  if (!raw.startsWith('{')) {
    try {
      text = readFileSync(raw, 'utf8');
    } catch (e) {
      throw new KeyRingError(`DRW_CODEC_KEYS: neither JSON nor a readable file (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new KeyRingError('DRW_CODEC_KEYS: not valid JSON; expected {"<key id>": "<base64 of 32 bytes>"}');
  }
  const parsed = keyMap.safeParse(doc);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new KeyRingError(`DRW_CODEC_KEYS${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}; expected {"<key id>": "<base64 of 32 bytes>"}`);
  }
  const keys = Object.fromEntries(Object.entries(parsed.data).map(([id, b64]) => [id, Buffer.from(b64, 'base64')]));
  return KeyRing.of(keys, env.DRW_CODEC_KEY_ID?.trim() || undefined);
}
