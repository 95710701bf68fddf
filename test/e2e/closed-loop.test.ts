/**
 * Honest outcomes through the real adapters and the embedded simulators (what `npm start` runs):
 * an IaC fix that cannot be made is never followed by a "done" verification.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSystems } from '../../activities/registry';
import { startEmbeddedSimulators, type EmbeddedSimulators } from '../../simulators/embedded';
import { DEFAULT_POLICY, eventually, startHarness, type Harness } from '../helpers/harness';
import { asset, detection, step, submit, waitFor } from '../helpers/scenario';
import { http } from '../helpers/http';
import { adapterSystems } from '../helpers/sims';

let dataDir: string;
let sims: EmbeddedSimulators;
let h: Harness;

const WEBHOOK_SECRET = 'closed-loop-jira-webhook-secret';

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-closed-loop-'));
  // As npm start wires it: Jira's webhook (signed) reaches this drw's API.
  sims = await startEmbeddedSimulators(dataDir, { DRW_JIRA_WEBHOOK_SECRET: WEBHOOK_SECRET }, { autoMergeAfterMs: 0, cabApprover: 'CAB Manager' });
  h = await startHarness({ policyDir: DEFAULT_POLICY, override: adapterSystems(buildSystems({ ...sims.env })), env: { DRW_JIRA_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  expect(sims.connectApi(h.api)).toHaveLength(1);
});

/** A person closes or reopens the Jira issue in Jira (the simulator's people route), which sends Jira's webhook. */
const asPerson = (key: string, action: 'close' | 'reopen', who: string) => http('POST', `${sims.urls.jira}/_admin/issues/${key}/${action}`, { as: who, ...(action === 'close' ? { resolution: 'Done' } : {}) });

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
  // GitHub was asked and said open: still verifying.
  const alertReads = () => github.server.requests.filter((r) => r.method === 'GET' && r.path === '/repos/acme/infra/dependabot/alerts/41');
  await eventually(async () => (alertReads().length > 0 ? true : undefined), 'a read of the alert');
  expect((await waitFor(h, id, () => true, 'state')).status).toBe('verifying');
  github.setAlert('acme/infra', 'dependabot', 41, { state: 'fixed' });
  const s = await waitFor(h, id, (x) => x.status === 'remediated', 'remediated once GitHub says fixed');
  expect(step(s, 'vulnerability.confirm')).toMatchObject({ status: 'done', result: expect.objectContaining({ verified: true }) });
  expect(alertReads().length).toBeGreaterThanOrEqual(2);
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
  // Asked, and told FAILED: still verifying.
  await eventually(async () => (hub.requests.some((r) => r.method === 'POST' && r.path === '/findings') ? true : undefined), 'a GetFindings call');
  expect((await waitFor(h, id, () => true, 'state')).status).toBe('verifying');
  hub.setState(finding.Id, finding.ProductArn, { Compliance: { Status: 'PASSED' } });
  const s = await waitFor(h, id, (x) => x.status === 'remediated', 'remediated once Security Hub says PASSED');
  expect(step(s, 'cloud-misconfiguration.confirm').status).toBe('done');
});

test('the owner closes a triage ticket in Jira: the webhook tells drw at once and the remediation ends resolved by the owner', async () => {
  const host = asset('triage-owner');
  const id = await submit(h, detection({ source: 'scanner', rule: 'Odd.Thing', category: 'unheard-of', severity: 'low', asset: { id: host } }));
  const open = await waitFor(h, id, (x) => x.status === 'awaiting_owner' && x.ticket, 'awaiting its owner');
  expect((await asPerson(open.ticket.ticketId, 'close', 'olivia')).status).toBe(200);
  const s = await waitFor(h, id, (x) => x.status === 'resolved', 'resolved by the owner');
  expect(s.resolution).toBe('ticket_closed_by_owner');
  expect(s.decisions.find((d: any) => d.kind === 'ticket_changed')).toMatchObject({ ticketId: open.ticket.ticketId, closed: true, via: 'webhook', by: expect.stringContaining('olivia') });
  // drw does not close again what the owner closed; it says what it concluded.
  const issue = sims.simulators.jira!.issues.get(open.ticket.ticketId)!;
  expect(issue.status.name).toBe('Done');
  expect(JSON.stringify(issue.comments[issue.comments.length - 1].body)).toContain('remediation resolved (ticket_closed_by_owner)');
});

test('a person closes the ticket of a containment that is not in place: drw reopens it with what failed and stays open', async () => {
  const host = asset('edr-unverified');
  const crowdstrike = sims.simulators.crowdstrike!;
  crowdstrike.seedDevice({ deviceId: `dev${host.replace(/[^a-z0-9]/g, '')}`.slice(0, 32), hostname: host });
  const id = await submit(h, detection({ source: 'crowdstrike', rule: 'Trojan.Reopen', category: 'malware', riskScore: 60, asset: { id: host, environment: 'production' } }));
  // Nobody approves the containment: the host is not contained when a person closes the ticket.
  const waiting = await waitFor(h, id, (x) => x.status === 'awaiting_approval' && x.ticket, 'awaiting approval with a ticket');
  const key = waiting.ticket.ticketId;
  expect((await asPerson(key, 'close', 'pat')).status).toBe(200);
  const s = await waitFor(h, id, (x) => x.decisions.some((d: any) => d.kind === 'ticket_reopened'), 'ticket reopened by drw');
  expect(s.decisions.find((d: any) => d.kind === 'owner_verification')).toMatchObject({ verified: false, failures: ['host_contained: the host was not contained'] });
  expect(s.status).toBe('awaiting_approval');
  const issue = sims.simulators.jira!.issues.get(key)!;
  expect(issue.status.name).not.toBe('Done');
  expect(JSON.stringify(issue.comments[issue.comments.length - 1].body)).toContain('host_contained: the host was not contained');
  // The notification links the remediation's page (a browser lands on /ui, where sign-in still applies).
  expect(JSON.stringify(sims.simulators.slack!.requests.map((r) => r.body))).toContain(`/v1/remediations/${id}`);
  // A person reopening or closing again is followed the same way; the remediation is still drw's to finish.
  expect((await asPerson(key, 'close', 'pat')).status).toBe(200);
  await waitFor(h, id, (x) => x.decisions.filter((d: any) => d.kind === 'ticket_reopened').length === 2, 'reopened a second time');
});
