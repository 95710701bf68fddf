import fs from 'node:fs';
import path from 'node:path';
import type { Iac } from '../../../activities/interfaces';
import { branchName } from '../../../activities/adapters/git';
import { directoryFiles, TEMPLATES } from '../../../activities/adapters/iac-templates';
import { GitHubSimulator, startGitHubSimulator } from '../../../simulators/github';
import { failureOf as failure, githubIac, prInput as input, REPO } from './helpers/github-iac';
import { createRemote, FIXTURE_REPO, git, TestRemote } from './helpers/repo';

/**
 * The adapter against real git repositories (a bare repo in a temp folder as the remote) and
 * the GitHub simulator: what lands on the branch, how many commits and pull requests a retry
 * makes, and how failures are classified.
 */

let remote: TestRemote;
let sim: GitHubSimulator;
let iac: Iac;

const adapter = (overrides: Record<string, string> = {}): Iac => githubIac(remote, sim, overrides);
const posts = () => sim.server.served((r) => r.method === 'POST').length;

/** What the template produces on the fixture, to compare with what lands on the branch. */
function expected(template: keyof typeof TEMPLATES, params: Record<string, string>, file: string): string {
  const c = TEMPLATES[template](directoryFiles(FIXTURE_REPO), params).changes.find((x) => x.path === file);
  if (!c) throw new Error(`template does not change ${file}`);
  return c.content;
}

beforeEach(async () => {
  remote = createRemote();
  sim = await startGitHubSimulator({ repos: { [REPO]: remote.bare } });
  iac = adapter();
});

afterEach(async () => {
  await sim.close();
  remote.cleanup();
});

describe('openPullRequest', () => {
  it.each([
    ['s3_block_public_access', { bucket: 'acme-prod-logs' }, ['terraform/main.tf']],
    ['sg_remove_open_ingress', { securityGroup: 'web-public' }, ['terraform/main.tf', 'terraform/rules.tf']],
    ['bump_package', { package: 'lodash', fixedVersion: '4.17.21' }, ['app/package.json']],
  ] as const)('%s: one commit on a drw branch with the change, and one pull request', async (template, params, files) => {
    const ref = await iac.openPullRequest(input({ template, params: { ...params } }));
    const branch = branchName(template, 'remediation-42:step-open-pr');
    expect(ref).toEqual({ repository: REPO, number: 1, url: `https://github.sim/${REPO}/pull/1`, branch });
    expect(branch).toMatch(new RegExp(`^drw/${template}/[0-9a-f]{12}$`));

    expect(remote.branches()).toEqual(['main', branch].sort());
    expect(remote.commitsAhead(branch)).toBe(1);
    for (const f of files) expect(remote.show(branch, f)).toBe(expected(template, { ...params }, f));
    expect(git(remote.bare, 'diff', '--name-only', `main..${branch}`).trim().split('\n').sort()).toEqual([...files].sort());
    expect(git(remote.bare, 'log', '-1', '--format=%an <%ae>|%cn <%ce>', branch).trim()).toBe('drw bot <drw@example.com>|drw bot <drw@example.com>');
    const message = git(remote.bare, 'log', '-1', '--format=%B', branch);
    expect(message).toMatch(/^Block public access to S3 bucket acme-prod-logs\n\n/);
    expect(message).toMatch(/\nDrw-Remediation: remediation-42\nDrw-Idempotency-Key: remediation-42:step-open-pr\n/);

    const pulls = sim.pulls(REPO);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ head: { ref: branch, sha: remote.head(branch) }, base: { ref: 'main' }, state: 'open' });
    expect(pulls[0].body).toContain('Finding: **acme-prod-logs** is publicly readable.');
    expect(pulls[0].body).toContain('### Change');
    expect(pulls[0].body).toContain('_Opened by drw for remediation `remediation-42`._');
    expect(pulls[0].body).toContain('<!-- drw:idempotency-key=remediation-42:step-open-pr -->');

    const req = sim.server.served((r) => r.method === 'POST')[0];
    expect(req.headers.authorization).toBe(`Bearer ${sim.token}`);
    expect(req.headers.accept).toBe('application/vnd.github+json');
    expect(req.headers['x-github-api-version']).toBe('2022-11-28');
    expect(req.body).toMatchObject({ title: input().title, head: branch, base: 'main' });
  });

  it('a retry with the same key returns the same pull request: no second commit, no second PR', async () => {
    const first = await iac.openPullRequest(input());
    const sha = remote.head(first.branch);
    const again = await adapter().openPullRequest(input());
    expect(again).toEqual({ ...first, existing: true });
    expect(remote.head(first.branch)).toBe(sha);
    expect(sim.pulls(REPO)).toHaveLength(1);
    expect(posts()).toBe(1);
  });

  it('a lost "created" answer, then a retry: exactly one pull request', async () => {
    sim.loseNextCreateAnswer({ status: 502 });
    const f = await failure(iac.openPullRequest(input()));
    expect(f.nonRetryable).toBe(false);
    expect(f.type).toBe('github.ServerError');
    expect(sim.pulls(REPO)).toHaveLength(1);

    const ref = await iac.openPullRequest(input());
    expect(ref).toMatchObject({ number: 1, existing: true });
    expect(sim.pulls(REPO)).toHaveLength(1);
    expect(remote.commitsAhead(ref.branch)).toBe(1);
  });

  it('a lost answer by timeout, then a retry: exactly one pull request', async () => {
    sim.loseNextCreateAnswer({ hangMs: 5000 });
    const f = await failure(iac.openPullRequest(input()));
    expect(f.type).toBe('github.Unavailable');
    expect(f.nonRetryable).toBe(false);
    const ref = await iac.openPullRequest(input());
    expect(ref).toMatchObject({ number: 1, existing: true });
    expect(sim.pulls(REPO)).toHaveLength(1);
  });

  it('pushed but no PR (creation failed): the retry reuses the branch and rebuilds the body', async () => {
    sim.server.setFaults({ queue: [{ kind: 'status', status: 500 }], match: /^POST / });
    await failure(iac.openPullRequest(input()));
    const branch = branchName('s3_block_public_access', input().idempotencyKey);
    const sha = remote.head(branch);
    expect(sha).toBeDefined();
    expect(sim.pulls(REPO)).toHaveLength(0);

    // Meanwhile main moves on: the retry must not rebase or add a commit.
    remote.commitToMain('README.md', '# infra\n');
    const ref = await iac.openPullRequest(input());
    expect(ref).toMatchObject({ number: 1, branch });
    expect(ref.existing).toBeUndefined();
    expect(remote.head(branch)).toBe(sha);
    expect(sim.pulls(REPO)[0].body).toContain('added `aws_s3_bucket_public_access_block.logs`');
  });

  it('a GitHub 422 "already exists" on create means reuse', async () => {
    const first = await iac.openPullRequest(input());
    // Hide the PR from both searches before the create, as a replica lagging behind would.
    const hidden = { kind: 'status' as const, status: 200, body: [] };
    sim.server.setFaults({ queue: [hidden, hidden], match: /^GET \/repos\/acme\/infra\/pulls$/ });
    const ref = await iac.openPullRequest(input());
    expect(ref).toMatchObject({ number: first.number, existing: true });
    expect(sim.pulls(REPO)).toHaveLength(1);
    // The second POST got GitHub's 422, which the adapter read as "reuse".
    expect(posts()).toBe(2);
  });

  it('a PR an earlier attempt opened and that was merged while this attempt pushed is reused, not opened again', async () => {
    const first = await iac.openPullRequest(input());
    sim.markMerged(REPO, first.number);
    // The first search misses it (the earlier attempt had not created it yet); once closed,
    // GitHub would accept a second PR for the branch, so only the search after the push saves us.
    sim.server.setFaults({ queue: [{ kind: 'status', status: 200, body: [] }], match: /^GET \/repos\/acme\/infra\/pulls$/ });
    const ref = await iac.openPullRequest(input());
    expect(ref).toMatchObject({ number: first.number, existing: true });
    expect(sim.pulls(REPO)).toHaveLength(1);
    expect(posts()).toBe(1);
  });

  it('noChange when the code is already fixed: no branch, no pull request', async () => {
    const ref = await iac.openPullRequest(input({ params: { bucket: 'private' }, idempotencyKey: 'r-7:step' }));
    expect(ref).toMatchObject({ repository: REPO, number: 0, url: '', noChange: true });
    expect(remote.branches()).toEqual(['main']);
    expect(posts()).toBe(0);
  });

  it('after the fix is merged into main, a new detection finds nothing to change', async () => {
    const first = await iac.openPullRequest(input());
    git(remote.bare, 'update-ref', 'refs/heads/main', remote.head(first.branch)!);
    const ref = await iac.openPullRequest(input({ idempotencyKey: 'remediation-43:step-open-pr' }));
    expect(ref.noChange).toBe(true);
  });

  it('different steps get different branches and pull requests, sharing one clone', async () => {
    const a = await iac.openPullRequest(input());
    const b = await iac.openPullRequest(input({ idempotencyKey: 'r-9:step', template: 'bump_package', params: { package: 'minimist', fixedVersion: '1.2.8' } }));
    expect(a.branch).not.toBe(b.branch);
    expect([a.number, b.number]).toEqual([1, 2]);
    expect(remote.show(b.branch, 'app/package.json')).toContain('"minimist": "~1.2.8"');
    // Each branch holds only its own change.
    expect(remote.show(b.branch, 'terraform/main.tf')).toBe(remote.show('main', 'terraform/main.tf'));
    expect(fs.readdirSync(remote.workdir).filter((d) => !d.endsWith('.lock'))).toHaveLength(1);
  });

  it('runs concurrent calls for one repository one at a time on the shared clone', async () => {
    const keys = ['c-1:s', 'c-2:s', 'c-3:s'];
    const refs = await Promise.all(keys.map((k) => iac.openPullRequest(input({ idempotencyKey: k }))));
    expect(new Set(refs.map((r) => r.number)).size).toBe(3);
    for (const r of refs) expect(remote.commitsAhead(r.branch)).toBe(1);
  });

  it('recovers from a broken clone cache', async () => {
    await iac.openPullRequest(input());
    const [dir] = fs.readdirSync(remote.workdir);
    fs.rmSync(path.join(remote.workdir, dir, '.git', 'objects'), { recursive: true, force: true });
    fs.writeFileSync(path.join(remote.workdir, dir, 'terraform', 'main.tf'), 'garbage');
    const ref = await iac.openPullRequest(input({ idempotencyKey: 'r-10:step', params: { bucket: 'assets' } }));
    expect(remote.show(ref.branch, 'terraform/storage.tf')).toContain('restrict_public_buckets = true');
  });
});

describe('failure classification', () => {
  it('401 Bad credentials: non-retryable, and the token is nowhere in the message', async () => {
    const bad = adapter({ GITHUB_TOKEN: 'ghp_wrongTOKEN123456' });
    const f = await failure(bad.openPullRequest(input()));
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe('github.ClientError');
    expect(f.message).toMatch(/401: Bad credentials/);
    expect(f.message).not.toContain('ghp_wrongTOKEN123456');
  });

  it('403 with x-ratelimit-remaining 0: retryable, delayed until the reset', async () => {
    sim.rateLimitNext(1, { kind: 'primary', status: 403, resetInSeconds: 30 });
    const f = await failure(iac.openPullRequest(input()));
    expect(f.nonRetryable).toBe(false);
    expect(f.type).toBe('github.RateLimited');
    expect(f.message).toMatch(/403: API rate limit exceeded/);
    expect(Number(f.nextRetryDelay)).toBeGreaterThanOrEqual(25_000);
    expect(Number(f.nextRetryDelay)).toBeLessThanOrEqual(32_000);
  });

  it('403 secondary rate limit with retry-after, and 429: retryable with that delay', async () => {
    sim.rateLimitNext(1, { kind: 'secondary', status: 403, retryAfterSeconds: 42 });
    const f = await failure(iac.openPullRequest(input()));
    expect([f.type, f.nonRetryable, Number(f.nextRetryDelay)]).toEqual(['github.RateLimited', false, 42_000]);
    sim.rateLimitNext(1, { kind: 'primary', status: 429, resetInSeconds: 10 });
    const g = await failure(iac.openPullRequest(input()));
    expect(g.type).toBe('github.RateLimited');
    expect(Number(g.nextRetryDelay)).toBeGreaterThan(5_000);
  });

  it('a plain 403 (no rate limit) stays a non-retryable client error', async () => {
    sim.server.setFaults({ queue: [{ kind: 'status', status: 403, body: { message: 'Resource not accessible by integration' } }] });
    const f = await failure(iac.openPullRequest(input()));
    expect([f.type, f.nonRetryable]).toEqual(['github.ClientError', true]);
    expect(f.message).toMatch(/Resource not accessible by integration/);
  });

  it('5xx and timeouts: retryable', async () => {
    sim.server.setFaults({ queue: [{ kind: 'status', status: 503 }] });
    const f = await failure(iac.openPullRequest(input()));
    expect([f.type, f.nonRetryable]).toEqual(['github.ServerError', false]);
    sim.server.setFaults({ queue: [{ kind: 'hang', ms: 4000 }] });
    const g = await failure(iac.openPullRequest(input()));
    expect([g.type, g.nonRetryable]).toEqual(['github.Unavailable', false]);
  });

  it('template, input and repository problems are non-retryable', async () => {
    const a = await failure(iac.openPullRequest(input({ params: { bucket: 'unknown-bucket' } })));
    expect([a.type, a.nonRetryable]).toEqual(['iac.Template.not_found', true]);
    const b = await failure(iac.openPullRequest(input({ repository: 'acme/other' })));
    expect([b.type, b.nonRetryable]).toEqual(['iac.InvalidInput', true]);
    expect(b.message).toMatch(/not configured in DRW_IAC_REPOS/);
    const c = await failure(iac.openPullRequest(input({ template: 'rm_rf' as never })));
    expect(c.type).toBe('iac.InvalidInput');
    const d = await failure(iac.openPullRequest(input({ template: 'bump_package', params: { package: 'requests', fixedVersion: '3.1.0' } })));
    expect([d.type, d.nonRetryable]).toEqual(['iac.Template.refused', true]);
    expect(d.message).toMatch(/"<3" excludes the fixed version 3\.1\.0/);
    expect(remote.branches()).toEqual(['main']);
  });

  it('a missing base branch or repository is a non-retryable git failure', async () => {
    const noBase = adapter({ DRW_IAC_BASE_BRANCH: 'develop' });
    const f = await failure(noBase.openPullRequest(input()));
    expect([f.type, f.nonRetryable]).toEqual(['git.NotFound', true]);
    const noRepo = adapter({ DRW_IAC_REPOS: JSON.stringify({ [REPO]: path.join(remote.root, 'missing.git') }) });
    const g = await failure(noRepo.openPullRequest(input()));
    expect([g.type, g.nonRetryable]).toEqual(['git.NotFound', true]);
  });
});

describe('getPullRequestState', () => {
  it('follows a pull request from open to merged or closed', async () => {
    const a = await iac.openPullRequest(input());
    const b = await iac.openPullRequest(input({ idempotencyKey: 'r-2:s', template: 'bump_package', params: { package: 'lodash', fixedVersion: '4.17.21' } }));
    expect(await iac.getPullRequestState({ repository: REPO, number: a.number })).toEqual({ number: a.number, state: 'open' });
    sim.markMerged(REPO, a.number);
    sim.closePull(REPO, b.number);
    expect(await iac.getPullRequestState({ repository: REPO, number: a.number })).toEqual({ number: a.number, state: 'merged' });
    expect(await iac.getPullRequestState({ repository: REPO, number: b.number })).toEqual({ number: b.number, state: 'closed' });
    // A merged PR is still found by a retry of the step that opened it.
    expect(await iac.openPullRequest(input())).toMatchObject({ number: a.number, existing: true });
  });

  it('404 is non-retryable; bad input is refused before any call', async () => {
    const f = await failure(iac.getPullRequestState({ repository: REPO, number: 99 }));
    expect([f.type, f.nonRetryable]).toEqual(['github.ClientError', true]);
    const g = await failure(iac.getPullRequestState({ repository: 'no-slash', number: 1 }));
    expect(g.type).toBe('iac.InvalidInput');
  });
});
