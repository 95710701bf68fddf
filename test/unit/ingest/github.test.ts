import { run, sampleJson, sampleText, sha256, single } from './samples';

const DEP_CREATED = 'github/octokit-dependabot_alert-created.json';
const DEP_FIXED = 'github/octokit-dependabot_alert-fixed.json';
const CS_CREATED = 'github/octokit-code_scanning_alert-created.json';
const CS_FIXED = 'github/octokit-code_scanning_alert-fixed.json';

const dependabot = { 'x-github-event': 'dependabot_alert', 'x-github-delivery': 'd-1' };
const codeScanning = { 'x-github-event': 'code_scanning_alert' };

describe('github normalizer', () => {
  it('maps a created dependabot alert', () => {
    const raw = sampleJson(DEP_CREATED);
    const f = single('github', DEP_CREATED, dependabot);
    expect(f).toMatchObject({
      source: 'github',
      rule: 'GHSA-c2qf-rxjj-qqgw',
      severity: 'medium',
      category: 'vulnerability',
      status: 'open',
      riskScore: 53,
      observedAt: '2023-06-24T13:57:12.000Z',
      asset: { id: 'wolfy1339/pika-pack', type: 'repository' },
      dedupeKey: 'github|wolfy1339/pika-pack|dependabot|20',
    });
    expect(f.details).toMatchObject({
      package: 'semver',
      ecosystem: 'npm',
      manifestPath: 'package-lock.json',
      fixedVersion: '7.5.2',
      cve: 'CVE-2022-25883',
      repository: 'wolfy1339/pika-pack',
      // What the alerts API re-queries.
      alertType: 'dependabot',
      alertNumber: 20,
    });
    expect(f.rawRef).toEqual({
      format: 'github',
      sha256: sha256(raw),
      sourceId: 'wolfy1339/pika-pack/dependabot/20',
      url: 'https://github.com/wolfy1339/pika-pack/security/dependabot/20',
    });
  });

  it('maps a fixed dependabot alert to resolved at fixed_at', () => {
    const f = single('github', DEP_FIXED, dependabot);
    expect(f).toMatchObject({
      rule: 'GHSA-8f4m-hccc-8qph',
      status: 'resolved',
      observedAt: '2022-06-15T13:55:40.000Z',
      asset: { id: 'octocat/hello-world' },
      details: { package: 'ansible', ecosystem: 'pip', manifestPath: 'path/to/requirements.txt', fixedVersion: '2.8.19' },
    });
  });

  it('maps a created code scanning alert (SARIF error → high)', () => {
    const f = single('github', CS_CREATED, codeScanning);
    expect(f).toMatchObject({
      rule: 'java/sql-injection',
      title: 'Query built from user-controlled sources',
      severity: 'high',
      category: 'code-vulnerability',
      status: 'open',
      asset: { id: 'Codertocat/Hello-World', type: 'repository' },
      details: { path: 'src/main/java/com/github/demo/service/BookService.java', startLine: 84, tool: 'CodeQL', repository: 'Codertocat/Hello-World', alertType: 'code-scanning', alertNumber: 10 },
    });
  });

  it('maps the fixed code scanning alert to resolved on the same dedupeKey', () => {
    const created = single('github', CS_CREATED, codeScanning);
    const fixed = single('github', CS_FIXED, codeScanning);
    expect(fixed.status).toBe('resolved');
    expect(fixed.dedupeKey).toBe(created.dedupeKey);
    // The payload has no fixed_at/updated_at: the time we heard of the fix is the honest one.
    expect(fixed.observedAt).toBe('2030-01-01T00:00:00.000Z');
  });

  it('infers the event without the header, and reads headers case-insensitively', () => {
    expect(single('github', DEP_FIXED).status).toBe('resolved');
    expect(run('github', sampleText(CS_CREATED), { 'X-GitHub-Event': 'code_scanning_alert' }).findings[0].rule).toBe('java/sql-injection');
  });

  it.each([
    ['dismissed', 'resolved'],
    ['auto_dismissed', 'resolved'],
    ['reopened', 'open'],
    ['reintroduced', 'open'],
  ])('action %s → %s', (action, status) => {
    const payload = { ...sampleJson(DEP_CREATED), action };
    expect(run('github', payload, dependabot).findings[0].status).toBe(status);
  });

  it('maps closed_by_user and security_severity_level for code scanning', () => {
    const payload = sampleJson(CS_CREATED);
    payload.action = 'closed_by_user';
    payload.alert.rule.security_severity_level = 'critical';
    expect(run('github', payload, codeScanning).findings[0]).toMatchObject({ status: 'resolved', severity: 'critical' });
  });

  it('skips ping and other events, rejects an alert event without an alert', () => {
    expect(run('github', { zen: 'Keep it logically awesome.', hook_id: 1 }, { 'x-github-event': 'ping' })).toEqual({ findings: [], skipped: [{ reason: 'ping event' }] });
    expect(run('github', { ref: 'refs/heads/main' }, { 'x-github-event': 'push' }).skipped[0].reason).toBe('GitHub event "push" is not ingested');
    expect(() => run('github', { action: 'created' }, dependabot)).toThrow(/\$\.alert is missing/);
    expect(() => run('github', { action: 'created' })).toThrow(/x-github-event/);
  });
});
