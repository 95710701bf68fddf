import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A real bare repository seeded from a fixture folder, plus helpers to inspect it. */

export const FIXTURE_REPO = path.join(__dirname, '../../../../simulators/demo-infra');

const ENV = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Seed',
  GIT_AUTHOR_EMAIL: 'seed@example.com',
  GIT_COMMITTER_NAME: 'Seed',
  GIT_COMMITTER_EMAIL: 'seed@example.com',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
}

export interface TestRemote {
  /** Temp folder holding everything of this test (bare repo, seed, work dir). */
  root: string;
  bare: string;
  workdir: string;
  /** A file's content at a branch of the bare repository. */
  show(branch: string, file: string): string;
  /** The commit a branch points at, or undefined. */
  head(branch: string): string | undefined;
  branches(): string[];
  /** Commits on `branch` that are not on main. */
  commitsAhead(branch: string): number;
  /** Adds a commit to main (as a human would), returning its sha. */
  commitToMain(file: string, content: string): string;
  cleanup(): void;
}

export function createRemote(fixture = FIXTURE_REPO): TestRemote {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'drw-iac-test-'));
  const bare = path.join(root, 'remote.git');
  const seed = path.join(root, 'seed');
  git(root, 'init', '--quiet', '--bare', '-b', 'main', bare);
  git(root, 'init', '--quiet', '-b', 'main', seed);
  fs.cpSync(fixture, seed, { recursive: true });
  git(seed, 'add', '-A');
  git(seed, 'commit', '--quiet', '-m', 'Seed infrastructure repository');
  git(seed, 'push', '--quiet', bare, 'main');
  return {
    root,
    bare,
    workdir: path.join(root, 'work'),
    show: (branch, file) => git(bare, 'show', `${branch}:${file}`),
    head(branch) {
      try {
        return git(bare, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`).trim();
      } catch {
        return undefined;
      }
    },
    branches: () => git(bare, 'for-each-ref', '--format=%(refname:short)', 'refs/heads').split('\n').filter(Boolean).sort(),
    commitsAhead: (branch) => Number(git(bare, 'rev-list', '--count', `main..${branch}`).trim()),
    commitToMain(file, content) {
      git(seed, 'pull', '--quiet', bare, 'main');
      fs.mkdirSync(path.dirname(path.join(seed, file)), { recursive: true });
      fs.writeFileSync(path.join(seed, file), content);
      git(seed, 'add', '-A');
      git(seed, 'commit', '--quiet', '-m', `Edit ${file}`);
      git(seed, 'push', '--quiet', bare, 'main');
      return git(seed, 'rev-parse', 'HEAD').trim();
    },
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}
