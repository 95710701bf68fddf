import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * One operation at a time per cached work tree: an in-process queue for activities running in
 * the same worker, plus a lock directory (mkdir is atomic) for other worker processes sharing
 * DRW_IAC_WORKDIR. A lock older than `staleMs` belongs to a crashed process and is broken.
 */

const queues = new Map<string, Promise<unknown>>();

export class WorkdirBusyError extends Error {
  constructor(dir: string) {
    super(`work tree ${dir} is busy (another drw worker holds its lock)`);
    this.name = 'WorkdirBusyError';
  }
}

export interface LockOptions {
  waitMs?: number;
  staleMs?: number;
  pollMs?: number;
}

export async function withWorkdirLock<T>(dir: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const previous = queues.get(dir) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => withFileLock(dir, fn, opts));
  const tail = run.catch(() => undefined);
  queues.set(dir, tail);
  try {
    return await run;
  } finally {
    if (queues.get(dir) === tail) queues.delete(dir);
  }
}

async function withFileLock<T>(dir: string, fn: () => Promise<T>, opts: LockOptions): Promise<T> {
  const lock = `${dir}.lock`;
  const waitMs = opts.waitMs ?? 5 * 60_000;
  const staleMs = opts.staleMs ?? 15 * 60_000;
  const pollMs = opts.pollMs ?? 250;
  const deadline = Date.now() + waitMs;
  await fs.mkdir(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      await fs.mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await fs.stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > staleMs) {
        await fs.rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() >= deadline) throw new WorkdirBusyError(dir);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
  try {
    await fs.writeFile(`${lock}/owner`, `${process.pid}\n`).catch(() => undefined);
    return await fn();
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}
