import { createGitHubFindingSource, loadGitHubApiConfig } from '../../../activities/adapters/github';
import type { SourceFindingRef } from '../../../activities/interfaces';
import { sourceFindingRef } from '../../../ingest/source-ref';
import { startGitHubSimulator, type GitHubSimulator } from '../../../simulators/github';
import { run, sampleJson } from '../../unit/ingest/samples';
import { expectNoSecrets, failureOf, retryLikeTemporal } from '../endpoint/temporal-like';

const DEPENDABOT = 'github/octokit-dependabot_alert-created.json';
const CODE_SCANNING = 'github/octokit-code_scanning_alert-created.json';

describe('GitHub alerts as a finding source', () => {
  let sim: GitHubSimulator;
  const errors: unknown[] = [];
  const source = () => createGitHubFindingSource(loadGitHubApiConfig({ GITHUB_API_URL: sim.url, GITHUB_TOKEN: sim.token, GITHUB_TIMEOUT_MS: '1000' })!);
  /** The reference drw derives from the webhook, and the alert as the REST API holds it (the webhook's `alert`). */
  const seeded = (file: string, event: string): { ref: Extract<SourceFindingRef, { source: 'github' }>; alert: Record<string, unknown> } => {
    const payload = sampleJson(file);
    const ref = sourceFindingRef(run('github', payload, { 'x-github-event': event }).findings[0]) as Extract<SourceFindingRef, { source: 'github' }>;
    sim.setAlert(ref.repository, ref.alertKind === 'dependabot' ? 'dependabot' : 'code-scanning', ref.alertNumber, { ...payload.alert, state: 'open' });
    return { ref, alert: payload.alert };
  };

  beforeEach(async () => {
    sim = await startGitHubSimulator({ token: 'sim-alerts-token' });
  });
  afterEach(() => sim.close());
  afterAll(() => expectNoSecrets(errors, ['sim-alerts-token']));

  it('an open Dependabot alert is not gone; once GitHub marks it fixed, it is', async () => {
    const { ref } = seeded(DEPENDABOT, 'dependabot_alert');
    expect(await source().getFindingState({ ref })).toEqual({ system: 'github', gone: false, status: 'open' });
    sim.setAlert(ref.repository, 'dependabot', 20, { state: 'fixed' });
    expect(await source().getFindingState({ ref })).toEqual({ system: 'github', gone: true, status: 'fixed' });
    expect(sim.server.served().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /repos/wolfy1339/pika-pack/dependabot/alerts/20', 'GET /repos/wolfy1339/pika-pack/dependabot/alerts/20']);
    expect(sim.server.served()[0].headers.authorization).toBe('Bearer sim-alerts-token');
  });

  it('a code scanning alert fixed by a later analysis is gone', async () => {
    const { ref } = seeded(CODE_SCANNING, 'code_scanning_alert');
    const res = await fetch(`${sim.url}/_sim/repos/Codertocat/Hello-World/code-scanning/alerts/10`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'fixed' }),
    });
    expect(res.status).toBe(200);
    expect(await source().getFindingState({ ref })).toMatchObject({ gone: true, status: 'fixed' });
    expect(sim.server.served((r) => r.path.startsWith('/repos/'))[0].path).toBe('/repos/Codertocat/Hello-World/code-scanning/alerts/10');
  });

  it('a person dismissing the alert is not a fix, and the status says so', async () => {
    const { ref } = seeded(DEPENDABOT, 'dependabot_alert');
    sim.setAlert(ref.repository, 'dependabot', 20, { state: 'dismissed', dismissed_reason: 'tolerable_risk' });
    expect(await source().getFindingState({ ref })).toEqual({
      system: 'github',
      gone: false,
      status: 'dismissed as tolerable_risk: a person dismissed it, which is not a fix',
    });
    sim.setAlert(ref.repository, 'dependabot', 20, { state: 'auto_dismissed' });
    expect(await source().getFindingState({ ref })).toMatchObject({ gone: false, status: 'auto_dismissed: a triage rule dismissed it, which is not a fix' });
  });

  it('an alert GitHub does not know is not gone, and said "not found"', async () => {
    const ref: SourceFindingRef = { source: 'github', repository: 'acme/app', alertKind: 'dependabot', alertNumber: 404 };
    expect(await source().getFindingState({ ref })).toEqual({ system: 'github', gone: false, status: 'not found (GitHub answered 404): unknown, so not gone' });
  });

  it('retries GitHub\'s rate limit (403 with x-ratelimit-remaining 0), a 429 and a 502, then answers', async () => {
    const { ref } = seeded(DEPENDABOT, 'dependabot_alert');
    sim.rateLimitNext(1, { kind: 'primary', status: 403, resetInSeconds: 30 });
    const s = source();
    const first = await failureOf(s.getFindingState({ ref }));
    expect(first).toMatchObject({ type: 'github.RateLimited', nonRetryable: false });
    expect(first.nextRetryDelay).toBeGreaterThan(25_000);
    sim.server.setFaults({ match: /alerts/, queue: [{ kind: 'rateLimit', retryAfterSeconds: 7 }, { kind: 'status', status: 502 }] });
    const { result, failures } = await retryLikeTemporal(() => s.getFindingState({ ref }));
    errors.push(first, ...failures);
    expect(failures).toEqual([expect.objectContaining({ type: 'github.RateLimited', nextRetryDelay: 7000 }), expect.objectContaining({ type: 'github.ServerError', nonRetryable: false })]);
    expect(result).toMatchObject({ gone: false });
  });

  it('a 403 that is no rate limit (alerts disabled, no access) is not retried and carries GitHub\'s message', async () => {
    const { ref } = seeded(DEPENDABOT, 'dependabot_alert');
    sim.server.setFaults({ match: /alerts/, queue: [{ kind: 'status', status: 403, body: { message: 'Dependabot alerts are disabled for this repository.', status: '403' } }] });
    const s = source();
    const f = await failureOf(retryLikeTemporal(() => s.getFindingState({ ref })));
    errors.push(f);
    expect(f).toMatchObject({ type: 'github.ClientError', nonRetryable: true });
    expect(f.message).toBe('github: GET /repos/wolfy1339/pika-pack/dependabot/alerts/20 answered 403: Dependabot alerts are disabled for this repository.');
  });

  it('refuses a reference that is not a GitHub alert before calling GitHub', async () => {
    const f = await failureOf(source().getFindingState({ ref: { source: 'github', repository: '../x', alertKind: 'dependabot', alertNumber: 1 } }));
    expect(f).toMatchObject({ type: 'github.InvalidInput', nonRetryable: true });
    expect(f.message).toMatch(/repository must be "owner\/name"/);
    expect(sim.server.requests).toHaveLength(0);
  });

  it('configuration: GITHUB_TOKEN turns the alerts reader on; plain http only to loopback', () => {
    expect(loadGitHubApiConfig({})).toBeUndefined();
    expect(loadGitHubApiConfig({ GITHUB_TOKEN: 't' })).toEqual({ apiUrl: 'https://api.github.com', token: 't', apiTimeoutMs: 15_000 });
    expect(() => loadGitHubApiConfig({ GITHUB_TOKEN: 't', GITHUB_API_URL: 'http://ghe.example.com/api/v3' })).toThrow(/^GITHUB_API_URL must use https/);
    expect(() => loadGitHubApiConfig({ GITHUB_TOKEN: 'two words' })).toThrow(/^GITHUB_TOKEN must be a single token/);
  });
});
