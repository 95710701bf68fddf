import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../../activities';
import { ConfigError } from '../../../common/config';
import { buildSystems } from '../../../activities/registry';
import type { SourceFindingRef } from '../../../activities/interfaces';
import { sourceFindingRef } from '../../../ingest/source-ref';
import type { PolicySet } from '../../../planner/policy-schema';
import { startEmbeddedSimulators } from '../../../simulators/embedded';
import { startGitHubSimulator, type GitHubSimulator } from '../../../simulators/github';
import { startSecurityHubSimulator, type SecurityHubSimulator } from '../../../simulators/securityhub';
import { run, sampleJson } from '../../unit/ingest/samples';
import { failureOf } from '../endpoint/temporal-like';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const policy = (): PolicySet => ({ version: 'v', playbooks: [] }) as unknown as PolicySet;
const PCI = 'securityhub/ocsf-examples-asff-pci-dss-control-failed.json';
const DEPENDABOT = 'github/octokit-dependabot_alert-fixed.json';

describe('the verify activity re-queries the finding\'s source (source_finding)', () => {
  let github: GitHubSimulator;
  let hub: SecurityHubSimulator;
  let hubRef: SourceFindingRef;
  let alertRef: SourceFindingRef;
  const env = () => ({
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN: github.token,
    SECURITYHUB_ENDPOINT: hub.baseUrl,
    AWS_ACCESS_KEY_ID: hub.accessKeyId,
    AWS_SECRET_ACCESS_KEY: hub.secretAccessKey,
  });

  beforeEach(async () => {
    github = await startGitHubSimulator();
    hub = await startSecurityHubSimulator();
    const finding = sampleJson(PCI);
    hub.importFindings([finding]);
    hubRef = sourceFindingRef(run('asff', finding).findings[0])!;
    const webhook = sampleJson(DEPENDABOT);
    alertRef = sourceFindingRef(run('github', webhook, { 'x-github-event': 'dependabot_alert' }).findings[0])!;
    github.setAlert('octocat/hello-world', 'dependabot', 1, { ...webhook.alert, state: 'fixed' });
  });
  afterEach(async () => {
    await github.close();
    await hub.close();
  });

  it('a worker with GitHub and Security Hub configured verifies a fixed alert and refuses a finding still failing', async () => {
    const systems = buildSystems(env());
    expect(systems.providers.source).toBe('github,securityhub');
    const acts = createActivities({ ...systems, policy });
    expect(await acts.verify({ check: { kind: 'source_finding', ref: alertRef } })).toEqual({ ok: true, detail: 'octocat/hello-world Dependabot alert #1 at github: fixed' });
    const finding = sampleJson(PCI);
    expect(await acts.verify({ check: { kind: 'source_finding', ref: hubRef } })).toEqual({
      ok: false,
      detail: `finding ${finding.Id} at securityhub: Compliance FAILED, Workflow NEW, RecordState ACTIVE`,
    });
    hub.setState(finding.Id, finding.ProductArn, { Compliance: { Status: 'PASSED' } });
    expect(await acts.verify({ check: { kind: 'source_finding', ref: hubRef } })).toMatchObject({ ok: true });
  });

  it('a worker without the source\'s API says the finding was not verified, and what to set', async () => {
    const acts = createActivities({ ...buildSystems({ GITHUB_API_URL: github.url, GITHUB_TOKEN: github.token }), policy });
    expect(await acts.verify({ check: { kind: 'source_finding', ref: hubRef } })).toEqual({
      ok: false,
      detail: 'no securityhub API configured on this worker (set AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a role) and AWS_REGION, or SECURITYHUB_ENDPOINT): the finding was not re-queried',
    });
    const none = createActivities({ ...buildSystems({}), policy });
    expect(await none.verify({ check: { kind: 'source_finding', ref: alertRef } })).toMatchObject({ ok: false, detail: expect.stringMatching(/^no github API configured on this worker \(set GITHUB_TOKEN/) });
    expect(github.server.requests).toHaveLength(0);
  });

  it('a source that cannot answer now fails the activity (Temporal retries it) instead of answering "not gone"', async () => {
    hub.setFaults({ match: /\/findings$/, queue: [{ kind: 'status', status: 500 }] });
    const acts = createActivities({ ...buildSystems(env()), policy });
    const f = await failureOf(acts.verify({ check: { kind: 'source_finding', ref: hubRef } }));
    expect(f).toMatchObject({ type: 'securityhub.ServerError', nonRetryable: false });
  });

  it('a reference that is not one drw can query is not verified, and nothing is called', async () => {
    const acts = createActivities({ ...buildSystems(env()), policy });
    const bad = { source: 'securityhub', findingId: 'x', productArn: 'arn:aws:s3:::bucket' } as SourceFindingRef;
    expect(await acts.verify({ check: { kind: 'source_finding', ref: bad } })).toMatchObject({ ok: false, detail: expect.stringMatching(/^not a finding reference drw can re-query \(productArn must be a Security Hub product ARN/) });
    expect(hub.requests).toHaveLength(0);
  });

  it('DRW_FINDING_SOURCES turns sources off, names them, or stops a worker naming one it cannot use', () => {
    expect(buildSystems({ ...env(), DRW_FINDING_SOURCES: 'none' }).providers.source).toBe('none');
    expect(buildSystems({ ...env(), DRW_FINDING_SOURCES: 'securityhub' }).providers.source).toBe('securityhub');
    // Named explicitly, Security Hub trusts the SDK's chain for credentials the environment cannot show (an instance role).
    expect(buildSystems({ DRW_FINDING_SOURCES: 'securityhub', AWS_REGION: 'eu-west-1' }).providers.source).toBe('securityhub');
    expect(buildSystems({ AWS_REGION: 'eu-west-1' }).providers.source).toBe('none');
    expect(() => buildSystems({ DRW_FINDING_SOURCES: 'github' })).toThrow(/DRW_FINDING_SOURCES names github but its variables are not set: GITHUB_TOKEN/);
    expect(() => buildSystems({ DRW_FINDING_SOURCES: 'github,splunk' })).toThrow(/DRW_FINDING_SOURCES: unknown source "splunk"/);
    // The token would cross the network in clear text.
    expect(() => buildSystems({ GITHUB_TOKEN: 't', GITHUB_API_URL: 'http://ghe.example.com/api/v3' })).toThrow(ConfigError);
    expect(() => buildSystems({ SECURITYHUB_ENDPOINT: 'http://securityhub.example.com' })).toThrow(/securityhub finding source: invalid Security Hub configuration: SECURITYHUB_ENDPOINT: must be an https URL/);
  });

  it('npm start\'s embedded default re-queries its Security Hub and GitHub simulators', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-sources-'));
    const sims = await startEmbeddedSimulators(dataDir, {});
    try {
      const systems = buildSystems(sims.env);
      expect(systems.providers.source).toBe('github,securityhub');
      const finding = sampleJson(PCI);
      sims.simulators.securityhub!.importFindings([{ ...finding, Workflow: { Status: 'RESOLVED' } }]);
      sims.simulators.github!.setAlert('octocat/hello-world', 'dependabot', 1, { state: 'open' });
      const acts = createActivities({ ...systems, policy });
      expect(await acts.verify({ check: { kind: 'source_finding', ref: hubRef } })).toMatchObject({ ok: true, detail: expect.stringMatching(/Workflow RESOLVED/) });
      expect(await acts.verify({ check: { kind: 'source_finding', ref: alertRef } })).toEqual({ ok: false, detail: 'octocat/hello-world Dependabot alert #1 at github: open' });
      // A user who configured AWS keeps it: no simulator is started for Security Hub then.
      const own = await startEmbeddedSimulators(dataDir, { AWS_PROFILE: 'security' });
      expect(own.simulators.securityhub).toBeUndefined();
      await own.close();
    } finally {
      await sims.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
