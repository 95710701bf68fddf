/**
 * A Temporal dev server of its own, for the benchmark and the fault suite: the same CLI
 * binary `./temporal-dev.sh path` resolves, free ports, a separate data directory (SQLite on
 * disk, so it survives a kill), drw's search attributes. Never touches the dev server of
 * `npm start` (its ports, its `.drw/` data, its PID file).
 *
 * `kill()` crashes it (SIGKILL) and `restart()` brings it back on the same port and database,
 * which is what the "dev server restarted mid-run" fault test needs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { CLI_TYPE, SA } from '../signals/search-attributes';

export const REPO = path.resolve(__dirname, '..', path.basename(path.resolve(__dirname, '..')) === 'dist' ? '..' : '.');

/** A TCP port nobody listens on right now (the OS picks it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** What `./temporal-dev.sh <command>` prints (its progress goes to this process's stderr). */
function devScript(command: string): string {
  return execFileSync(path.join(REPO, 'temporal-dev.sh'), [command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** The Temporal CLI binary, as temporal-dev.sh resolves it (TEMPORAL_CLI, PATH, cache, go install, release). */
export function temporalCli(): string {
  if (process.env.DRW_TEMPORAL_CLI) return process.env.DRW_TEMPORAL_CLI;
  return devScript('path');
}

/** The dynamic config temporal-dev.sh starts drw's dev server with (`./temporal-dev.sh dynamic-config`). */
export function drwDynamicConfig(): Record<string, string | number | boolean> {
  const entries = devScript('dynamic-config')
    .split('\n')
    .filter((l) => l.includes('='))
    .map((l) => {
      const [k, v] = [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)];
      return [k, v === 'true' || v === 'false' ? v === 'true' : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v] as const;
    });
  return Object.fromEntries(entries);
}

/** The SQLite pragmas temporal-dev.sh opens the dev server's database with (`./temporal-dev.sh sqlite-pragmas`). */
export function drwSqlitePragmas(): string[] {
  return devScript('sqlite-pragmas').split('\n').filter((l) => l.includes('='));
}

export interface DevServerOptions {
  cli?: string;
  /** Data directory (created); default a fresh temporary one, removed by stop({ clean: true }). */
  dataDir?: string;
  port?: number;
  /** Web UI port; `false` runs headless. Default: a free port. */
  uiPort?: number | false;
  /** Dynamic config values, e.g. { 'limit.historyCount.suggestContinueAsNew': 1500 }. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** `PRAGMA=VALUE` for the SQLite database; default temporal-dev.sh's ({@link drwSqlitePragmas}), [] for SQLite's own defaults. */
  sqlitePragmas?: string[];
  namespace?: string;
  /** How long to wait for the server to answer (default 60 s). */
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  port: number;
  uiUrl?: string;
  dataDir: string;
  dbFile: string;
  logFile: string;
  pid(): number | undefined;
  /** SIGKILL, no goodbye (a crash). */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same database. */
  restart(): Promise<void>;
  /** SIGTERM (then SIGKILL after 10 s); `clean` removes the data directory. */
  stop(opts?: { clean?: boolean }): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Never leave a server behind, whatever way this process ends.
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

async function waitHealthy(address: string, child: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the Temporal dev server exited at start (${child.exitCode ?? child.signalCode}); see ${logFile}`);
    }
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await c.workflowService.getSystemInfo({});
        return;
      } finally {
        await c.close();
      }
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`the Temporal dev server on ${address} did not answer within ${timeoutMs} ms: ${(last as Error)?.message ?? ''}; see ${logFile}`);
}

export async function startDevServer(o: DevServerOptions = {}): Promise<DevServer> {
  installExitHook();
  const cli = o.cli ?? temporalCli();
  const ownDir = !o.dataDir;
  const dataDir = o.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'drw-temporal-'));
  mkdirSync(dataDir, { recursive: true });
  const port = o.port ?? (await freePort());
  const uiPort = o.uiPort === false ? undefined : (o.uiPort ?? (await freePort()));
  const dbFile = path.join(dataDir, 'temporal.sqlite');
  const logFile = path.join(dataDir, 'temporal.log');
  const address = `127.0.0.1:${port}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', o.namespace ?? 'default', '--db-filename', dbFile, '--log-format', 'json', '--log-level', 'error'];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  for (const key of Object.values(SA)) args.push('--search-attribute', `${key.name}=${CLI_TYPE[key.type]}`);
  for (const [k, v] of Object.entries(o.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
  for (const p of o.sqlitePragmas ?? drwSqlitePragmas()) args.push('--sqlite-pragma', p);

  let child: ChildProcess | undefined;
  const launch = async () => {
    const fd = openSync(logFile, 'a');
    try {
      child = spawn(cli, args, { stdio: ['ignore', fd, fd], detached: false });
    } finally {
      closeSync(fd);
    }
    live.add(child);
    const c = child;
    c.once('exit', () => live.delete(c));
    await waitHealthy(address, c, o.startTimeoutMs ?? 60_000, logFile);
  };
  const waitExit = (c: ChildProcess, ms: number) =>
    new Promise<boolean>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve(true);
      const t = setTimeout(() => resolve(false), ms);
      c.once('exit', () => {
        clearTimeout(t);
        resolve(true);
      });
    });

  await launch();
  return {
    address,
    port,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    dataDir,
    dbFile,
    logFile,
    pid: () => child?.pid,
    async kill() {
      if (!child) return;
      child.kill('SIGKILL');
      await waitExit(child, 10_000);
    },
    async restart() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await waitExit(child, 10_000);
      }
      await launch();
    },
    async stop(opts = {}) {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitExit(child, 10_000))) {
          child.kill('SIGKILL');
          await waitExit(child, 5_000);
        }
      }
      if (opts.clean ?? ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
