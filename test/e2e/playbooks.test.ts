/**
 * One end-to-end scenario per default playbook (policies/default), on the real Temporal dev
 * server through the HTTP API, asserting the side effects on the in-process systems.
 * (EDR malware has its own file: edr-malware.test.ts.)
 */
import { http, startHarness, type Harness } from '../helpers/harness';
import { HistoryKeeper } from '../helpers/histories';
import {
  approve,
  asset,
  detection,
  notificationsFor,
  pullRequestsFor,
  statusIs,
  step,
  stepStatuses,
  submit,
  ticketsFor,
  waitFor,
} from '../helpers/scenario';

let h: Harness;
const keeper = new HistoryKeeper();

beforeAll(async () => {
  // 0.01: a policy hour is 36 s, so nothing expires or breaches during these scenarios,
  // and verification intervals (30 s, 1 m) become 0.3-0.6 s.
  h = await startHarness({ timeScale: 0.01 });
});
afterAll(async () => {
  await h?.close();
});

test('critical vulnerability on an internet-facing prod host: contain after secops approval, PR, verify merged, release containment', async () => {
  const host = asset('pb-web-1');
  const id = await submit(
    h,
    detection({
      source: 'trivy',
      rule: 'CVE-2024-6387',
      severity: 'critical',
      category: 'vulnerability',
      asset: { id: host, environment: 'production', internetFacing: true },
      details: { repository: 'acme/web', package: 'openssh', fixedVersion: '9.8p1', manifestPath: 'app/package.json' },
    }),
  );

  const waiting = await waitFor(h, id, (s) => s.status === 'awaiting_approval' && step(s, 'critical-vuln-internet-prod.patch').status === 'done', 'awaiting approval, patch PR opened');
  expect(waiting.plan.playbook).toBe('critical-vuln-internet-prod');
  const contain = step(waiting, 'critical-vuln-internet-prod.contain');
  expect(contain.approval).toMatchObject({ groups: ['secops'], quorum: 1, onExpiry: 'escalate', approvedBy: [] });
  expect(h.systems.record.isolateCalls).not.toContain(host);
  // The release step only exists once containment happened.
  expect(waiting.plan.steps.map((x: any) => x.id)).not.toContain('critical-vuln-internet-prod.release');
  expect(step(waiting, 'critical-vuln-internet-prod.verify').status).toBe('pending');
  const patch = step(waiting, 'critical-vuln-internet-prod.patch');
  expect(patch.params).toMatchObject({ template: 'bump_package', repository: 'acme/web', package: 'openssh', fixedVersion: '9.8p1' });
  expect(patch.result).toMatchObject({ repository: 'acme/web', number: expect.any(Number) });
  const secops = notificationsFor(h.systems, id);
  expect(secops).toEqual([expect.objectContaining({ channel: 'secops', text: `Critical CVE-2024-6387 on internet-facing ${host} (risk 95)` })]);

  const ok = await approve(h, id, 'critical-vuln-internet-prod.contain', { approver: 'alice', groups: ['secops'], reason: 'exposed to the internet' });
  expect(ok.status).toBe(200);

  const done = await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(stepStatuses(done)).toEqual([
    ['critical-vuln-internet-prod.ticket', 'done'],
    ['critical-vuln-internet-prod.notify', 'done'],
    ['critical-vuln-internet-prod.contain', 'done'],
    ['critical-vuln-internet-prod.patch', 'done'],
    ['critical-vuln-internet-prod.verify', 'done'],
    ['critical-vuln-internet-prod.release', 'done'],
  ]);
  expect(step(done, 'critical-vuln-internet-prod.verify').result).toMatchObject({ verified: true });
  // Contained exactly once, and released at the end.
  expect(h.systems.record.isolateCalls.filter((a) => a === host)).toHaveLength(1);
  expect(h.systems.record.containments.get(host)).toBe('normal');
  expect(pullRequestsFor(h.systems, id)).toHaveLength(1);
  const tickets = ticketsFor(h.systems, host);
  expect(tickets).toHaveLength(1);
  expect(tickets[0].status).toBe('closed:remediated');
  expect(done.ticket).toMatchObject({ system: 'inprocess', ticketId: tickets[0].id });
  expect(done.resolution).toBe('remediated');
  expect(done.approvals).toEqual([expect.objectContaining({ approver: 'alice', decision: 'approve', via: 'update', stepId: 'critical-vuln-internet-prod.contain' })]);
  expect(done.decisions.map((d: any) => d.kind)).toEqual(expect.arrayContaining(['received', 'enriched', 'plan', 'sla', 'approval', 'step_started', 'step_done', 'final']));
  keeper.keep('critical-vuln-internet-prod', id);
});

test('ordinary vulnerability: ticket and a bump_package PR, verified merged, no containment', async () => {
  const host = asset('pb-api-1');
  const id = await submit(
    h,
    detection({
      source: 'trivy',
      rule: 'CVE-2024-21538',
      severity: 'high',
      category: 'vulnerability',
      asset: { id: host, environment: 'staging' },
      details: { repository: 'acme/api', package: 'cross-spawn', fixedVersion: '7.0.5' },
    }),
  );
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(done.plan.playbook).toBe('vulnerability');
  expect(stepStatuses(done)).toEqual([
    ['vulnerability.ticket', 'done'],
    ['vulnerability.patch', 'done'],
    ['vulnerability.verify', 'done'],
  ]);
  const prs = pullRequestsFor(h.systems, id);
  expect(prs).toHaveLength(1);
  expect(prs[0]).toMatchObject({ repository: 'acme/api', branch: expect.stringMatching(/^drw\/bump_package\//) });
  expect(step(done, 'vulnerability.patch').params).toMatchObject({ package: 'cross-spawn', fixedVersion: '7.0.5' });
  expect(h.systems.record.isolateCalls).not.toContain(host);
  const tickets = ticketsFor(h.systems, host);
  expect(tickets).toHaveLength(1);
  expect(tickets[0].status).toBe('closed:remediated');
  // A high vulnerability's exposure window is 7 days (scaled).
  expect(done.decisions.find((d: any) => d.kind === 'sla').summary).toMatch(/exposure window for high: 7d/);
});

test('cloud misconfiguration outside production: bucket and security group fixed by two IaC PRs without approval', async () => {
  const acct = asset('pb-acct-dev');
  const id = await submit(
    h,
    detection({
      source: 'securityhub',
      rule: 'S3.8-EC2.19',
      severity: 'high',
      category: 'misconfiguration',
      asset: { id: acct, type: 'cloud-account', environment: 'dev' },
      details: { repository: 'acme/infra', bucket: 'acme-dev-logs', securityGroup: 'sg-0abc' },
    }),
  );
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(done.plan.playbook).toBe('cloud-misconfiguration');
  expect(stepStatuses(done)).toEqual([
    ['cloud-misconfiguration.ticket', 'done'],
    ['cloud-misconfiguration.fix-bucket', 'done'],
    ['cloud-misconfiguration.fix-security-group', 'done'],
    ['cloud-misconfiguration.verify', 'done'],
  ]);
  expect(step(done, 'cloud-misconfiguration.fix-bucket').approval).toBeUndefined();
  expect(step(done, 'cloud-misconfiguration.fix-bucket').params).toEqual({ template: 's3_block_public_access', repository: 'acme/infra', bucket: 'acme-dev-logs' });
  expect(step(done, 'cloud-misconfiguration.fix-security-group').params).toEqual({ template: 'sg_remove_open_ingress', repository: 'acme/infra', securityGroup: 'sg-0abc' });
  const prs = pullRequestsFor(h.systems, id);
  expect(prs.map((p) => p.branch.split('/')[1]).sort()).toEqual(['s3_block_public_access', 'sg_remove_open_ingress']);
  expect(prs.every((p) => p.repository === 'acme/infra')).toBe(true);
  // Both PRs were checked by the verification.
  expect(step(done, 'cloud-misconfiguration.verify').result).toMatchObject({ verified: true });
  expect(step(done, 'cloud-misconfiguration.verify').result.notApplicable).toBeUndefined();
  expect(ticketsFor(h.systems, acct)).toEqual([expect.objectContaining({ status: 'closed:remediated' })]);
});

test('cloud misconfiguration in production: each IaC change waits for cloud-owners', async () => {
  const acct = asset('pb-acct-prod');
  const id = await submit(
    h,
    detection({
      source: 'securityhub',
      rule: 'S3.8-EC2.19',
      severity: 'critical',
      category: 'misconfiguration',
      asset: { id: acct, type: 'cloud-account', environment: 'prod' },
      details: { repository: 'acme/infra', bucket: 'acme-prod-data', securityGroup: 'sg-0prod' },
    }),
  );
  const bucket = 'cloud-misconfiguration.fix-bucket';
  const sg = 'cloud-misconfiguration.fix-security-group';
  const waiting = await waitFor(h, id, (s) => s.status === 'awaiting_approval' && step(s, 'cloud-misconfiguration.ticket').status === 'done', 'awaiting approval');
  expect(step(waiting, bucket)).toMatchObject({ status: 'awaiting_approval', approval: { groups: ['cloud-owners'], quorum: 1 } });
  expect(step(waiting, sg)).toMatchObject({ status: 'awaiting_approval', approval: { groups: ['cloud-owners'], quorum: 1 } });
  expect(step(waiting, 'cloud-misconfiguration.verify').status).toBe('pending');
  expect(pullRequestsFor(h.systems, id)).toHaveLength(0);

  const secops = await approve(h, id, bucket, { approver: 'sam', groups: ['secops'] });
  expect(secops.status).toBe(403);
  expect(secops.body.error).toMatch(/needs a member of \[cloud-owners\]/);

  const first = await approve(h, id, bucket, { approver: 'olga', groups: ['cloud-owners'], reason: 'public data bucket' });
  expect(first.status).toBe(200);
  const half = await waitFor(h, id, (s) => step(s, bucket).status === 'done', 'bucket fixed');
  expect(step(half, sg).status).toBe('awaiting_approval');
  expect(half.status).toBe('awaiting_approval');
  expect(pullRequestsFor(h.systems, id)).toHaveLength(1);

  const second = await approve(h, id, sg, { approver: 'olga', groups: ['cloud-owners'], reason: 'no 0.0.0.0/0 in prod' });
  expect(second.status).toBe(200);
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(stepStatuses(done).every(([, st]) => st === 'done')).toBe(true);
  expect(pullRequestsFor(h.systems, id)).toHaveLength(2);
  expect(done.approvals.map((a: any) => [a.stepId, a.approver])).toEqual([
    [bucket, 'olga'],
    [sg, 'olga'],
  ]);
  expect(ticketsFor(h.systems, acct)).toEqual([expect.objectContaining({ status: 'closed:remediated' })]);
  keeper.keep('cloud-misconfiguration-prod-approvals', id);
});

test('infrastructure alert: the runbook runs, then the remediation waits until the alert resolves', async () => {
  const node = asset('pb-node-1');
  const det = detection({
    source: 'alertmanager',
    rule: 'NginxDown',
    severity: 'high',
    category: 'infrastructure',
    asset: { id: node, environment: 'production' },
    details: { runbook: 'restart-nginx', service: 'nginx' },
  });
  const id = await submit(h, det);
  const verifying = await waitFor(h, id, statusIs('verifying'), 'verifying (waiting for the alert to resolve)');
  expect(step(verifying, 'infrastructure-alert.runbook')).toMatchObject({ status: 'done', params: { runbook: 'restart-nginx', service: 'nginx' } });
  expect(h.systems.record.runbooks).toContain(`restart-nginx@${node}`);
  // It does not close by itself: the verification waits for findingResolved.
  await new Promise((r) => setTimeout(r, 1000));
  expect((await waitFor(h, id, () => true, 'state')).status).toBe('verifying');

  const resolved = await http('POST', `${h.api}/v1/detections`, { ...det, status: 'resolved' });
  expect(resolved.status).toBe(202);
  expect(resolved.body.remediations[0]).toEqual({ id, outcome: 'signalled' });

  const done = await waitFor(h, id, statusIs('resolved'), 'resolved');
  expect(done.resolution).toBe('resolved_at_source');
  expect(stepStatuses(done)).toEqual([
    ['infrastructure-alert.ticket', 'done'],
    ['infrastructure-alert.runbook', 'done'],
    ['infrastructure-alert.verify', 'done'],
  ]);
  expect(h.systems.record.runbooks.filter((r) => r === `restart-nginx@${node}`)).toHaveLength(1);
  expect(ticketsFor(h.systems, node)).toEqual([expect.objectContaining({ status: 'closed:resolved' })]);
  expect(done.decisions.some((d: any) => d.kind === 'resolved_at_source')).toBe(true);
  keeper.keep('infrastructure-alert-resolved', id);

  // A resolution for a key with no open remediation is ignored, not started.
  const stray = await http('POST', `${h.api}/v1/detections`, { ...det, asset: { ...det.asset, id: asset('pb-node-unknown') }, status: 'resolved' });
  expect(stray.body.remediations[0].outcome).toBe('ignored');
});

test('triage: a detection no playbook matches gets a triage ticket and stays open for a person', async () => {
  const mailbox = asset('pb-mailbox-1');
  const det = detection({ source: 'msgraph', rule: 'SuspiciousInboxRule', severity: 'medium', category: 'phishing', asset: { id: mailbox, type: 'mailbox' } });
  const id = await submit(h, det);
  const s = await waitFor(h, id, (x) => step(x, 'triage.ticket').status === 'done', 'triage ticket opened');
  expect(s.plan.playbook).toBe('triage');
  expect(s.plan.steps.map((x: any) => x.id)).toEqual(['triage.ticket']);
  expect(step(s, 'triage.ticket').params).toEqual({ priority: 'medium', labels: ['triage'] });
  expect(s.decisions.find((d: any) => d.kind === 'plan').selection).toMatch(/playbook triage \(priority -100\)/);
  expect(h.systems.record.isolateCalls).not.toContain(mailbox);
  expect(pullRequestsFor(h.systems, id)).toHaveLength(0);

  // Nothing verified a fix: it is not "remediated", its ticket stays open, repeats go to the ticket.
  await new Promise((r) => setTimeout(r, 800));
  const open = await waitFor(h, id, () => true, 'state');
  expect(open.resolution).toBeUndefined();
  // Waiting for the ticket's owner: the status says so; nothing escalated it.
  expect(open.status).toBe('awaiting_owner');
  const [ticket] = ticketsFor(h.systems, mailbox);
  expect(ticket.status).toBe('open');
  const again = await http('POST', `${h.api}/v1/detections`, det);
  expect(again.body.remediations[0]).toEqual({ id, outcome: 'signalled' });
  await waitFor(h, id, (x) => x.findingCount === 2, 'two findings');
  await eventuallyComment(ticket, /1 more detection\(s\) of this finding \(2 in all\)/);

  const fp = await http('POST', `${h.api}/v1/remediations/${id}/false-positive`, { by: 'tina', reason: 'rule created by the user' });
  expect(fp.status).toBe(202);
  const done = await waitFor(h, id, statusIs('resolved'), 'resolved as a false positive');
  expect(done.resolution).toBe('false_positive');
  expect(ticketsFor(h.systems, mailbox)).toEqual([expect.objectContaining({ status: 'closed:false_positive' })]);
});

test('a vulnerability without a fixed version is ticketed and stays open until the scanner reports it fixed', async () => {
  const host = asset('pb-db-1');
  const det = detection({ source: 'trivy', rule: 'CVE-2024-9999', severity: 'medium', category: 'vulnerability', asset: { id: host, environment: 'staging' }, details: { package: 'libfoo' } });
  const id = await submit(h, det);
  const s = await waitFor(h, id, (x) => step(x, 'vulnerability.ticket').status === 'done', 'ticket opened');
  expect(s.plan.steps.map((x: any) => x.id)).toEqual(['vulnerability.ticket']);
  await new Promise((r) => setTimeout(r, 500));
  expect((await waitFor(h, id, () => true, 'state')).resolution).toBeUndefined();
  expect(ticketsFor(h.systems, host)).toEqual([expect.objectContaining({ status: 'open' })]);
  expect((await http('POST', `${h.api}/v1/detections`, { ...det, status: 'resolved' })).body.remediations[0].outcome).toBe('signalled');
  const done = await waitFor(h, id, statusIs('resolved'), 'resolved at the source');
  expect(done.resolution).toBe('resolved_at_source');
  expect(ticketsFor(h.systems, host)).toEqual([expect.objectContaining({ status: 'closed:resolved' })]);
});

test('a security group open to the world with no repository known: the fix is blocked and handed to a person, never remediated', async () => {
  const acct = asset('pb-acct-norepo');
  const id = await submit(
    h,
    detection({ source: 'securityhub', rule: 'EC2.19', severity: 'critical', category: 'misconfiguration', riskScore: 90, asset: { id: acct, type: 'cloud-account', environment: 'dev' }, details: { securityGroupId: 'sg-0def' } }),
  );
  const s = await waitFor(h, id, (x) => x.status === 'escalated' && x.plan.steps.filter((y: any) => y.reason.section === 'escalation').every((y: any) => y.status === 'done'), 'escalated with its reason');
  expect(step(s, 'cloud-misconfiguration.fix-security-group')).toMatchObject({ status: 'blocked', note: 'the change could not be previewed for review: no repository known for this asset (details.repository or the CMDB)' });
  expect(s.decisions.find((d: any) => d.kind === 'step_blocked')).toMatchObject({ stepId: 'cloud-misconfiguration.fix-security-group' });
  expect(s.decisions.find((d: any) => d.kind === 'escalation')).toMatchObject({ trigger: 'step_blocked' });
  expect(s.resolution).toBeUndefined();
  expect(pullRequestsFor(h.systems, id)).toHaveLength(0);
  expect(ticketsFor(h.systems, acct)).toEqual([expect.objectContaining({ status: 'open' })]);
});

async function eventuallyComment(ticket: { comments: string[] }, re: RegExp) {
  const end = Date.now() + 10_000;
  while (!ticket.comments.some((c) => re.test(c))) {
    if (Date.now() > end) throw new Error(`no ticket comment matching ${re}; comments: ${JSON.stringify(ticket.comments)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('histories of these scenarios replay against the current workflow code', async () => {
  expect(keeper.size).toBe(3);
  const { failures, histories } = await keeper.check(h);
  expect(failures).toEqual([]);
  expect(histories.every((x) => (x.history.events?.length ?? 0) > 20)).toBe(true);
});
