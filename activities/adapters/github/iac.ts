import type { ChangePreview, Iac, PreviewChangeInput, PullRequestInput, PullRequestRef, PullRequestState } from '../../interfaces';
import { branchName, GitWorkspace } from '../git';
import { DIGEST_PATTERN } from '../../../planner/digest';
import { boundedDiff, changeDigest, directoryFiles, oneLineSummary, templateFor } from '../iac-templates';
import { createGitHubClient } from './client';
import { GitHubIacConfig, loadGitHubIacConfig, REPOSITORY_RE } from './config';
import { changeMismatch, invalidInput, toIacFailure } from './failures';
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
 *
 * previewChange runs the same template on the same base without committing, and gives the
 * change's digest; openPullRequest with that digest as `expectChange` refuses, in (3), a change
 * that is no longer the one previewed.
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

  const workspace = (repository: string) =>
    new GitWorkspace({ root: config.workdir, repository, url: config.repos[repository].url, token: config.token, author: config.author, timeoutMs: config.gitTimeoutMs });

  async function pushChange(input: PullRequestInput, branch: string): Promise<PushOutcome> {
    const target = config.repos[input.repository];
    const template = templateFor(input.template)!;
    const ws = workspace(input.repository);
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
      // On the base only: on drw's branch an earlier attempt already pushed the approved change.
      if (!remoteSha && input.expectChange !== undefined) {
        const current = changeDigest(result.changes);
        if (current !== input.expectChange) throw changeMismatch(input.repository, result.changes.map((c) => c.path).sort(), input.expectChange, current);
      }
      const sha = await ws.commit(result.changes, commitMessage(input, result.summary));
      if (!sha) return { noChange: !remoteSha, summary: result.summary };
      await ws.push(branch, remoteSha ?? '');
      return { noChange: false, summary: result.summary };
    });
  }

  async function preview(input: PreviewChangeInput): Promise<ChangePreview> {
    const { repository } = input;
    const { base } = config.repos[repository];
    const template = templateFor(input.template)!;
    const ws = workspace(repository);
    return ws.withLock(async () => {
      await ws.sync(base);
      // Detached: the next openPullRequest starts from its own forced checkout whatever is left here.
      await ws.detach(`refs/remotes/origin/${base}`);
      const baseCommit = await ws.headCommit();
      const result = template(directoryFiles(ws.dir), input.params ?? {});
      const files = result.changes.map((c) => c.path).sort();
      const summary = oneLineSummary(result.summary);
      return {
        repository,
        base,
        baseCommit,
        files,
        ...boundedDiff(await ws.diff(result.changes)),
        ...(summary ? { summary } : {}),
        digest: changeDigest(result.changes),
        ...(files.length === 0 ? { noChange: true } : {}),
      };
    });
  }

  /** What a preview and a pull request both need: a known template and a repository drw may write to. */
  function validateTarget(input: PreviewChangeInput): void {
    if (!input || typeof input !== 'object') throw invalidInput('missing input');
    if (!templateFor(input.template)) throw invalidInput(`unknown template "${String(input.template)}"`);
    if (!REPOSITORY_RE.test(input.repository ?? '')) throw invalidInput(`repository must be "owner/name", got "${String(input.repository)}"`);
    if (!config.repos[input.repository]) throw invalidInput(`repository ${input.repository} is not configured in DRW_IAC_REPOS`);
  }

  function validate(input: PullRequestInput): void {
    validateTarget(input);
    if (!input.idempotencyKey) throw invalidInput('idempotencyKey is required');
    if (!input.title?.trim()) throw invalidInput('title is required');
    if (input.expectChange !== undefined && !DIGEST_PATTERN.test(String(input.expectChange))) throw invalidInput('expectChange must be a change digest (64 lowercase hex characters)');
  }

  return {
    async previewChange(input) {
      try {
        validateTarget(input);
        return await preview(input);
      } catch (err) {
        throw toIacFailure(err, secrets);
      }
    },

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
