import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gitAuth, GitAuth } from './auth';
import { GitError, runGit } from './exec';
import { withWorkdirLock } from './lock';

/**
 * A cached clone of one remote repository under the work dir, and the few git operations the
 * IaC adapter needs on it. The cache is disposable: every operation starts from a forced
 * checkout of a fetched remote ref, so whatever a crashed attempt left behind is discarded.
 */

export interface GitIdentity {
  name: string;
  email: string;
}

export interface GitWorkspaceOptions {
  /** Root of the clone cache (DRW_IAC_WORKDIR). */
  root: string;
  /** A label for the cache folder name, e.g. "owner/name". */
  repository: string;
  /** Clone URL: https, ssh, file:// or a local path; never with credentials in it. */
  url: string;
  token?: string;
  author: GitIdentity;
  timeoutMs?: number;
}

/** Only branches under this prefix are ever pushed: drw never writes to anyone else's branch. */
export const BRANCH_PREFIX = 'drw/';

// Hooks come from the worker's global config at most (a clone has none), but none should run.
const NO_HOOKS = ['-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgsign=false'];

export class GitWorkspace {
  readonly dir: string;
  private readonly auth: GitAuth;

  constructor(private readonly opts: GitWorkspaceOptions) {
    const slug = opts.repository.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
    // The URL is part of the name so a re-mapped repository never reuses another remote's clone.
    const urlHash = createHash('sha256').update(opts.url).digest('hex').slice(0, 10);
    this.dir = path.join(opts.root, `${slug}-${urlHash}`);
    this.auth = gitAuth(opts.url, opts.token);
  }

  /** Runs `fn` holding this clone's lock (one operation per clone, across processes too). */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withWorkdirLock(this.dir, fn);
  }

  private async git(args: string[], o: { remote?: boolean; cwd?: string; okExitCodes?: number[]; env?: Record<string, string> } = {}) {
    return runGit([...NO_HOOKS, ...args], {
      cwd: o.cwd ?? this.dir,
      env: { ...(o.remote ? this.auth.env : {}), ...o.env },
      secrets: this.auth.secrets,
      timeoutMs: this.opts.timeoutMs,
      okExitCodes: o.okExitCodes,
    });
  }

  /** Makes sure the clone exists and `origin/<base>` is current. */
  async sync(base: string): Promise<void> {
    await fs.mkdir(this.opts.root, { recursive: true });
    if (!(await this.isUsableClone())) await this.freshClone(base);
    // A killed git can leave its lock behind; we hold the workspace lock, so it is stale.
    await fs.rm(path.join(this.dir, '.git', 'index.lock'), { force: true });
    await this.git(['fetch', '--no-tags', '--prune', 'origin', `+refs/heads/${base}:refs/remotes/origin/${base}`], { remote: true });
  }

  private async isUsableClone(): Promise<boolean> {
    try {
      await fs.access(path.join(this.dir, '.git', 'HEAD'));
      await this.git(['rev-parse', '--git-dir']);
      return true;
    } catch {
      return false;
    }
  }

  private async freshClone(base: string): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
    // Clone next to the final place and rename, so a half-done clone is never mistaken for a cache.
    const tmp = `${this.dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await this.git(['clone', '--quiet', '--no-tags', '--single-branch', '--branch', base, '--', this.opts.url, tmp], { remote: true, cwd: this.opts.root });
      await fs.rename(tmp, this.dir);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  /** The commit a remote branch points at, or undefined when it does not exist. */
  async remoteBranch(branch: string): Promise<string | undefined> {
    const { stdout } = await this.git(['ls-remote', '--heads', 'origin', `refs/heads/${branch}`], { remote: true });
    const line = stdout.split('\n').find((l) => l.endsWith(`\trefs/heads/${branch}`));
    return line?.split('\t')[0];
  }

  async fetchBranch(branch: string): Promise<void> {
    await this.git(['fetch', '--no-tags', 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`], { remote: true });
  }

  /** Checks out `branch` at `startPoint`, discarding any local state. */
  async checkout(branch: string, startPoint: string): Promise<void> {
    await this.git(['checkout', '--quiet', '--force', '-B', branch, startPoint]);
    await this.git(['clean', '-ffdxq']);
  }

  /** The full message of the checked-out commit. */
  async headMessage(): Promise<string> {
    return (await this.git(['log', '-1', '--format=%B'])).stdout;
  }

  /** Checks out `startPoint` without a branch (nothing will be committed), discarding any local state. */
  async detach(startPoint: string): Promise<void> {
    await this.git(['checkout', '--quiet', '--force', '--detach', startPoint]);
    await this.git(['clean', '-ffdxq']);
  }

  /** The checked-out commit. */
  async headCommit(): Promise<string> {
    return (await this.git(['rev-parse', 'HEAD'])).stdout.trim();
  }

  private async write(changes: { path: string; content: string }[]): Promise<void> {
    const root = path.resolve(this.dir);
    for (const c of changes) {
      const full = path.resolve(root, c.path);
      if (!full.startsWith(root + path.sep) || c.path.split(/[\\/]/).includes('.git')) {
        throw new GitError(`refusing to write outside the work tree: ${c.path}`, 'other', null, '');
      }
      await fs.mkdir(path.dirname(full), { recursive: true });
      await fs.writeFile(full, c.content, 'utf8');
    }
    await this.git(['add', '--', ...changes.map((c) => c.path)]);
  }

  /**
   * The unified diff the changes make to the checked-out commit, as git would commit them (new
   * files included), leaving the work tree and index as they were: nothing is committed.
   */
  async diff(changes: { path: string; content: string }[]): Promise<string> {
    if (changes.length === 0) return '';
    try {
      await this.write(changes);
      // Fixed options, so a worker's global git config (color, prefixes, external tools) cannot change the text.
      const opts = ['--no-color', '--no-ext-diff', '--no-textconv', '--no-renames', '--src-prefix=a/', '--dst-prefix=b/'];
      return (await this.git(['diff', '--cached', ...opts, '--'])).stdout;
    } finally {
      await this.git(['reset', '--quiet', '--hard', 'HEAD']);
      await this.git(['clean', '-ffdxq']);
    }
  }

  /** Writes the files, commits them with drw's identity; undefined when git sees no difference. */
  async commit(changes: { path: string; content: string }[], message: string): Promise<string | undefined> {
    await this.write(changes);
    const diff = await this.git(['diff', '--cached', '--quiet'], { okExitCodes: [1] });
    if (diff.exitCode === 0) return undefined;
    const { name, email } = this.opts.author;
    const identity = { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email };
    await this.git(['commit', '--quiet', '--no-verify', '-m', message], { env: identity });
    return this.headCommit();
  }

  /**
   * Pushes HEAD to drw's own branch with a lease: the remote branch must still be at
   * `expected` (empty string: must not exist yet), so a concurrent writer is never overwritten.
   */
  async push(branch: string, expected: string): Promise<void> {
    if (!branch.startsWith(BRANCH_PREFIX)) throw new GitError(`refusing to push to ${branch}: not a drw branch`, 'other', null, '');
    await this.git(['push', '--quiet', '--no-verify', `--force-with-lease=refs/heads/${branch}:${expected}`, 'origin', `HEAD:refs/heads/${branch}`], { remote: true });
  }
}
