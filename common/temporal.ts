import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { EncryptionCodec } from '../audit/codec';
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
 * The data converter every client and worker uses: payloads encrypted with the configured
 * keys (audit/codec.ts), or the SDK default when none is configured. Clients and workers
 * of one namespace must agree, so both take it from here.
 */
export function dataConverterOf(cfg: DrwConfig): DataConverter | undefined {
  return cfg.audit.keys ? { payloadCodecs: [new EncryptionCodec(cfg.audit.keys)] } : undefined;
}

export async function connectClient(cfg: DrwConfig): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ ...connectionOptions(cfg), connectTimeout: 10_000 });
  const dataConverter = dataConverterOf(cfg);
  return { client: new Client({ connection, namespace: cfg.temporal.namespace, ...(dataConverter ? { dataConverter } : {}) }), connection };
}

export async function connectWorker(cfg: DrwConfig): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(cfg));
}
