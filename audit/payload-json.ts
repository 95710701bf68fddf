/**
 * Payloads in their proto3 JSON form (base64 metadata values and data), as history JSON and
 * the remote codec protocol carry them, and decoding every compressed or encrypted payload of
 * a history JSON so reports, the archive and digests see the plain values.
 */
import type { Client } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { ENCRYPTED_ENCODING } from './codec';
import { isCompressedEncoding } from './compression';

const b64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64');
export const jsonPayloadSchema = z.object({
  metadata: z.record(z.string(), b64).nullish(),
  data: b64.nullish(),
});
export type JsonPayload = z.infer<typeof jsonPayloadSchema>;

export function payloadFromJson(p: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = Buffer.from(v, 'base64');
  return { metadata, data: Buffer.from(p.data ?? '', 'base64') };
}

export function payloadToJson(p: Payload): { metadata: Record<string, string>; data: string } {
  const metadata: Record<string, string> = {};
  for (const k of Object.keys(p.metadata ?? {}).sort()) metadata[k] = Buffer.from(p.metadata![k]).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? []).toString('base64') };
}

const ENCRYPTED_B64 = Buffer.from(ENCRYPTED_ENCODING).toString('base64');

function isEncodedJson(v: unknown): v is JsonPayload {
  const m = (v as { metadata?: Record<string, unknown> } | null)?.metadata;
  if (typeof m !== 'object' || m === null || typeof m.encoding !== 'string') return false;
  return m.encoding === ENCRYPTED_B64 || isCompressedEncoding(Buffer.from(m.encoding, 'base64').toString('utf8'));
}

/**
 * A copy of a history JSON (or any JSON holding payloads) with every payload drw's codecs
 * encoded (compressed, encrypted) decoded by the codec. Without a codec the value is
 * returned as is: such payloads are reported as unreadable by report/history's decodePayload.
 */
export async function decodeJsonPayloads<T>(value: T, codec: PayloadCodec | undefined): Promise<T> {
  if (!codec) return value;
  const found: { holder: Record<string, unknown> | unknown[]; key: string | number; payload: JsonPayload }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => (isEncodedJson(x) ? found.push({ holder: v, key: i, payload: x }) : walk(x)));
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (isEncodedJson(x)) found.push({ holder: v as Record<string, unknown>, key: k, payload: x });
        else walk(x);
      }
    }
  };
  const copy = structuredClone(value);
  walk(copy);
  if (found.length === 0) return copy;
  const decoded = await codec.decode(found.map((f) => payloadFromJson(f.payload)));
  found.forEach((f, i) => {
    (f.holder as Record<string | number, unknown>)[f.key] = payloadToJson(decoded[i]);
  });
  return copy;
}

/** Codecs applied as one, in the SDK's order: encode first to last, decode last to first. */
export function chainCodecs(codecs: PayloadCodec[]): PayloadCodec {
  return {
    async encode(payloads) {
      for (const c of codecs) payloads = await c.encode(payloads);
      return payloads;
    },
    async decode(payloads) {
      for (const c of [...codecs].reverse()) payloads = await c.decode(payloads);
      return payloads;
    },
  };
}

/** The payload codecs a client was made with (common/temporal.ts connectClient), as one codec; undefined when none. */
export function codecOfClient(client: Client): PayloadCodec | undefined {
  const codecs = client.workflow.options.loadedDataConverter.payloadCodecs;
  return codecs.length === 0 ? undefined : chainCodecs(codecs);
}
