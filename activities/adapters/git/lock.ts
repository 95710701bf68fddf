import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KeyedQueue } from '../../../common/keyed-queue';

/**
 * One operation at a time per cached work tree: an in-process queue for activities running in
 * the same worker, plus a lock directory for other worker processes sharing DRW_IAC_WORKDIR.
 *
 * A worker killed with SIGKILL never runs its `finally`, so its lock stays. The lock records its
 * owner (host, PID and a token of this process's life); a lock whose owner is on this host and
 * no longer alive (or is an earlier life of this same PID) is broken at once. Owners on other
 * hosts cannot be checked: their locks are broken once older than `staleMs`.
 */

const inProcess = new KeyedQueue();
/** Tells this process's locks from those of an earlier process that had the same PID (containers). */
const LIFE = randomBytes(6).toString('hex');

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
  return inProcess.run(dir, () => withFileLock(dir, fn, opts));
}

interface Owner {
  host: string;
  pid: number;
  life: string;
}

const ownerText = (): string => `${JSON.stringify({ host: os.hostname(), pid: process.pid, life: LIFE } satisfies Owner)}\n`;

async function readOwner(lock: string): Promise<Owner | undefined> {
  try {
    const o = JSON.parse(await fs.readFile(path.join(lock, 'owner'), 'utf8')) as Partial<Owner>;
    return typeof o.host === 'string' && typeof o.pid === 'number' && typeof o.life === 'string' ? (o as Owner) : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock's owner is known to be gone: dead on this host, an earlier life of this PID, or (elsewhere) stale. */
function ownerGone(o: Owner | undefined, ageMs: number, staleMs: number): boolean {
  if (o && o.host === os.hostname()) return o.pid === process.pid ? o.life !== LIFE : !alive(o.pid);
  return ageMs > staleMs;
}

/** Creates the lock with its owner already inside (rename is atomic), so no lock is ever ownerless. */
async function tryAcquire(lock: string): Promise<boolean> {
  const tmp = await fs.mkdtemp(`${lock}.new-`);
  try {
    await fs.writeFile(path.join(tmp, 'owner'), ownerText());
    await fs.rename(tmp, lock);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTEMPTY') return false;
    throw err;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Moves a dead owner's lock aside. Two workers may judge the same lock dead; the second could
 * then move aside the lock the first has just taken, so the moved lock's owner is checked and a
 * live one put back.
 */
async function breakLock(lock: string, dead: Owner | undefined): Promise<void> {
  const aside = `${lock}.broken-${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(lock, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = await readOwner(aside);
  if (moved && moved.life !== dead?.life) await fs.rename(aside, lock).catch(() => undefined);
  await fs.rm(aside, { recursive: true, force: true });
}

async function withFileLock<T>(dir: string, fn: () => Promise<T>, opts: LockOptions): Promise<T> {
  const lock = `${dir}.lock`;
  const waitMs = opts.waitMs ?? 5 * 60_000;
  const staleMs = opts.staleMs ?? 15 * 60_000;
  const pollMs = opts.pollMs ?? 250;
  const deadline = Date.now() + waitMs;
  await fs.mkdir(path.dirname(lock), { recursive: true });
  while (!(await tryAcquire(lock))) {
    const st = await fs.stat(lock).catch(() => undefined);
    if (!st) continue; // released meanwhile
    const owner = await readOwner(lock);
    if (ownerGone(owner, Date.now() - st.mtimeMs, staleMs)) {
      await breakLock(lock, owner);
      continue;
    }
    if (Date.now() >= deadline) throw new WorkdirBusyError(dir);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}
