/**
 * The compressing payload codec: zlib over each whole payload (metadata and data) with a preset
 * dictionary of what drw's payloads are made of (audit/dictionary/), named in the payload's
 * encoding (`binary/zlib+drw-1`). A remediation's payloads are JSON that repeats the same field
 * names, playbooks and phrases in every run: zlib alone halves the larger ones; with the
 * dictionary the small ones shrink too and the larger ones to a fifth. Temporal stores,
 * replicates and replays every one of them. A payload compression does not make smaller is left
 * as it is. It runs before encryption (encrypted bytes do not compress).
 *
 * Decoding also reads `binary/zlib` without a dictionary (the Go SDK's ZlibCodec format).
 * Anything else passes through, so histories written before (or with compression off) read as
 * they were.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { DICTIONARY as DRW_1 } from './dictionary/drw-1';

/** Go SDK's ZlibCodec format: zlib of the whole payload, no dictionary. */
export const ZLIB_ENCODING = 'binary/zlib';
/** zlib of the whole payload with a preset dictionary, named after the `+` (one short field: every compressed payload carries it). */
const DICTIONARY_ENCODING = /^binary\/zlib\+([a-z0-9-]+)$/;

/** Every dictionary payloads may name; never remove or change one (histories need it to be read). */
const DICTIONARIES = new Map<string, Buffer>([['drw-1', Buffer.from(DRW_1, 'utf8')]]);
/** The dictionary new payloads are compressed with. */
const CURRENT = 'drw-1';
export const COMPRESSED_ENCODING = `${ZLIB_ENCODING}+${CURRENT}`;

/** Below this many bytes of data even the dictionary seldom saves more than the metadata it adds. */
export const MIN_COMPRESSED_BYTES = 48;
/** A payload that inflates past this is refused rather than allowed to exhaust memory. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');
const ENCODING = new TextEncoder().encode(COMPRESSED_ENCODING);

/** Whether a payload (its metadata's encoding) is one this codec decodes. */
export function isCompressedEncoding(encoding: string): boolean {
  return encoding === ZLIB_ENCODING || DICTIONARY_ENCODING.test(encoding);
}

function inflated(data: Uint8Array, dictionary: Buffer | undefined): Buffer {
  try {
    return inflateSync(data, { maxOutputLength: MAX_INFLATED_BYTES, ...(dictionary ? { dictionary } : {}) });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`compressed payload inflates past ${MAX_INFLATED_BYTES / 1024 / 1024} MiB; refused`);
    throw e;
  }
}

export class CompressionCodec implements PayloadCodec {
  /** `compress: false` only decodes: histories written while compression was on stay readable after it is turned off. */
  constructor(private readonly opts: { compress: boolean } = { compress: true }) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    if (!this.opts.compress) return payloads;
    return payloads.map((p) => {
      if ((p.data?.length ?? 0) < MIN_COMPRESSED_BYTES) return p;
      const whole = temporal.api.common.v1.Payload.encode(p).finish();
      const data = deflateSync(whole, { dictionary: DICTIONARIES.get(CURRENT) });
      return data.length + ENCODING.length < whole.length ? { metadata: { encoding: ENCODING }, data } : p;
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const encoding = text(p.metadata?.encoding);
      if (!isCompressedEncoding(encoding)) return p;
      const id = DICTIONARY_ENCODING.exec(encoding)?.[1];
      const dictionary = id === undefined ? undefined : DICTIONARIES.get(id);
      if (id !== undefined && !dictionary) throw new Error(`payload compressed with dictionary "${id}", which this drw does not have (it knows ${[...DICTIONARIES.keys()].join(', ')})`);
      return temporal.api.common.v1.Payload.decode(inflated(p.data ?? new Uint8Array(), dictionary)) as Payload;
    });
  }
}
