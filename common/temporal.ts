import { Client, Connection } from '@temporalio/client';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { EncryptionCodec } from '../audit/codec';
import { CompressionCodec } from '../audit/compression';
import { chainCodecs } from '../audit/payload-json';
import type { DrwConfig } from './config';

function connectionOptions(cfg: DrwConfig) {
  const t = cfg.temporal;
  return {
    address: t.address,
    ...(t.tls ? { tls: t.tls } : {}),
    ...(t.apiKey ? { apiKey: t.apiKey } : {}),
  };
}

/**
 * The data converter every client and worker uses: larger payloads compressed
 * (audit/compression.ts; DRW_PAYLOAD_COMPRESSION=off stops compressing but still reads
 * compressed payloads), then encrypted with the configured keys (audit/codec.ts). Clients
 * and workers of one namespace must agree, so both take it from here. Each codec decodes
 * only what it encoded, so histories written with other settings stay readable.
 */
export function dataConverterOf(cfg: DrwConfig): DataConverter {
  return { payloadCodecs: [new CompressionCodec({ compress: cfg.audit.compression }), ...(cfg.audit.keys ? [new EncryptionCodec(cfg.audit.keys)] : [])] };
}

/**
 * What a replay (Worker.runReplayHistory/ies: CI's recorded histories, an engineer's exported
 * history, the benchmark) reads histories with: the same codecs, decoding only. A replay
 * discards the commands the workflow code produces (core matches them to the history's events by
 * kind and identity — activity id and type, timer id, patch id — not by their payloads; the SDK
 * skips external storage on replay for the same reason), so compressing and encrypting them again
 * is wasted: about a tenth of a remediation's replay time, in zlib. CI replays every recorded
 * generation with it.
 */
export function replayDataConverterOf(cfg: DrwConfig): DataConverter {
  return decodingOnly(dataConverterOf(cfg));
}

/** A data converter's codecs, decoding only (encode hands payloads back as they are). */
export function decodingOnly(converter: DataConverter): DataConverter {
  const codec = chainCodecs(converter.payloadCodecs ?? []);
  return { ...converter, payloadCodecs: [{ encode: async (payloads) => payloads, decode: (payloads) => codec.decode(payloads) }] };
}

/** The same codecs as one (the codec server, the archive's sealing, reports reading raw history JSON). */
export function payloadCodecOf(cfg: DrwConfig): PayloadCodec {
  return chainCodecs(dataConverterOf(cfg).payloadCodecs ?? []);
}

export async function connectClient(cfg: DrwConfig): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ ...connectionOptions(cfg), connectTimeout: 10_000 });
  return { client: new Client({ connection, namespace: cfg.temporal.namespace, dataConverter: dataConverterOf(cfg) }), connection };
}

export async function connectWorker(cfg: DrwConfig): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(cfg));
}
