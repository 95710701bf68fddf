/**
 * A real S3-compatible server for the archive's S3 tests: Versity's versitygw (Apache-2.0,
 * a single Go binary serving S3 over a local folder, with conditional writes, versioning and
 * object lock). Obtained the way temporal-dev.sh obtains the Temporal CLI: $VERSITYGW,
 * `versitygw` on PATH, the user cache ${XDG_CACHE_HOME:-~/.cache}/drw/versitygw-<v>/, then
 * `go install` of the pinned version into that cache (a few minutes, first time only).
 * It listens on loopback only, on a free port, with throwaway credentials.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { pollUntil } from '../../common/poll';

export const VERSITYGW_VERSION = '1.8.0';

function works(bin: string): boolean {
  try {
    execFileSync(bin, ['--version'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

export function versitygwPath(): string {
  if (process.env.VERSITYGW && works(process.env.VERSITYGW)) return process.env.VERSITYGW;
  try {
    const onPath = execFileSync('sh', ['-c', 'command -v versitygw'], { encoding: 'utf8' }).trim();
    if (onPath && works(onPath)) return onPath;
  } catch {
    /* not on PATH */
  }
  const cache = path.join(process.env.DRW_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'drw'), `versitygw-${VERSITYGW_VERSION}`);
  const bin = path.join(cache, 'versitygw');
  if (existsSync(bin) && works(bin)) return bin;
  mkdirSync(cache, { recursive: true });
  execFileSync('go', ['install', `github.com/versity/versitygw/cmd/versitygw@v${VERSITYGW_VERSION}`], { env: { ...process.env, GOBIN: cache }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!works(bin)) throw new Error(`go install of versitygw v${VERSITYGW_VERSION} did not produce a working ${bin}`);
  return bin;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface S3Server {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  client: S3Client;
  /** Creates a bucket (with object lock, which turns on versioning). */
  bucket(name: string, objectLock?: boolean): Promise<string>;
  stop(): Promise<void>;
}

export async function startVersitygw(): Promise<S3Server> {
  const bin = versitygwPath();
  const dir = mkdtempSync(path.join(process.env.DRW_TEST_TMP ?? os.tmpdir(), 'versitygw-'));
  mkdirSync(path.join(dir, 'data'));
  mkdirSync(path.join(dir, 'versions'));
  const port = await freePort();
  const credentials = { accessKeyId: 'drwtest', secretAccessKey: 'drw-test-secret-key' };
  let output = '';
  const child: ChildProcess = spawn(
    bin,
    ['--access', credentials.accessKeyId, '--secret', credentials.secretAccessKey, '--port', `127.0.0.1:${port}`, 'posix', '--versioning-dir', path.join(dir, 'versions'), path.join(dir, 'data')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });
  try {
    await pollUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`versitygw exited with ${child.exitCode}: ${output.slice(-2000)}`);
        return client.send(new ListBucketsCommand({})).then(
          () => true,
          () => undefined,
        );
      },
      { what: 'versitygw answering', timeoutMs: 30_000, everyMs: 100 },
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    endpoint,
    credentials,
    client,
    async bucket(name, objectLock = false) {
      await client.send(new CreateBucketCommand({ Bucket: name, ...(objectLock ? { ObjectLockEnabledForBucket: true } : {}) }));
      return name;
    },
    async stop() {
      client.destroy();
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
