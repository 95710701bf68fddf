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
