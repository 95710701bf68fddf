/**
 * The work-tree lock across processes: a holder killed with SIGKILL must not block the next
 * worker for the 15-minute staleness period, while a live holder in another process must.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withWorkdirLock, WorkdirBusyError } from '../../../activities/adapters/git/lock';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'drw-lock-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** Another node process that takes the lock on `dir` and holds it until killed. */
async function holder(dir: string): Promise<ReturnType<typeof spawn>> {
  const lockModule = path.resolve(__dirname, '../../../activities/adapters/git/lock.ts');
  // The child compiles the module with TypeScript's transpiler: no build step for a contract test.
  const js = `
    const ts = require(${JSON.stringify(require.resolve('typescript'))});
    const fs = require('node:fs');
    require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, file);
    require(${JSON.stringify(lockModule)}).withWorkdirLock(${JSON.stringify(dir)}, () => { process.stdout.write('held\\n'); setInterval(() => {}, 60000); return new Promise(() => {}); });
  `;
  const p = spawn(process.execPath, ['-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    p.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    p.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return p;
}

test('a live holder in another process keeps the lock; once SIGKILLed its lock is broken at once', async () => {
  const dir = path.join(root, 'tree');
  const p = await holder(dir);
  try {
    await expect(withWorkdirLock(dir, async () => 'mine', { waitMs: 600, pollMs: 50 })).rejects.toBeInstanceOf(WorkdirBusyError);
  } finally {
    const exited = new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(undefined) : p.once('exit', r)));
    p.kill('SIGKILL');
    await exited;
  }
  expect(fs.existsSync(`${dir}.lock`)).toBe(true); // the killed holder could not clean up
  // Staleness is 15 min by default: getting the lock within the wait means the dead owner was detected.
  await expect(withWorkdirLock(dir, async () => 'mine', { waitMs: 2000, pollMs: 50 })).resolves.toBe('mine');
  expect(fs.existsSync(`${dir}.lock`)).toBe(false);
  expect(fs.readdirSync(root)).toEqual([]);
});

test('a lock from another host is only broken once stale', async () => {
  const dir = path.join(root, 'tree');
  fs.mkdirSync(`${dir}.lock`, { recursive: true });
  fs.writeFileSync(`${dir}.lock/owner`, JSON.stringify({ host: 'elsewhere.example', pid: 1, life: 'x' }));
  await expect(withWorkdirLock(dir, async () => 1, { waitMs: 300, pollMs: 50 })).rejects.toBeInstanceOf(WorkdirBusyError);
  const old = new Date(Date.now() - 20 * 60_000);
  fs.utimesSync(`${dir}.lock`, old, old);
  await expect(withWorkdirLock(dir, async () => 2, { waitMs: 300, pollMs: 50 })).resolves.toBe(2);
});

test('operations in one process run one at a time', async () => {
  const dir = path.join(root, 'tree');
  let inside = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 5 }, () =>
      withWorkdirLock(dir, async () => {
        most = Math.max(most, ++inside);
        await new Promise((r) => setTimeout(r, 20));
        inside--;
      }),
    ),
  );
  expect(most).toBe(1);
});
