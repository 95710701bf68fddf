import { createGitHubFindingSource, createGitHubIac, loadGitHubApiConfig, loadGitHubIacConfig } from '../../../activities/adapters/github';
import { createJiraTicketing, loadJiraConfig } from '../../../activities/adapters/jira';
import type { RecordedRequest } from '../../../simulators/base';
import { startGitHubSimulator } from '../../../simulators/github';
import { startJiraSimulator } from '../../../simulators/jira';
import { createRemote } from '../iac/helpers/repo';
import { githubOperations, jiraOperations, nonConformance, type Operation } from './vendor-definitions';

/**
 * Every request drw's Jira and GitHub adapters really send (as the simulators record them) is
 * checked against the vendor's own definition shipped in a package: the path template must
 * exist with that method and the body must carry the fields the vendor requires. A path,
 * method or body that drifts from the vendor fails here, whatever the simulator accepts.
 */

const sent = (requests: RecordedRequest[]) => requests.map((r) => `${r.method} ${r.path}`);
const problems = (requests: RecordedRequest[], ops: Operation[]) => requests.map((r) => nonConformance(r, ops)).filter(Boolean);

describe('Jira adapter requests against Atlassian\'s v3 definition (jira.js)', () => {
  const ops = jiraOperations();
  const EMAIL = 'drw@example.com';
  const TOKEN = 'conformance-jira-token';
  const config = (url: string, project = 'SEC') =>
    loadJiraConfig({ JIRA_BASE_URL: url, JIRA_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN, JIRA_PROJECT_KEY: project, JIRA_SEARCH_LAG_MS: '0' })!;
  const open = (id: string) => ({
    remediationId: id,
    idempotencyKey: `${id}:open`,
    title: 'Public bucket',
    description: 'Readable by anyone.',
    severity: 'high' as const,
    priority: 'high' as const,
    labels: ['security'],
    assetId: 'acme-logs',
  });

  it('a ticket\'s whole life (create, update, comment, close, read, reopen) sends only defined operations', async () => {
    const sim = await startJiraSimulator({ email: EMAIL, apiToken: TOKEN, projects: ['SEC', 'OPS'], projectsWithoutPriority: ['OPS'] });
    try {
      for (const project of ['SEC', 'OPS']) {
        const jira = createJiraTicketing(config(sim.url, project));
        const ref = await jira.openTicket(open(`conf-${project}`));
        await jira.updateTicket({ remediationId: `conf-${project}`, idempotencyKey: `conf-${project}:raise`, ticketId: ref.ticketId, comment: 'Risk up.', priority: 'highest' });
        await jira.closeTicket({ remediationId: `conf-${project}`, idempotencyKey: `conf-${project}:close`, ticketId: ref.ticketId, comment: 'Fixed.', resolution: 'remediated' });
        await jira.getTicketState({ ticketId: ref.ticketId });
        await jira.reopenTicket({ remediationId: `conf-${project}`, idempotencyKey: `conf-${project}:reopen`, ticketId: ref.ticketId, comment: 'Not fixed.' });
      }
      const requests = sim.server.served();
      expect(new Set(sent(requests))).toEqual(
        new Set([
          'POST /rest/api/3/search/jql',
          'GET /rest/api/3/issue/createmeta/SEC/issuetypes',
          'GET /rest/api/3/issue/createmeta/SEC/issuetypes/10001',
          'GET /rest/api/3/issue/createmeta/OPS/issuetypes',
          'GET /rest/api/3/issue/createmeta/OPS/issuetypes/10001',
          'POST /rest/api/3/issue',
          'PUT /rest/api/3/issue/SEC-1',
          'GET /rest/api/3/issue/SEC-1/comment',
          'POST /rest/api/3/issue/SEC-1/comment',
          'GET /rest/api/3/issue/SEC-1',
          'GET /rest/api/3/issue/SEC-1/transitions',
          'POST /rest/api/3/issue/SEC-1/transitions',
          'GET /rest/api/3/issue/OPS-1/comment',
          'POST /rest/api/3/issue/OPS-1/comment',
          'GET /rest/api/3/issue/OPS-1',
          'GET /rest/api/3/issue/OPS-1/transitions',
          'POST /rest/api/3/issue/OPS-1/transitions',
        ]),
      );
      expect(problems(requests, ops)).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it('the fallback search of a site without the enhanced search is defined too', async () => {
    const sim = await startJiraSimulator({ email: EMAIL, apiToken: TOKEN, legacySearchOnly: true });
    try {
      await createJiraTicketing(config(sim.url)).openTicket(open('conf-legacy'));
      const requests = sim.server.requests;
      expect(sent(requests)).toContain('GET /rest/api/3/search');
      // The enhanced search answered 404 (simulated site); the request itself is still a defined one.
      expect(problems(requests, ops)).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it('catches a request that drifts from the definition', () => {
    expect(nonConformance({ method: 'POST', path: '/rest/api/3/issues', body: { fields: {} } }, ops)).toBe('POST /rest/api/3/issues: no such path in the vendor definition');
    expect(nonConformance({ method: 'PATCH', path: '/rest/api/3/issue/SEC-1', body: {} }, ops)).toMatch(/^PATCH \/rest\/api\/3\/issue\/SEC-1: the vendor defines only .*PUT/);
    expect(nonConformance({ method: 'POST', path: '/rest/api/3/issue', body: { summary: 'no fields wrapper' } }, ops)).toBe('POST /rest/api/3/issue: body lacks required fields');
  });
});

describe('GitHub adapter requests against GitHub\'s OpenAPI description (@octokit/openapi-types)', () => {
  const ops = githubOperations();

  it('opening a pull request and reading its state sends only defined operations with their required fields', async () => {
    const remote = createRemote();
    const sim = await startGitHubSimulator({ repos: { 'acme/infra': remote.bare } });
    try {
      const iac = createGitHubIac(
        loadGitHubIacConfig({
          GITHUB_API_URL: sim.url,
          GITHUB_TOKEN: sim.token,
          DRW_IAC_REPOS: JSON.stringify({ 'acme/infra': remote.bare }),
          DRW_IAC_WORKDIR: remote.workdir,
          DRW_GIT_AUTHOR_NAME: 'drw bot',
          DRW_GIT_AUTHOR_EMAIL: 'drw@example.com',
        })!,
      );
      const input = {
        idempotencyKey: 'conf-1:pr',
        remediationId: 'conf-1',
        template: 's3_block_public_access' as const,
        repository: 'acme/infra',
        params: { bucket: 'acme-prod-logs' },
        title: 'Block public access to acme-prod-logs',
        body: 'Finding: public bucket.',
      };
      const ref = await iac.openPullRequest(input);
      await iac.openPullRequest(input);
      await iac.getPullRequestState({ repository: 'acme/infra', number: ref.number });
      const requests = sim.server.served();
      // Branches and commits go through git itself; the REST API is used for pull requests only.
      expect(new Set(sent(requests))).toEqual(new Set(['GET /repos/acme/infra/pulls', 'POST /repos/acme/infra/pulls', `GET /repos/acme/infra/pulls/${ref.number}`]));
      expect(problems(requests, ops)).toEqual([]);
    } finally {
      await sim.close();
      remote.cleanup();
    }
  });

  it('reading a Dependabot and a code scanning alert\'s state sends only defined operations', async () => {
    const sim = await startGitHubSimulator();
    try {
      sim.setAlert('acme/app', 'dependabot', 3, { state: 'fixed' });
      sim.setAlert('acme/app', 'code-scanning', 4, { state: 'dismissed', dismissed_reason: 'false positive' });
      const alerts = createGitHubFindingSource(loadGitHubApiConfig({ GITHUB_API_URL: sim.url, GITHUB_TOKEN: sim.token })!);
      await alerts.getFindingState({ ref: { source: 'github', repository: 'acme/app', alertKind: 'dependabot', alertNumber: 3 } });
      await alerts.getFindingState({ ref: { source: 'github', repository: 'acme/app', alertKind: 'code_scanning', alertNumber: 4 } });
      const requests = sim.server.served();
      expect(sent(requests)).toEqual(['GET /repos/acme/app/dependabot/alerts/3', 'GET /repos/acme/app/code-scanning/alerts/4']);
      expect(problems(requests, ops)).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it('catches a request that drifts from the definition', () => {
    expect(nonConformance({ method: 'GET', path: '/repos/acme/app/dependabot/alert/3', body: undefined }, ops)).toBe('GET /repos/acme/app/dependabot/alert/3: no such path in the vendor definition');
    expect(nonConformance({ method: 'POST', path: '/repos/acme/infra/pull', body: {} }, ops)).toBe('POST /repos/acme/infra/pull: no such path in the vendor definition');
    expect(nonConformance({ method: 'POST', path: '/repos/acme/infra/pulls', body: { title: 't', head: 'drw/x' } }, ops)).toBe('POST /repos/{owner}/{repo}/pulls: body lacks required base');
  });
});
