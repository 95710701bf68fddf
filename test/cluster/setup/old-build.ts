/**
 * An earlier build of drw for the rolling-upgrade test: the sources of one commit of this
 * repository (git archive, so no worktree is registered in the checkout), its own node_modules
 * (npm ci) and dist/ (npm run build), cached by commit in the user cache so later runs and CI
 * reuse it. Built in a temporary directory and renamed into place, so an interrupted build is
 * never taken for a finished one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function cacheRoot(): string {
  return process.env.DRW_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'drw');
}

function run(command: string, args: string[], cwd: string): void {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${(r.stderr || r.stdout).slice(-3000)}`);
}

/** The full commit id of `ref`, or an error saying how to get the history a shallow clone lacks. */
export function resolveCommit(ref: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`commit ${ref} is not in this clone (a shallow clone? git fetch --unshallow), or set DRW_UPGRADE_FROM to a commit it has`);
  }
}

/** The directory of `ref`'s build (its dist/ and node_modules/), building it the first time. */
export function oldBuild(ref: string): string {
  const commit = resolveCommit(ref);
  const root = cacheRoot();
  const dir = path.join(root, `drw-build-${commit}`);
  if (existsSync(path.join(dir, '.built'))) return dir;
  mkdirSync(root, { recursive: true });
  const t0 = Date.now();
  process.stderr.write(`\n[upgrade] building drw at ${commit.slice(0, 7)} into ${dir} (first time only)...\n`);
  const tmp = mkdtempSync(path.join(root, `.drw-build-${commit.slice(0, 7)}-`));
  try {
    const tar = path.join(tmp, 'src.tar');
    run('git', ['archive', '--format=tar', '-o', tar, commit], ROOT);
    run('tar', ['-xf', tar, '-C', tmp], tmp);
    rmSync(tar);
    run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], tmp);
    run('npm', ['run', 'build', '--silent'], tmp);
    writeFileSync(path.join(tmp, '.built'), `${commit}\n${new Date().toISOString()}\n`);
    if (existsSync(path.join(dir, '.built'))) rmSync(tmp, { recursive: true, force: true });
    else {
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  process.stderr.write(`[upgrade] built in ${Math.round((Date.now() - t0) / 1000)} s\n`);
  return dir;
}
