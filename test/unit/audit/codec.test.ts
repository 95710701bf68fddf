/** The payload codec, its keys from the environment, and the remote codec handler, without a server. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec } from '../../../audit/codec';
import { codecHandler, startCodecServer } from '../../../audit/codec-server';
import { keyRingFromEnv } from '../../../audit/keys';
import { loadConfig } from '../../../common/config';
import { testKeys } from '../../helpers/archive-suite';

const json = (v: unknown): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) });
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString();
const key32 = (n: number) => Buffer.alloc(32, n).toString('base64');

test('a payload encoded with one key decodes after rotation, and new payloads carry the new key id', async () => {
  const before = new EncryptionCodec(testKeys('k1'));
  const after = new EncryptionCodec(testKeys('k2'));
  const [old] = await before.encode([json({ secret: 'host belongs to payroll' })]);
  expect(text(old.metadata!.encoding)).toBe('binary/encrypted');
  expect(text(old.metadata!['encryption-key-id'])).toBe('k1');
  expect(text(old.data)).not.toContain('payroll');
  const [fresh] = await after.encode([json(1)]);
  expect(text(fresh.metadata!['encryption-key-id'])).toBe('k2');
  const [back] = await after.decode([old]);
  expect(JSON.parse(text(back.data))).toEqual({ secret: 'host belongs to payroll' });
  expect(text(back.metadata!.encoding)).toBe('json/plain');
});

test('a payload altered in transit, or sealed with a key that was dropped, refuses to decode', async () => {
  const codec = new EncryptionCodec(testKeys('k1'));
  const [p] = await codec.encode([json('x')]);
  const bad = { ...p, data: Buffer.from(p.data!) };
  bad.data[20] ^= 1;
  await expect(codec.decode([bad])).rejects.toThrow(/does not authenticate with key "k1"/);
  const onlyK2 = new EncryptionCodec(keyRingFromEnv({ DRW_CODEC_KEYS: JSON.stringify({ k2: key32(2) }) })!);
  await expect(onlyK2.decode([p])).rejects.toThrow(/no key "k1" in DRW_CODEC_KEYS \(have k2\); keep retired keys/);
});

test('keys come from DRW_CODEC_KEYS (JSON or a file) and DRW_CODEC_KEY_ID; mistakes name the variable', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-keys-'));
  const file = path.join(dir, 'keys.json');
  writeFileSync(file, JSON.stringify({ a: key32(1), b: key32(2) }));
  expect(keyRingFromEnv({ DRW_CODEC_KEYS: file, DRW_CODEC_KEY_ID: 'b' })?.currentId).toBe('b');
  expect(keyRingFromEnv({})).toBeUndefined();
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (e) {
      return (e as { problems: string[] }).problems;
    }
  };
  expect(problems({ DRW_CODEC_KEYS: file })).toEqual([expect.stringMatching(/^DRW_CODEC_KEY_ID: required when DRW_CODEC_KEYS holds several keys/)]);
  expect(problems({ DRW_CODEC_KEYS: JSON.stringify({ a: Buffer.alloc(16).toString('base64') }) })).toEqual([expect.stringMatching(/^DRW_CODEC_KEYS: key "a" must be 32 bytes/)]);
  expect(problems({ DRW_CODEC_KEYS: JSON.stringify({ a: key32(1) }), DRW_CODEC_KEY_ID: 'z' })).toEqual([expect.stringMatching(/^DRW_CODEC_KEY_ID: "z" is not a key/)]);
  expect(problems({ DRW_CODEC_KEYS: path.join(dir, 'missing.json') })).toEqual([expect.stringMatching(/^DRW_CODEC_KEYS: neither JSON nor a readable file \(ENOENT\)/)]);
  expect(problems({ DRW_CODEC_KEY_ID: 'a' })).toEqual(['DRW_CODEC_KEY_ID: set, but DRW_CODEC_KEYS is not']);
  expect(loadConfig({}).audit.keys).toBeUndefined();
});

test('the codec handler asks for the bearer token when one is set, and a server beyond loopback refuses to start without one', async () => {
  const handle = codecHandler({ codec: new EncryptionCodec(testKeys()), namespace: 'default', corsOrigins: ['http://127.0.0.1:8233'], token: 'a-long-enough-codec-token' });
  const body = JSON.stringify({ payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('1').toString('base64') }] });
  const req = (headers: Record<string, string>) => handle({ method: 'POST', path: '/encode', headers: { 'content-type': 'application/json', ...headers }, body });
  expect((await req({})).status).toBe(401);
  expect((await req({ authorization: 'Bearer wrong-token-of-some-length' })).status).toBe(401);
  expect((await req({ authorization: 'Bearer a-long-enough-codec-token' })).status).toBe(200);
  // Another namespace is refused; an empty X-Namespace (`temporal workflow show` without --namespace) is the default one.
  expect((await req({ authorization: 'Bearer a-long-enough-codec-token', 'x-namespace': 'payroll' })).status).toBe(403);
  expect((await req({ authorization: 'Bearer a-long-enough-codec-token', 'x-namespace': '' })).status).toBe(200);
  expect((await handle({ method: 'POST', path: '/encode', headers: { authorization: 'Bearer a-long-enough-codec-token' }, body: '{"payloads":[{"data":7}]}' })).body).toMatch(/body\.payloads\.0\.data/);
  expect((await handle({ method: 'GET', path: '/decode', headers: {}, body: '' })).status).toBe(405);
  await expect(startCodecServer({ codec: new EncryptionCodec(testKeys()), namespace: 'default', corsOrigins: [], host: '0.0.0.0', port: 0 })).rejects.toThrow(/DRW_CODEC_SERVER_TOKEN: required to listen on 0\.0\.0\.0/);
});
