import type { Iac, PullRequestInput, PullRequestRef, PullRequestState } from '../../interfaces';
import { branchName, GitWorkspace } from '../git';
import { directoryFiles, templateFor } from '../iac-templates';
import { createGitHubClient } from './client';
import { GitHubIacConfig, loadGitHubIacConfig, REPOSITORY_RE } from './config';
import { invalidInput, toIacFailure } from './failures';
import { commitMessage, prBody, prTitle, summaryFromCommit } from './messages';
import { GitHubPull, GitHubPulls } from './pulls';

/**
 * The IaC adapter for GitHub: a change template applied in a real clone, committed to a branch
 * named after the idempotency key, pushed, and proposed as a pull request.
 *
 * Idempotency, in order: (1) a pull request whose head is the step's branch already exists →
 * return it; (2) the branch exists remotely → apply the template on it, which normally finds
 * nothing left to do, so no second commit; (3) otherwise commit on the base branch and push
 * with a lease that requires the branch not to exist. A lost "created" answer or a crash
 * between push and pull request is repaired by the next attempt through (1) or (2).
 */

interface PushOutcome {
  noChange: boolean;
  summary?: string;
}

export function createGitHubIac(config: GitHubIacConfig): Iac {
  const pulls = new GitHubPulls(createGitHubClient({ apiUrl: config.apiUrl, token: config.token, timeoutMs: config.apiTimeoutMs }));
  const secrets = [config.token];

  const toRef = (repository: string, branch: string, p: GitHubPull, existing: boolean): PullRequestRef => ({
    repository,
    number: p.number,
    url: p.html_url,
    branch,
    ...(existing ? { existing: true } : {}),
  });

  async function pushChange(input: PullRequestInput, branch: string): Promise<PushOutcome> {
    const target = config.repos[input.repository];
    const template = templateFor(input.template)!;
    const ws = new GitWorkspace({ root: config.workdir, repository: input.repository, url: target.url, token: config.token, author: config.author, timeoutMs: config.gitTimeoutMs });
    return ws.withLock(async () => {
      await ws.sync(target.base);
      const remoteSha = await ws.remoteBranch(branch);
      if (remoteSha) {
        await ws.fetchBranch(branch);
        await ws.checkout(branch, `refs/remotes/origin/${branch}`);
      } else {
        await ws.checkout(branch, `refs/remotes/origin/${target.base}`);
      }
      const result = template(directoryFiles(ws.dir), input.params ?? {});
      if (result.changes.length === 0) {
        // On drw's branch, "nothing to do" means an earlier attempt already pushed the change.
        if (remoteSha) return { noChange: false, summary: summaryFromCommit(await ws.headMessage()) };
        return { noChange: true, summary: result.summary };
      }
      const sha = await ws.commit(result.changes, commitMessage(input, result.summary));
      if (!sha) return { noChange: !remoteSha, summary: result.summary };
      await ws.push(branch, remoteSha ?? '');
      return { noChange: false, summary: result.summary };
    });
  }

  function validate(input: PullRequestInput): void {
    if (!input || typeof input !== 'object') throw invalidInput('missing input');
    if (!templateFor(input.template)) throw invalidInput(`unknown template "${String(input.template)}"`);
    if (!REPOSITORY_RE.test(input.repository ?? '')) throw invalidInput(`repository must be "owner/name", got "${String(input.repository)}"`);
    if (!config.repos[input.repository]) throw invalidInput(`repository ${input.repository} is not configured in DRW_IAC_REPOS`);
    if (!input.idempotencyKey) throw invalidInput('idempotencyKey is required');
    if (!input.title?.trim()) throw invalidInput('title is required');
  }

  return {
    async openPullRequest(input) {
      try {
        validate(input);
        const { repository } = input;
        const branch = branchName(input.template, input.idempotencyKey);
        const found = await pulls.findByHead(repository, branch);
        if (found) return toRef(repository, branch, found, true);

        const pushed = await pushChange(input, branch);
        if (pushed.noChange) return { repository, number: 0, url: '', branch, noChange: true };
        // An attempt that outlived its timeout may have opened (even merged) the PR while this one
        // pushed; once closed, GitHub would accept a second PR for the same branch.
        const raced = await pulls.findByHead(repository, branch);
        if (raced) return toRef(repository, branch, raced, true);

        const created = await pulls.create(repository, { title: prTitle(input), head: branch, base: config.repos[repository].base, body: prBody(input, pushed.summary) });
        if (created.kind === 'created') return toRef(repository, branch, created.pull, false);
        if (created.kind === 'no_commits') return { repository, number: 0, url: '', branch, noChange: true };
        // "Already exists": someone (an earlier attempt whose answer was lost) was first.
        const again = await pulls.findByHead(repository, branch);
        if (!again) throw new Error(`GitHub says a pull request for ${branch} exists but does not list it`);
        return toRef(repository, branch, again, true);
      } catch (err) {
        throw toIacFailure(err, secrets);
      }
    },

    async getPullRequestState({ repository, number }): Promise<PullRequestState> {
      try {
        if (!REPOSITORY_RE.test(repository ?? '')) throw invalidInput(`repository must be "owner/name", got "${String(repository)}"`);
        if (!Number.isInteger(number) || number <= 0) throw invalidInput(`pull request number must be a positive integer, got ${String(number)}`);
        const p = await pulls.get(repository, number);
        const state = p.merged === true || !!p.merged_at ? 'merged' : p.state === 'closed' ? 'closed' : 'open';
        return { number: p.number, state };
      } catch (err) {
        throw toIacFailure(err, secrets);
      }
    },
  };
}

/** The adapter from the environment, or undefined when IaC via GitHub is not configured. */
export function createGitHubIacFromEnv(env: NodeJS.ProcessEnv = process.env): Iac | undefined {
  const config = loadGitHubIacConfig(env);
  return config ? createGitHubIac(config) : undefined;
}
