/** The compressing payload codec, alone and chained with encryption, without a server. */
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EncryptionCodec } from '../../../audit/codec';
import { CompressionCodec, MIN_COMPRESSED_BYTES } from '../../../audit/compression';
import { decodeJsonPayloads } from '../../../audit/payload-json';
import { loadConfig } from '../../../common/config';
import { dataConverterOf, payloadCodecOf, replayDataConverterOf } from '../../../common/temporal';
import { testKeys } from '../../helpers/archive-suite';

const json = (v: unknown): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) });
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString();
const size = (p: Payload) => temporal.api.common.v1.Payload.encode(p).finish().length;

/** What a remediation sends its ticketing activity (the shape the dictionary knows, values it has never seen). */
const ticket = {
  idempotencyKey: 'drw-siem-db-7-sqli-3f2a9c0d11e4b8a7~01b2c3d4-e5f:sqli.ticket',
  remediationId: 'drw-siem-db-7-sqli-3f2a9c0d11e4b8a7~01b2c3d4-e5f',
  title: '[drw] SQL injection attempts on db-7',
  description: 'SQL injection attempts on db-7\n\nSource: siem   Rule: SQLi.Burst   Severity: high   Risk: 81\nAsset: db-7 (host, production)\nPlaybook: triage (policy 0a1b2c3d4e5f6a7b)\n\nPlan:\n- [running] ticket.open (ticket): always\n- [pending] notify (notify): always',
  severity: 'high',
  priority: 'high',
  labels: ['drw', 'triage'],
  assetId: 'db-7',
};

test('larger payloads come back as they were, in a fraction of the bytes; small ones are left alone', async () => {
  const codec = new CompressionCodec();
  const small = json({ found: false });
  const [s, t] = await codec.encode([small, json(ticket)]);
  expect(s).toBe(small);
  expect(text(t.metadata!.encoding)).toBe('binary/zlib+drw-1');
  expect(size(t)).toBeLessThan(size(json(ticket)) / 2);
  expect(text(t.data)).not.toContain('SQL injection');
  const [s2, t2] = await codec.decode([s, t]);
  expect(s2).toBe(small);
  expect(JSON.parse(text(t2.data))).toEqual(ticket);
  expect(text(t2.metadata!.encoding)).toBe('json/plain');
});

test('a payload compression would not shrink (random bytes) is sent as it is', async () => {
  const noise: Payload = { metadata: { encoding: Buffer.from('binary/plain') }, data: randomBytes(400) };
  const [out] = await new CompressionCodec().encode([noise]);
  expect(out).toBe(noise);
  expect(MIN_COMPRESSED_BYTES).toBeGreaterThan(0);
});

test("reads the Go SDK ZlibCodec's binary/zlib, refuses a dictionary it does not have by name, and a payload inflating past its bound", async () => {
  const codec = new CompressionCodec();
  const go: Payload = { metadata: { encoding: Buffer.from('binary/zlib') }, data: deflateSync(temporal.api.common.v1.Payload.encode(json(ticket)).finish()) };
  expect(JSON.parse(text((await codec.decode([go]))[0].data))).toEqual(ticket);
  const [t] = await codec.encode([json(ticket)]);
  await expect(codec.decode([{ ...t, metadata: { encoding: Buffer.from('binary/zlib+drw-9') } }])).rejects.toThrow(/dictionary "drw-9", which this drw does not have \(it knows drw-1\)/);
  await expect(codec.decode([{ ...t, metadata: { encoding: Buffer.from('binary/zlib+constructor') } }])).rejects.toThrow(/dictionary "constructor"/);
  const bomb: Payload = { metadata: { encoding: Buffer.from('binary/zlib') }, data: deflateSync(Buffer.alloc(65 * 1024 * 1024)) };
  await expect(codec.decode([bomb])).rejects.toThrow('compressed payload inflates past 64 MiB; refused');
});

test('DRW_PAYLOAD_COMPRESSION=off stops compressing but still reads what was compressed; anything else is refused', async () => {
  const on = loadConfig({});
  const off = loadConfig({ DRW_PAYLOAD_COMPRESSION: 'off' });
  expect([on.audit.compression, off.audit.compression]).toEqual([true, false]);
  const [compressed] = await payloadCodecOf(on).encode([json(ticket)]);
  const [plain] = await payloadCodecOf(off).encode([json(ticket)]);
  expect(text(plain.metadata!.encoding)).toBe('json/plain');
  expect(JSON.parse(text((await payloadCodecOf(off).decode([compressed]))[0].data))).toEqual(ticket);
  expect(() => loadConfig({ DRW_PAYLOAD_COMPRESSION: 'gzip' })).toThrow(/DRW_PAYLOAD_COMPRESSION: on or off \(got "gzip"\)/);
});

test('with codec keys: compressed first, then encrypted (encrypted bytes would not compress); history JSON decodes through both', async () => {
  const cfg = { ...loadConfig({}), audit: { ...loadConfig({}).audit, keys: testKeys('k1') } };
  expect(dataConverterOf(cfg).payloadCodecs!.map((c) => c.constructor.name)).toEqual(['CompressionCodec', 'EncryptionCodec']);
  const codec = payloadCodecOf(cfg);
  const [sealed] = await codec.encode([json(ticket)]);
  expect(text(sealed.metadata!.encoding)).toBe('binary/encrypted');
  const [encryptedOnly] = await new EncryptionCodec(testKeys('k1')).encode([json(ticket)]);
  expect(size(sealed)).toBeLessThan(size(encryptedOnly) * 0.7);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  const asJson = { metadata: Object.fromEntries(Object.entries(sealed.metadata!).map(([k, v]) => [k, b64(v!)])), data: b64(sealed.data!) };
  const history = { events: [{ activityTaskScheduledEventAttributes: { input: { payloads: [asJson] } } }] };
  const decoded = await decodeJsonPayloads(history, codec);
  const p = decoded.events[0].activityTaskScheduledEventAttributes.input.payloads[0];
  expect(JSON.parse(Buffer.from(p.data, 'base64').toString())).toEqual(ticket);
});

test('the replay converter decodes what workers wrote (compressed and encrypted) and encodes nothing: a replay discards its commands', async () => {
  const cfg = { ...loadConfig({}), audit: { ...loadConfig({}).audit, keys: testKeys('k1') } };
  const [sealed] = await payloadCodecOf(cfg).encode([json(ticket)]);
  const [replay] = replayDataConverterOf(cfg).payloadCodecs!;
  expect(JSON.parse(text((await replay.decode([sealed]))[0].data))).toEqual(ticket);
  const command = json(ticket);
  expect((await replay.encode([command]))[0]).toBe(command);
  // Nothing else in the converter changes: a replay reads payloads exactly as the workers' converter does.
  expect(JSON.parse(text((await replay.decode([json(ticket)]))[0].data))).toEqual(ticket);
});
