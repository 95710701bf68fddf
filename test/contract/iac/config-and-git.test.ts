import os from 'node:os';
import path from 'node:path';
import { loadGitHubIacConfig } from '../../../activities/adapters/github';
import { branchName, gitAuth, redact } from '../../../activities/adapters/git';
import { classifyGitFailure } from '../../../activities/adapters/git/exec';
import { commitMessage, prBody, summaryFromCommit } from '../../../activities/adapters/github/messages';
import type { PullRequestInput } from '../../../activities/interfaces';

describe('loadGitHubIacConfig', () => {
  const base = { GITHUB_TOKEN: 'ghp_abc123', DRW_IAC_REPOS: '{"acme/infra":"https://github.com/acme/infra.git"}' };

  it('is undefined when DRW_IAC_REPOS is not set, even with a token around', () => {
    expect(loadGitHubIacConfig({})).toBeUndefined();
    expect(loadGitHubIacConfig({ GITHUB_TOKEN: 'x', DRW_IAC_REPOS: '  ' })).toBeUndefined();
  });

  it('applies defaults', () => {
    expect(loadGitHubIacConfig(base)).toEqual({
      apiUrl: 'https://api.github.com',
      token: 'ghp_abc123',
      repos: { 'acme/infra': { url: 'https://github.com/acme/infra.git', base: 'main' } },
      workdir: path.join(os.tmpdir(), 'drw-iac'),
      author: { name: 'drw', email: 'drw@users.noreply.github.com' },
      gitTimeoutMs: 120_000,
      apiTimeoutMs: 15_000,
    });
  });

  it('reads every variable, and per-repository base branches', () => {
    const c = loadGitHubIacConfig({
      ...base,
      GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
      DRW_IAC_REPOS: JSON.stringify({ 'acme/infra': { url: 'git@github.com:acme/infra.git', base: 'develop' }, 'acme/app': '/srv/git/app.git' }),
      DRW_IAC_BASE_BRANCH: 'trunk',
      DRW_IAC_WORKDIR: '/var/cache/drw',
      DRW_GIT_AUTHOR_NAME: 'Remediation Bot',
      DRW_GIT_AUTHOR_EMAIL: 'bot@acme.example',
      DRW_GIT_TIMEOUT_MS: '30000',
      GITHUB_TIMEOUT_MS: '5000',
    })!;
    expect(c.apiUrl).toBe('https://ghe.example.com/api/v3');
    expect(c.repos).toEqual({ 'acme/infra': { url: 'git@github.com:acme/infra.git', base: 'develop' }, 'acme/app': { url: '/srv/git/app.git', base: 'trunk' } });
    expect([c.workdir, c.author.name, c.author.email, c.gitTimeoutMs, c.apiTimeoutMs]).toEqual(['/var/cache/drw', 'Remediation Bot', 'bot@acme.example', 30000, 5000]);
  });

  it.each([
    [{ DRW_IAC_REPOS: base.DRW_IAC_REPOS }, /^GITHUB_TOKEN is required when DRW_IAC_REPOS is set/],
    [{ ...base, GITHUB_TOKEN: 'two words' }, /^GITHUB_TOKEN must be a single token/],
    [{ ...base, GITHUB_API_URL: 'ftp://x' }, /^GITHUB_API_URL /],
    [{ ...base, DRW_IAC_REPOS: 'not json' }, /^DRW_IAC_REPOS must be a JSON object/],
    [{ ...base, DRW_IAC_REPOS: '["a"]' }, /^DRW_IAC_REPOS must be a JSON object/],
    [{ ...base, DRW_IAC_REPOS: '{}' }, /^DRW_IAC_REPOS maps no repository/],
    [{ ...base, DRW_IAC_REPOS: '{"infra":"/x.git"}' }, /^DRW_IAC_REPOS: "infra" is not an "owner\/name"/],
    [{ ...base, DRW_IAC_REPOS: '{"a/b":"http://git.example.com/b.git"}' }, /must use https/],
    [{ ...base, DRW_IAC_REPOS: '{"a/b":"relative/b.git"}' }, /must be an https, ssh or file URL/],
    [{ ...base, DRW_IAC_BASE_BRANCH: 'bad..branch' }, /^DRW_IAC_BASE_BRANCH is not a valid branch name/],
    [{ ...base, DRW_GIT_AUTHOR_EMAIL: 'nope' }, /^DRW_GIT_AUTHOR_EMAIL /],
    [{ ...base, DRW_GIT_TIMEOUT_MS: 'soon' }, /^DRW_GIT_TIMEOUT_MS /],
  ])('rejects invalid configuration, naming the variable (%#)', (env, message) => {
    expect(() => loadGitHubIacConfig(env as NodeJS.ProcessEnv)).toThrow(message);
  });

  it('refuses credentials in a clone URL without repeating them', () => {
    let msg = '';
    try {
      loadGitHubIacConfig({ ...base, DRW_IAC_REPOS: '{"a/b":"https://user:s3cretPass@github.com/a/b.git"}' });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/DRW_IAC_REPOS\["a\/b"\]: the clone URL must not contain credentials/);
    expect(msg).not.toContain('s3cretPass');
  });
});

describe('git helpers', () => {
  it('branch names are deterministic per template and key, and valid refs', () => {
    const a = branchName('bump_package', 'wf-1:step-2');
    expect(a).toBe(branchName('bump_package', 'wf-1:step-2'));
    expect(a).not.toBe(branchName('bump_package', 'wf-1:step-3'));
    expect(a).toMatch(/^drw\/bump_package\/[0-9a-f]{12}$/);
  });

  it('auth goes through GIT_CONFIG_* for http(s) remotes only, scoped to the origin', () => {
    const a = gitAuth('https://github.com/acme/infra.git', 'tok_123', {});
    expect(a.env).toEqual({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'http.https://github.com/.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('x-access-token:tok_123').toString('base64')}`,
      GIT_CONFIG_KEY_1: 'credential.helper',
      GIT_CONFIG_VALUE_1: '',
    });
    expect(a.secrets).toContain('tok_123');
    // Entries already configured through the environment are kept.
    expect(gitAuth('https://github.com/a/b', 't0k3n', { GIT_CONFIG_COUNT: '1' }).env.GIT_CONFIG_KEY_1).toMatch(/^http\./);
    expect(gitAuth('/srv/git/b.git', 'tok_123').env).toEqual({});
    expect(gitAuth('git@github.com:a/b.git', 'tok_123').env).toEqual({});
  });

  it('redacts secrets and URL credentials', () => {
    expect(redact('fatal: tok_123 and https://u:p@host/x and dG9r', ['tok_123', 'dG9r'])).toBe('fatal: *** and https://***@host/x and ***');
  });

  it.each([
    ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", 'auth'],
    ['remote: Write access to repository not granted.\nfatal: unable to access ...: The requested URL returned error: 403', 'auth'],
    ["fatal: repository 'https://github.com/a/b.git/' not found\nremote: Repository not found.", 'not_found'],
    ['warning: Could not find remote branch develop to clone.\nfatal: Remote branch develop not found in upstream origin', 'not_found'],
    [' ! [rejected]        HEAD -> drw/x (stale info)', 'rejected'],
    ["fatal: unable to access 'https://github.com/a/b.git/': Could not resolve host: github.com", 'network'],
    ['error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502', 'network'],
    ['something else entirely', 'other'],
  ])('classifies git stderr %#', (stderr, kind) => {
    expect(classifyGitFailure(stderr, false)).toBe(kind);
  });
});

describe('commit and pull request texts', () => {
  const input: PullRequestInput = {
    idempotencyKey: 'wf-1:step-->2',
    remediationId: 'wf-1',
    template: 'bump_package',
    repository: 'a/b',
    params: {},
    title: 'Bump   lodash\nto 4.17.21',
    body: 'Finding text',
  };

  it('stores the summary in the commit and gets it back', () => {
    const msg = commitMessage(input, '- `package.json`: bumped\n- note');
    expect(msg.split('\n')[0]).toBe('Bump lodash to 4.17.21');
    expect(summaryFromCommit(msg + '\n')).toBe('- `package.json`: bumped\n- note');
    expect(summaryFromCommit('Some human commit\n\nwith a body\n')).toBeUndefined();
  });

  it('ends the body with the remediation footer and a marker that cannot close the comment early', () => {
    const body = prBody(input, 'summary');
    expect(body).toBe('Finding text\n\n### Change\n\nsummary\n\n---\n_Opened by drw for remediation `wf-1`._\n<!-- drw:idempotency-key=wf-1:step--&gt;2 -->');
  });
});
