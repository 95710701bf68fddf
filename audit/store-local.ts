/**
 * The archive in a local folder: each key a file. create() writes a temporary file, fsyncs
 * it and link()s it to its name, which fails if the name exists: a writer killed mid-write
 * leaves only a temporary file (never a partial record), and of two writers exactly one
 * wins. Temporary files older than an hour are removed by later writes.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ArchiveStore } from './store';

const TMP = '.tmp';
const STALE_TMP_MS = 3_600_000;

export class LocalStore implements ArchiveStore {
  readonly location: string;
  private swept = false;

  constructor(readonly dir: string) {
    this.location = path.resolve(dir);
  }

  private file(key: string): string {
    if (key.split('/').some((p) => p === '' || p === '.' || p === '..') || key.includes('\\')) throw new Error(`invalid archive key "${key}"`);
    return path.join(this.location, ...key.split('/'));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.file(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  private async writeTemp(body: Buffer): Promise<string> {
    const dir = path.join(this.location, TMP);
    await fs.mkdir(dir, { recursive: true });
    if (!this.swept) {
      this.swept = true;
      await this.sweepTemp(dir);
    }
    const tmp = path.join(dir, `${randomUUID()}.part`);
    const fh = await fs.open(tmp, 'wx');
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return tmp;
  }

  private async sweepTemp(dir: string): Promise<void> {
    const now = Date.now();
    for (const name of await fs.readdir(dir)) {
      const p = path.join(dir, name);
      const st = await fs.stat(p).catch(() => undefined);
      if (st && now - st.mtimeMs > STALE_TMP_MS) await fs.rm(p, { force: true });
    }
  }

  private async syncDir(dir: string): Promise<void> {
    const fh = await fs.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async create(key: string, body: Buffer, opts: { immutable?: boolean } = {}): Promise<boolean> {
    const target = this.file(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = await this.writeTemp(body);
    try {
      await fs.link(tmp, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    } finally {
      await fs.rm(tmp, { force: true });
    }
    // Read-only is the folder's counterpart of object lock: it stops accidents, not root.
    if (opts.immutable) await fs.chmod(target, 0o444);
    await this.syncDir(path.dirname(target));
    return true;
  }

  async put(key: string, body: Buffer): Promise<void> {
    const target = this.file(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = await this.writeTemp(body);
    await fs.rename(tmp, target);
  }

  async *list(prefix: string, startAfter?: string): AsyncIterable<string> {
    const keys: string[] = [];
    const walk = async (rel: string) => {
      let entries;
      try {
        entries = await fs.readdir(path.join(this.location, rel), { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const d of entries) {
        const key = rel ? `${rel}/${d.name}` : d.name;
        if (!rel && d.name === TMP) continue;
        if (d.isDirectory()) {
          if (prefix.startsWith(`${key}/`) || key.startsWith(prefix)) await walk(key);
        } else if (key.startsWith(prefix) && (startAfter === undefined || key > startAfter)) keys.push(key);
      }
    };
    await walk('');
    keys.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    yield* keys;
  }
}
