import fs from 'node:fs';
import path from 'node:path';
import { boundedDiff, changeDigest, directoryFiles, TEMPLATES } from '../../../activities/adapters/iac-templates';
import { createInProcessSystems } from '../../../activities/inprocess';
import type { Iac } from '../../../activities/interfaces';
import { GitHubSimulator, startGitHubSimulator } from '../../../simulators/github';
import { failureOf, githubIac, prInput, REPO } from './helpers/github-iac';
import { createRemote, FIXTURE_REPO, git, TestRemote } from './helpers/repo';

/**
 * The change an approver sees before approving a pull request step, from a real clone of a real
 * remote, and the pull request that must then carry exactly that change (its digest) or nothing.
 */

let remote: TestRemote;
let sim: GitHubSimulator;
let iac: Iac;

const S3 = { template: 's3_block_public_access', repository: REPO, params: { bucket: 'acme-prod-logs' } } as const;
const posts = () => sim.server.served((r) => r.method === 'POST').length;

/** The cached clone (the only folder in the work dir besides lock leftovers). */
function clone(): string {
  const dirs = fs.readdirSync(remote.workdir).filter((d) => !d.includes('.lock'));
  expect(dirs).toHaveLength(1);
  return path.join(remote.workdir, dirs[0]);
}

/** What git shows between main and a pushed branch, with the preview's diff options. */
function pushedDiff(branch: string): string {
  return git(remote.bare, 'diff', '--no-color', '--no-renames', 'main', branch, '--');
}

/** The digest of what a pushed branch changes: each changed path and its content there. */
function pushedDigest(branch: string): string {
  const files = git(remote.bare, 'diff', '--name-only', 'main', branch).trim().split('\n');
  return changeDigest(files.map((p) => ({ path: p, content: remote.show(branch, p) })));
}

/** 400 standalone rules opening a port to the internet: their removal is a diff far over 16 KiB. */
function manyOpenRules(): string {
  const rules = Array.from({ length: 400 }, (_, i) =>
    [
      `resource "aws_security_group_rule" "web_open_${i}" {`,
      '  type              = "ingress"',
      `  from_port         = ${10000 + i}`,
      `  to_port           = ${10000 + i}`,
      '  protocol          = "tcp"',
      '  cidr_blocks       = ["0.0.0.0/0"]',
      '  security_group_id = aws_security_group.web.id',
      '}',
    ].join('\n'),
  );
  return `${fs.readFileSync(path.join(FIXTURE_REPO, 'terraform/rules.tf'), 'utf8')}\n${rules.join('\n\n')}\n`;
}

beforeEach(async () => {
  remote = createRemote();
  sim = await startGitHubSimulator({ repos: { [REPO]: remote.bare } });
  iac = githubIac(remote, sim);
});

afterEach(async () => {
  await sim.close();
  remote.cleanup();
});

describe('previewChange on GitHub', () => {
  it('an approver previews the S3 fix: the file, its diff and the base commit; a second preview has the same digest; nothing is pushed', async () => {
    const first = await iac.previewChange(S3);
    const expected = TEMPLATES.s3_block_public_access(directoryFiles(FIXTURE_REPO), { ...S3.params }).changes;

    expect(first).toMatchObject({ repository: REPO, base: 'main', baseCommit: remote.head('main'), files: ['terraform/main.tf'] });
    expect(first.summary).toBe('Block all public access to S3 bucket `aws_s3_bucket.logs`');
    expect(first.diff).toMatch(/^diff --git a\/terraform\/main\.tf b\/terraform\/main\.tf\n/);
    expect(first.diff).toContain('\n+resource "aws_s3_bucket_public_access_block" "logs" {\n+  bucket = aws_s3_bucket.logs.id\n');
    expect(first.digest).toBe(changeDigest(expected));
    expect([first.truncated, first.noChange]).toEqual([undefined, undefined]);

    expect(await iac.previewChange(S3)).toEqual(first);
    expect(remote.branches()).toEqual(['main']);
    expect(posts()).toBe(0);
    expect(git(clone(), 'status', '--porcelain', '--untracked-files=all')).toBe('');
  });

  it('the approver approves the previewed change: the pull request that follows carries exactly it', async () => {
    const preview = await iac.previewChange(S3);
    const ref = await iac.openPullRequest(prInput({ expectChange: preview.digest }));

    expect(ref).toMatchObject({ repository: REPO, number: 1, branch: expect.stringMatching(/^drw\/s3_block_public_access\//) });
    expect(pushedDigest(ref.branch)).toBe(preview.digest);
    expect(pushedDiff(ref.branch)).toBe(preview.diff);
    expect(sim.pulls(REPO)).toHaveLength(1);
  });

  it('someone changes the file on main after the approval: the pull request is refused as ChangeMismatch and nothing is pushed', async () => {
    const preview = await iac.previewChange(S3);
    remote.commitToMain('terraform/main.tf', `${remote.show('main', 'terraform/main.tf')}\n# Reviewed by the platform team.\n`);

    const f = await failureOf(iac.openPullRequest(prInput({ expectChange: preview.digest })));
    expect([f.type, f.nonRetryable]).toEqual(['ChangeMismatch', true]);
    expect(f.message).toBe('the change to acme/infra is no longer the one approved (terraform/main.tf): the base moved; nothing was pushed');
    expect(remote.branches()).toEqual(['main']);
    expect(sim.pulls(REPO)).toHaveLength(0);
    expect(posts()).toBe(0);

    // A new preview shows the change as it now is, and that one can be approved.
    const again = await iac.previewChange(S3);
    expect(again.digest).not.toBe(preview.digest);
    expect(again.baseCommit).toBe(remote.head('main'));
    expect((await iac.openPullRequest(prInput({ expectChange: again.digest }))).number).toBe(1);
  });

  it('main moves on in another file after the approval: the change is still the approved one and the pull request opens', async () => {
    const preview = await iac.previewChange(S3);
    remote.commitToMain('README.md', '# infra\n');
    const ref = await iac.openPullRequest(prInput({ expectChange: preview.digest }));
    expect(ref.number).toBe(1);
    expect(pushedDigest(ref.branch)).toBe(preview.digest);
  });

  it('a retry after the approved change was pushed reuses the branch even though main moved since', async () => {
    const preview = await iac.previewChange(S3);
    sim.server.setFaults({ queue: [{ kind: 'status', status: 500 }], match: /^POST / });
    await failureOf(iac.openPullRequest(prInput({ expectChange: preview.digest })));
    remote.commitToMain('terraform/main.tf', `${remote.show('main', 'terraform/main.tf')}\n# edited\n`);

    const ref = await iac.openPullRequest(prInput({ expectChange: preview.digest }));
    expect(ref.number).toBe(1);
    expect(remote.show(ref.branch, 'terraform/main.tf')).not.toContain('# edited');
    expect(pushedDigest(ref.branch)).toBe(preview.digest);
  });

  it('previewing a bucket the code already protects: noChange, no file, no diff', async () => {
    const p = await iac.previewChange({ ...S3, params: { bucket: 'private' } });
    expect(p).toMatchObject({ files: [], diff: '', noChange: true, digest: changeDigest([]) });
    expect(p.summary).toMatch(/already fully blocked/);
  });

  it('previewing a repository that is not in DRW_IAC_REPOS fails at once, non-retryably, and clones nothing', async () => {
    const f = await failureOf(iac.previewChange({ ...S3, repository: 'acme/payments' }));
    expect([f.type, f.nonRetryable]).toEqual(['iac.InvalidInput', true]);
    expect(f.message).toBe('iac: repository acme/payments is not configured in DRW_IAC_REPOS');
    expect(fs.existsSync(remote.workdir)).toBe(false);
  });

  it('a template problem in a preview is the same non-retryable failure the pull request would get', async () => {
    const f = await failureOf(iac.previewChange({ ...S3, params: { bucket: 'unknown-bucket' } }));
    expect([f.type, f.nonRetryable]).toEqual(['iac.Template.not_found', true]);
    expect(git(clone(), 'status', '--porcelain', '--untracked-files=all')).toBe('');
  });

  it('a change whose diff is over 16 KiB: the preview is cut at a line and marked truncated, and its digest covers the whole change', async () => {
    remote.commitToMain('terraform/rules.tf', manyOpenRules());
    const sg = { template: 'sg_remove_open_ingress', repository: REPO, params: { securityGroup: 'web-public' } } as const;
    const preview = await iac.previewChange(sg);
    expect(preview.truncated).toBe(true);
    expect(Buffer.byteLength(preview.diff)).toBeLessThanOrEqual(16 * 1024);
    expect(Buffer.byteLength(preview.diff)).toBeGreaterThan(15 * 1024);
    expect(preview.diff.endsWith('\n')).toBe(true);

    const ref = await iac.openPullRequest(prInput({ ...sg, title: 'Remove open ingress from web-public', expectChange: preview.digest }));
    const full = pushedDiff(ref.branch);
    expect(Buffer.byteLength(full)).toBeGreaterThan(64 * 1024);
    expect(full.startsWith(preview.diff)).toBe(true);
    expect(pushedDigest(ref.branch)).toBe(preview.digest);
    expect(preview.files).toEqual(['terraform/main.tf', 'terraform/rules.tf']);
  });

  it('an expectChange that is not a digest is refused before anything is cloned', async () => {
    const f = await failureOf(iac.openPullRequest(prInput({ expectChange: 'abc' })));
    expect([f.type, f.nonRetryable]).toEqual(['iac.InvalidInput', true]);
    expect(f.message).toMatch(/expectChange must be a change digest/);
    expect(fs.existsSync(remote.workdir)).toBe(false);
  });
});

describe('change digest and bounded diff', () => {
  it('the digest depends on each path and its content, not on the order a template lists them', () => {
    const a = { path: 'a.tf', content: 'x' };
    const b = { path: 'b.tf', content: 'y' };
    expect(changeDigest([a, b])).toBe(changeDigest([b, a]));
    expect(changeDigest([a, b])).not.toBe(changeDigest([{ ...a, content: 'y' }, { ...b, content: 'x' }]));
    expect(changeDigest([{ path: 'a', content: 'b/c' }])).not.toBe(changeDigest([{ path: 'a/b', content: 'c' }]));
  });

  it('a cut never splits a character, even in a diff with no line break', () => {
    const r = boundedDiff('é'.repeat(20), 11);
    expect(r).toEqual({ diff: 'é'.repeat(5), truncated: true });
  });
});

describe('previewChange in process (no repository)', () => {
  it('says plainly that no file is changed, and binds the approval to the template and its parameters', async () => {
    const { iac: local } = createInProcessSystems();
    const p = await local.previewChange(S3);
    expect(p).toEqual({
      repository: REPO,
      base: 'inprocess',
      baseCommit: 'inprocess',
      files: [],
      diff: '',
      summary: 'in-process IaC (no repository): template s3_block_public_access with bucket=acme-prod-logs for acme/infra; no file is read or changed, the pull request is simulated',
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect((await local.previewChange({ ...S3, params: { bucket: 'other' } })).digest).not.toBe(p.digest);

    const f = await failureOf(local.openPullRequest(prInput({ params: { bucket: 'other' }, expectChange: p.digest })));
    expect([f.type, f.nonRetryable]).toEqual(['ChangeMismatch', true]);
    expect((await local.openPullRequest(prInput({ expectChange: p.digest }))).number).toBe(1);
  });
});
