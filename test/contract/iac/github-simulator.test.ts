import axios, { AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { createGitHubClient, GitHubPulls } from '../../../activities/adapters/github';
import { GitHubSimulator, startGitHubSimulator } from '../../../simulators/github';
import { createRemote, git, TestRemote } from './helpers/repo';

/** The simulator's GitHub behaviours, and the pulls client against them. */

let sim: GitHubSimulator;
let raw: AxiosInstance;
let remote: TestRemote;

beforeAll(() => {
  remote = createRemote();
  for (let i = 1; i <= 5; i++) {
    git(remote.bare, 'branch', `drw/t/${i}`, 'main');
  }
});
afterAll(() => remote.cleanup());

beforeEach(async () => {
  sim = await startGitHubSimulator({ token: 't0ken', repos: { 'acme/infra': remote.bare } });
  raw = axios.create({ baseURL: sim.url, headers: { Authorization: 'Bearer t0ken' }, validateStatus: () => true });
});
afterEach(() => sim.close());

const create = (head: string, base = 'main') => raw.post('/repos/acme/infra/pulls', { title: `PR ${head}`, head, base, body: 'b' });

describe('GitHub simulator', () => {
  it('checks the bearer token like GitHub', async () => {
    const res = await axios.get(`${sim.url}/repos/acme/infra/pulls`, { headers: { Authorization: 'Bearer nope' }, validateStatus: () => true });
    expect(res.status).toBe(401);
    expect(res.data).toMatchObject({ message: 'Bad credentials' });
    expect((await axios.get(`${sim.url}/repos/acme/infra/pulls`, { validateStatus: () => true })).status).toBe(401);
    expect((await raw.get('/repos/acme/infra/pulls', { headers: { Authorization: 'token t0ken' } })).status).toBe(200);
  });

  it('validates heads against the bare repository and refuses duplicates and empty diffs', async () => {
    // The drw/t/* branches have no commits of their own yet.
    expect((await create('drw/t/1')).data.errors[0].message).toBe('No commits between main and drw/t/1');
    const commit = git(remote.bare, 'commit-tree', 'main^{tree}', '-p', 'main', '-m', 'one commit ahead').trim();
    git(remote.bare, 'update-ref', 'refs/heads/other-root', commit);
    const created = await create('acme:other-root');
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ number: 1, state: 'open', merged: false, head: { ref: 'other-root' }, base: { ref: 'main' } });
    const dup = await create('other-root');
    expect(dup.status).toBe(422);
    expect(dup.data).toEqual({
      message: 'Validation Failed',
      errors: [{ resource: 'PullRequest', code: 'custom', message: 'A pull request already exists for acme:other-root.' }],
      documentation_url: expect.any(String),
      status: '422',
    });
    expect((await create('no-such-branch')).data.errors[0]).toEqual({ resource: 'PullRequest', field: 'head', code: 'invalid' });
    expect((await raw.post('/repos/acme/infra/pulls', { head: 'x' })).data.errors.map((e: { field: string }) => e.field)).toEqual(['title', 'base']);
  });

  it('lists with state/head filters and paginates with a Link header', async () => {
    const s = await startGitHubSimulator({ token: 't0ken' });
    try {
      const r = axios.create({ baseURL: s.url, headers: { Authorization: 'Bearer t0ken' } });
      for (let i = 1; i <= 5; i++) await r.post('/repos/acme/infra/pulls', { title: `t${i}`, head: `drw/t/${i}`, base: 'main' });
      s.markMerged('acme/infra', 2);
      const page1 = await r.get('/repos/acme/infra/pulls', { params: { state: 'all', per_page: 2 } });
      expect(page1.data.map((p: { number: number }) => p.number)).toEqual([5, 4]);
      expect(page1.headers.link).toContain('rel="next"');
      expect(page1.headers.link).toMatch(/page=3[^>]*>; rel="last"/);
      const next = /<([^>]+)>; rel="next"/.exec(page1.headers.link)![1];
      const page2 = await r.get(next);
      expect(page2.data.map((p: { number: number }) => p.number)).toEqual([3, 2]);
      expect(page2.headers.link).toContain('rel="prev"');
      expect((await r.get('/repos/acme/infra/pulls')).data).toHaveLength(4);
      expect((await r.get('/repos/acme/infra/pulls', { params: { state: 'closed' } })).data.map((p: { number: number }) => p.number)).toEqual([2]);
      expect((await r.get('/repos/acme/infra/pulls', { params: { head: 'acme:drw/t/3' } })).data.map((p: { number: number }) => p.number)).toEqual([3]);
      expect((await r.get('/repos/acme/infra/pulls', { params: { head: 'other:drw/t/3' } })).data).toEqual([]);
      // GitHub ignores a head filter without the owner part.
      expect((await r.get('/repos/acme/infra/pulls', { params: { head: 'drw/t/3' } })).data).toHaveLength(4);
      const one = await r.get('/repos/acme/infra/pulls/2');
      expect(one.data).toMatchObject({ number: 2, merged: true, state: 'closed' });
      expect(one.headers['x-ratelimit-remaining']).toMatch(/^\d+$/);
    } finally {
      await s.close();
    }
  });
});

describe('GitHubPulls client', () => {
  it('findByHead only trusts results whose head matches, preferring the open one', async () => {
    const s = await startGitHubSimulator({ token: 't0ken' });
    try {
      const pulls = new GitHubPulls(createGitHubClient({ apiUrl: s.url, token: 't0ken' }));
      const first = await pulls.create('acme/infra', { title: 'a', head: 'drw/x/1', base: 'main', body: '' });
      expect(first.kind).toBe('created');
      s.closePull('acme/infra', 1);
      await pulls.create('acme/infra', { title: 'a again', head: 'drw/x/1', base: 'main', body: '' });
      await pulls.create('acme/infra', { title: 'b', head: 'drw/x/2', base: 'main', body: '' });
      expect((await pulls.findByHead('acme/infra', 'drw/x/1'))?.number).toBe(2);
      expect(await pulls.findByHead('acme/infra', 'drw/x/9')).toBeUndefined();
      expect(await pulls.create('acme/infra', { title: 'dup', head: 'drw/x/2', base: 'main', body: '' })).toEqual({ kind: 'exists' });
      expect(await pulls.create('acme/infra', { title: 'same', head: 'main', base: 'main', body: '' })).toEqual({ kind: 'no_commits' });
    } finally {
      await s.close();
    }
  });

  it('a head GitHub does not know yet is retryable; other 422s are not', async () => {
    const pulls = new GitHubPulls(createGitHubClient({ apiUrl: sim.url, token: 't0ken' }));
    const a = await pulls.create('acme/infra', { title: 'x', head: 'drw/none', base: 'main', body: '' }).catch((e) => e);
    expect(a).toBeInstanceOf(ApplicationFailure);
    expect([a.type, a.nonRetryable]).toEqual(['github.HeadNotReady', false]);
    const b = await pulls.create('acme/infra', { title: 'x', head: 'main', base: 'nope', body: '' }).catch((e) => e);
    expect([b.type, b.nonRetryable]).toEqual(['github.ClientError', true]);
    expect(b.message).toMatch(/422: .*Validation Failed/);
  });
});
