import { createHmac } from 'node:crypto';
import { signHmacSha256, verifyBearer, verifyHmacSha256 } from '../../../ingest/signatures';

const secret = "It's a Secret to Everybody";
const body = 'Hello, World!';

describe('verifyHmacSha256', () => {
  it('matches GitHub\'s documented X-Hub-Signature-256 example', () => {
    // From GitHub's "Validating webhook deliveries" docs.
    const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(signHmacSha256(secret, body)).toBe(header);
    expect(verifyHmacSha256(secret, body, header)).toBe(true);
    expect(verifyHmacSha256(secret, Buffer.from(body), header)).toBe(true);
  });

  it('rejects a bad signature, a tampered body and another secret', () => {
    const good = signHmacSha256(secret, body);
    const flipped = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
    expect(verifyHmacSha256(secret, body, flipped)).toBe(false);
    expect(verifyHmacSha256(secret, `${body} `, good)).toBe(false);
    expect(verifyHmacSha256('other', body, good)).toBe(false);
  });

  it('returns false on wrong length, wrong prefix or missing header, without throwing', () => {
    const hex = createHmac('sha256', secret).update(body).digest('hex');
    expect(verifyHmacSha256(secret, body, 'sha256=abcd')).toBe(false);
    expect(verifyHmacSha256(secret, body, `sha256=${hex}00`)).toBe(false);
    expect(verifyHmacSha256(secret, body, hex)).toBe(false);
    expect(verifyHmacSha256(secret, body, `sha1=${hex}`)).toBe(false);
    expect(verifyHmacSha256(secret, body, 'sha256=' + 'z'.repeat(64))).toBe(false);
    expect(verifyHmacSha256(secret, body, undefined)).toBe(false);
    expect(verifyHmacSha256(secret, body, 42 as unknown as string)).toBe(false);
    expect(verifyHmacSha256('', body, signHmacSha256('', body))).toBe(false);
  });

  it('supports a custom prefix', () => {
    const header = signHmacSha256(secret, body, 'v1=');
    expect(verifyHmacSha256(secret, body, header, 'v1=')).toBe(true);
    expect(verifyHmacSha256(secret, body, header)).toBe(false);
  });
});

describe('verifyBearer', () => {
  it('accepts any configured token (rotation) and rejects others', () => {
    expect(verifyBearer(['old-token', 'new-token'], 'Bearer new-token')).toBe(true);
    expect(verifyBearer(['old-token', 'new-token'], 'bearer old-token')).toBe(true);
    expect(verifyBearer(['old-token'], 'Bearer old-tokeN')).toBe(false);
    expect(verifyBearer(['old-token'], 'Bearer old-token-but-longer')).toBe(false);
    expect(verifyBearer(['old-token'], 'Bearer old')).toBe(false);
  });

  it('rejects a missing header, another scheme, and an empty configuration', () => {
    expect(verifyBearer(['t'], undefined)).toBe(false);
    expect(verifyBearer(['t'], 'Basic dDp0')).toBe(false);
    expect(verifyBearer(['t'], 'Bearer')).toBe(false);
    expect(verifyBearer([], 'Bearer t')).toBe(false);
    expect(verifyBearer([''], 'Bearer ')).toBe(false);
  });
});
