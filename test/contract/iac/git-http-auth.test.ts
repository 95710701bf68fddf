import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createGitHubIac, loadGitHubIacConfig } from '../../../activities/adapters/github';
import { startGitHubSimulator, GitHubSimulator } from '../../../simulators/github';
import { GitHttpServer, startGitHttpServer } from './helpers/git-http-server';
import { createRemote, TestRemote } from './helpers/repo';

/**
 * The token over a real smart-HTTP git remote: it authenticates clone, fetch, ls-remote and
 * push, and is never in a URL, in the clone's .git/config, anywhere in the work dir, or in an
 * error message.
 */

const REPO = 'acme/infra';
const TOKEN = 'ghs_httpAuthTestTOKEN0123456789';
let remote: TestRemote;
let sim: GitHubSimulator;
let gitServer: GitHttpServer;

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function iacWith(gitToken: string) {
  return createGitHubIac(
    loadGitHubIacConfig({
      GITHUB_API_URL: sim.url,
      GITHUB_TOKEN: gitToken,
      DRW_IAC_REPOS: JSON.stringify({ [REPO]: `${gitServer.url}/remote.git` }),
      DRW_IAC_WORKDIR: remote.workdir,
    })!,
  );
}

const input = {
  idempotencyKey: 'wf-http:step-1',
  remediationId: 'wf-http',
  template: 'sg_remove_open_ingress' as const,
  repository: REPO,
  params: { securityGroup: 'web', port: '22' },
  title: 'Remove SSH from the internet on sg web',
  body: 'SSH (22/tcp) is open to 0.0.0.0/0.',
};

beforeEach(async () => {
  remote = createRemote();
  gitServer = await startGitHttpServer(remote.root, TOKEN);
});

afterEach(async () => {
  await sim?.close();
  await gitServer.close();
  remote.cleanup();
});

it('authenticates every git request with the token in a header only, and writes it nowhere', async () => {
  sim = await startGitHubSimulator({ token: TOKEN, repos: { [REPO]: remote.bare } });
  const ref = await iacWith(TOKEN).openPullRequest(input);
  expect(ref.number).toBe(1);
  expect(remote.show(ref.branch, 'terraform/main.tf')).not.toContain('from_port   = 22');

  const expected = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
  expect(gitServer.seen.length).toBeGreaterThan(3);
  expect(gitServer.seen.some((r) => r.url.includes('git-receive-pack'))).toBe(true);
  for (const r of gitServer.seen) {
    expect(r.authorization).toBe(expected);
    expect(r.url).not.toContain(TOKEN);
  }

  const [clone] = fs.readdirSync(remote.workdir).filter((d) => !d.endsWith('.lock'));
  const config = fs.readFileSync(path.join(remote.workdir, clone, '.git', 'config'), 'utf8');
  expect(config).toContain(`url = ${gitServer.url}/remote.git`);
  expect(config).not.toMatch(/extraheader|x-access-token/i);
  const b64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
  for (const file of walk(remote.workdir)) {
    const text = fs.readFileSync(file).toString('latin1');
    expect(text.includes(TOKEN) || text.includes(b64)).toBe(false);
  }
});

it('a token git rejects is a non-retryable git.Auth failure that does not contain the token', async () => {
  const other = 'ghs_apiOnlyTOKENnotForGit9876';
  sim = await startGitHubSimulator({ token: other, repos: { [REPO]: remote.bare } });
  let failure: ApplicationFailure | undefined;
  try {
    await iacWith(other).openPullRequest(input);
  } catch (err) {
    failure = err as ApplicationFailure;
  }
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect([failure!.type, failure!.nonRetryable]).toEqual(['git.Auth', true]);
  expect(failure!.message).toMatch(/^git clone exited with 128: .*terminal prompts disabled/);
  expect(failure!.message).not.toContain(other);
  expect(failure!.message).not.toContain(Buffer.from(`x-access-token:${other}`).toString('base64'));
  expect(sim.pulls()).toHaveLength(0);
});
