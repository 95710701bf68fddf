/** Runs the `drw` CLI in-process with the given environment and Temporal client, capturing its output. */
import type { Client } from '@temporalio/client';
import { main } from '../../cli/drw';

export async function runDrw(args: string[], o: { env: Record<string, string | undefined>; client: Client }): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    env: { ...process.env, DRW_LOG_LEVEL: 'silent', ...o.env },
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    temporal: async () => ({ client: o.client, close: async () => undefined }),
  });
  return { code, out, err };
}
