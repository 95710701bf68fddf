/**
 * The fault suite's global setup: the shared dev server and workflow bundle of the main suite
 * (test/setup/global-setup.ts), plus a build of dist/ when it is missing or older than the
 * sources, because the worker-kill test runs `node dist/workers/main.js` as a child process.
 * DRW_FAULTS_SKIP_BUILD=1 uses dist/ as it is.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import mainSetup from '../../setup/global-setup';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SOURCES = ['domain', 'planner', 'signals', 'workflows', 'activities', 'workers', 'api', 'ingest', 'cli', 'common', 'simulators', 'report', 'audit'];

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export function ensureBuilt(): void {
  const main = path.join(ROOT, 'dist', 'workers', 'main.js');
  if (process.env.DRW_FAULTS_SKIP_BUILD === '1' && existsSync(main)) return;
  const built = existsSync(main) ? statSync(main).mtimeMs : 0;
  const sources = Math.max(...SOURCES.filter((d) => existsSync(path.join(ROOT, d))).map((d) => newestSource(path.join(ROOT, d))));
  if (built >= sources) return;
  process.stderr.write('\n[faults] building dist/ (npm run build) for the worker process...\n');
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    // tsc still emits JavaScript on type errors; a missing worker is the only thing that stops the suite.
    if (!existsSync(main)) throw new Error('npm run build failed and dist/workers/main.js does not exist');
    process.stderr.write('[faults] npm run build reported errors (above); running against the JavaScript it emitted\n');
  }
}

export default async function globalSetup(): Promise<void> {
  await mainSetup();
  ensureBuilt();
}
