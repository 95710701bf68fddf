/**
 * Honest outcomes through the real adapters and the embedded simulators (what `npm start` runs):
 * an IaC fix that cannot be made is never followed by a "done" verification.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSystems } from '../../activities/registry';
import { startEmbeddedSimulators, type EmbeddedSimulators } from '../../simulators/embedded';
import { DEFAULT_POLICY, startHarness, type Harness } from '../helpers/harness';
import { asset, detection, step, submit, waitFor } from '../helpers/scenario';
import { adapterSystems } from '../helpers/sims';

let dataDir: string;
let sims: EmbeddedSimulators;
let h: Harness;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-closed-loop-'));
  sims = await startEmbeddedSimulators(dataDir, {}, { autoMergeAfterMs: 0 });
  h = await startHarness({ policyDir: DEFAULT_POLICY, override: adapterSystems(buildSystems({ ...sims.env })) });
});

afterAll(async () => {
  await h?.close();
  await sims?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('a public bucket the Terraform does not declare: the fix is blocked, the verification says not verified, nothing is called remediated', async () => {
  const account = asset('acct-nobucket');
  const id = await submit(
    h,
    detection({ source: 'prowler', rule: 's3_bucket_public_access', severity: 'high', category: 'misconfiguration', asset: { id: account, type: 'cloud-account', environment: 'dev' }, details: { bucket: 'acme-not-in-terraform', repository: 'acme/infra' } }),
  );
  // The verification has nothing to check (no pull request was opened): it is not verified, and says so.
  const s = await waitFor(h, id, (x) => step(x, 'cloud-misconfiguration.verify').status === 'failed' && x.status === 'escalated', 'escalated, not verified');
  expect(step(s, 'cloud-misconfiguration.fix-bucket')).toMatchObject({ status: 'blocked', note: expect.stringContaining('no aws_s3_bucket "acme-not-in-terraform"') });
  expect(step(s, 'cloud-misconfiguration.verify').note).toBe('not verified: pr_merged: no pull request was opened');
  expect(s.decisions.some((d: any) => d.kind === 'step_done' && d.stepId === 'cloud-misconfiguration.verify')).toBe(false);
  expect(s.decisions.filter((d: any) => d.kind === 'escalation').map((d: any) => d.trigger)).toEqual(['step_blocked', 'verification_failed']);
  expect(sims.simulators.github!.pulls().filter((p: any) => p.title?.includes(account))).toEqual([]);
});

test('a Dependabot alert: the merged bump is not the end, GitHub must report the alert fixed before it is remediated', async () => {
  const github = sims.simulators.github!;
  const repo = asset('repo-dependabot');
  github.setAlert('acme/infra', 'dependabot', 41, { state: 'open' });
  const id = await submit(
    h,
    detection({
      source: 'github',
      rule: 'GHSA-35jh-r3h4-6jhm',
      severity: 'high',
      category: 'vulnerability',
      asset: { id: repo, type: 'repository' },
      details: { repository: 'acme/infra', alertType: 'dependabot', alertNumber: 41, package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'app/package.json' },
    }),
  );
  // Merged, and still open at GitHub: verifying, not remediated.
  const merged = await waitFor(h, id, (x) => step(x, 'vulnerability.verify').status === 'done' && x.decisions.some((d: any) => d.kind === 'step_started' && d.stepId === 'vulnerability.confirm'), 'confirming at GitHub');
  expect(merged.status).toBe('verifying');
  await new Promise((r) => setTimeout(r, 500));
  expect((await waitFor(h, id, () => true, 'state')).status).toBe('verifying');
  github.setAlert('acme/infra', 'dependabot', 41, { state: 'fixed' });
  const s = await waitFor(h, id, (x) => x.status === 'remediated', 'remediated once GitHub says fixed');
  expect(step(s, 'vulnerability.confirm')).toMatchObject({ status: 'done', result: expect.objectContaining({ verified: true }) });
  const alertReads = github.server.requests.filter((r) => r.method === 'GET' && r.path === '/repos/acme/infra/dependabot/alerts/41');
  expect(alertReads.length).toBeGreaterThanOrEqual(2);
});

test('a Security Hub finding: the remediation waits for Security Hub to report the control passed (GetFindings), not for the merge alone', async () => {
  const hub = sims.simulators.securityhub!;
  const account = asset('acct-hub');
  const finding = { Id: `arn:aws:securityhub:us-east-1:111122223333:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.8/finding/${account}`, ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub' };
  hub.importFindings([{ ...finding, Compliance: { Status: 'FAILED' }, Title: 'S3.8 public access' }]);
  const id = await submit(
    h,
    detection({
      source: 'aws-securityhub',
      rule: 'S3.8',
      severity: 'high',
      category: 'misconfiguration',
      asset: { id: account, type: 'cloud-account', environment: 'dev' },
      details: { bucket: 'acme-prod-assets', repository: 'acme/infra', findingId: finding.Id, productArn: finding.ProductArn, findingRegion: 'us-east-1' },
    }),
  );
  await waitFor(h, id, (x) => step(x, 'cloud-misconfiguration.verify').status === 'done' && x.decisions.some((d: any) => d.kind === 'step_started' && d.stepId === 'cloud-misconfiguration.confirm'), 'confirming at Security Hub');
  expect(hub.requests.filter((r) => r.method === 'POST' && r.path === '/findings').length).toBeGreaterThanOrEqual(1);
  expect((await waitFor(h, id, () => true, 'state')).status).toBe('verifying');
  hub.setState(finding.Id, finding.ProductArn, { Compliance: { Status: 'PASSED' } });
  const s = await waitFor(h, id, (x) => x.status === 'remediated', 'remediated once Security Hub says PASSED');
  expect(step(s, 'cloud-misconfiguration.confirm').status).toBe('done');
});
