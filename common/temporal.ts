import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { DrwConfig } from './config';

function connectionOptions(cfg: DrwConfig) {
  const t = cfg.temporal;
  return {
    address: t.address,
    ...(t.tls ? { tls: t.tls } : {}),
    ...(t.apiKey ? { apiKey: t.apiKey } : {}),
  };
}

export async function connectClient(cfg: DrwConfig): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ ...connectionOptions(cfg), connectTimeout: 10_000 });
  return { client: new Client({ connection, namespace: cfg.temporal.namespace }), connection };
}

export async function connectWorker(cfg: DrwConfig): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(cfg));
}
