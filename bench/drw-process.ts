/**
 * A drw process run as a child (`node dist/workers/main.js`, or the API alone with
 * `dist/cli/start.js --api-only`): started with its own environment, up once it prints its ready
 * line, SIGKILLable and restartable, its output appended to a log file. Used by the fault and
 * cluster suites and by the benchmark's cluster phase.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { REPO } from './devserver';

export const WORKER_MAIN = path.join(REPO, 'dist', 'workers', 'main.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a child process runs: a built entry point of dist/, its arguments, and the line that says it is up. */
export interface ProcessSpec {
  script: string;
  args?: string[];
  readyLine: string;
}

/** The worker: `node dist/workers/main.js`, up once it logs "drw worker started" (DRW_LOG_LEVEL info or lower). */
export const WORKER: ProcessSpec = { script: WORKER_MAIN, readyLine: 'drw worker started' };

/** A drw process (by default the worker) with the given environment; killable and restartable. */
export class WorkerProcess {
  child?: ChildProcess;
  starts = 0;
  kills = 0;
  private log: WriteStream;

  constructor(
    private readonly env: Record<string, string>,
    readonly logFile: string,
    private readonly spec: ProcessSpec = WORKER,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  running(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  /** Spawns the process and resolves once it prints its ready line (on stdout or stderr). */
  async start(timeoutMs = 180_000): Promise<void> {
    this.starts++;
    const child = spawn(process.execPath, [this.spec.script, ...(this.spec.args ?? [])], {
      // The sealed archive is its own workload (test/e2e/audit-*, the seal fault test): off unless asked for.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DRW_ARCHIVE: 'off', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.log.write(`--- start #${this.starts} pid ${child.pid} at ${new Date().toISOString()}\n`);
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(() => reject(new Error(`${path.basename(this.spec.script)} did not start within ${timeoutMs} ms; see ${this.logFile}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        this.log.write(chunk);
        buffered = (buffered + chunk.toString('utf8')).slice(-10_000);
        if (buffered.includes(this.spec.readyLine)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.log.write(`--- pid ${child.pid} exited ${code ?? signal}\n`);
        reject(new Error(`${path.basename(this.spec.script)} exited (${code ?? signal}) before it started: ${buffered.slice(-1500)}`));
      });
    });
  }

  /** SIGKILL: no shutdown, in-flight activities and workflow tasks are simply lost. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || !this.running()) return;
    this.kills++;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c && this.running()) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([gone, sleep(15_000)]);
      if (this.running()) {
        c.kill('SIGKILL');
        await gone;
      }
    }
    await new Promise((r) => this.log.end(r));
  }
}
