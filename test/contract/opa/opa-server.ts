/**
 * A real Open Policy Agent for the tests, obtained as temporal-dev.sh obtains the Temporal CLI:
 * `opa` on PATH, else the user cache (~/.cache/drw/opa-<version>/opa), else `go install` into
 * that cache (a few minutes the first time). Started on a free loopback port with the fixture
 * bundle, token authentication and decision logs on the console (captured, not printed).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pollUntil } from '../../../common/poll';

export const OPA_VERSION = '1.22.3';
export const FIXTURE_BUNDLE = path.resolve(__dirname, '..', '..', 'fixtures', 'opa', 'bundle');
export const FIXTURE_TOKEN = 'drw-opa-fixture-token';

function works(bin: string): boolean {
  try {
    execFileSync(bin, ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function opaBinary(): string {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'opa')).find((p) => existsSync(p) && works(p));
  if (onPath) return onPath;
  const cacheRoot = process.env.DRW_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'drw');
  const dir = path.join(cacheRoot, `opa-${OPA_VERSION}`);
  const cached = path.join(dir, 'opa');
  if (works(cached)) return cached;
  mkdirSync(dir, { recursive: true });
  const go = ['go', path.join(process.env.GOROOT ?? '/usr/local/go', 'bin', 'go')].find((g) => works(g));
  if (!go) throw new Error(`OPA ${OPA_VERSION} not found: put opa on PATH or ${cached}, or install Go so the test can go install it`);
  execFileSync(go, ['install', `github.com/open-policy-agent/opa@v${OPA_VERSION}`], { env: { ...process.env, GOBIN: dir }, stdio: 'ignore' });
  if (!works(cached)) throw new Error(`go install of OPA ${OPA_VERSION} did not produce ${cached}`);
  return cached;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface OpaServer {
  url: string;
  /** Everything OPA wrote (its decision log included). */
  log(): string;
  close(): Promise<void>;
}

export async function startOpa(): Promise<OpaServer> {
  const bin = opaBinary();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    bin,
    ['run', '--server', '--addr', `127.0.0.1:${port}`, '--authentication=token', '--authorization=basic', '--set=decision_logs.console=true', '--log-level=info', '--bundle', FIXTURE_BUNDLE],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await pollUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`opa exited ${child.exitCode}: ${output.slice(-500)}`);
      const res = await fetch(`${url}/health?bundles`).catch(() => undefined);
      return res?.ok ? true : undefined;
    },
    { what: `OPA on ${url}`, timeoutMs: 30_000, everyMs: 100, describe: () => output.slice(-500) },
  );
  return {
    url,
    log: () => output,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
