/**
 * Approvals and deadlines on the real server, with the test policy (test/fixtures/policies:
 * quorum 2, 2-4 s expiries, 3 s SLA) at time scale 1: quorum, unauthorized and self-approval
 * refused, duplicate approvers refused, approval expiry for each onExpiry, SLA breach
 * escalation, and the built-in triage fallback.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { generateKeyPairSync } from 'node:crypto';
import { signAssertion, signingKeyFromPem } from '../../governance/signer';
import { approveUpdate } from '../../signals';
import { http, startHarness, TEST_POLICY, type Harness } from '../helpers/harness';
import { HistoryKeeper } from '../helpers/histories';
import { approve, asset, detection, notificationsFor, operator, sleep, statusIs, step, stepStatuses, submit, ticketsFor, waitFor } from '../helpers/scenario';

let h: Harness;
const keeper = new HistoryKeeper();

/** Scenarios that wait for real seconds (expiries, SLA) start together, before the tests that check them. */
const early: Record<'deny' | 'escalate' | 'sla' | 'slaApproval' | 'slaVerify', { id: string; host: string }> = {} as never;

beforeAll(async () => {
  h = await startHarness({ policyDir: TEST_POLICY, timeScale: 1 });
  const start = async (key: keyof typeof early, host: string, det: ReturnType<typeof detection>) => {
    early[key] = { id: await submit(h, det), host };
  };
  await Promise.all([
    start('deny', asset('ap-exp-deny'), detection({ rule: 'E-1', category: 'expiry-deny', asset: { id: asset('ap-exp-deny') } })),
    start('escalate', asset('ap-exp-esc'), detection({ rule: 'E-2', category: 'expiry-escalate', asset: { id: asset('ap-exp-esc') } })),
    start('sla', asset('ap-sla-1'), detection({ rule: 'S-1', category: 'sla-test', severity: 'high', riskScore: 10, asset: { id: asset('ap-sla-1') } })),
    start('slaApproval', asset('ap-sla-2'), detection({ rule: 'S-2', category: 'sla-test', severity: 'critical', riskScore: 95, asset: { id: asset('ap-sla-2') } })),
    start('slaVerify', asset('ap-sla-3'), detection({ rule: 'S-3', category: 'sla-verify-test', severity: 'high', asset: { id: asset('ap-sla-3') } })),
  ]);
});

const decisionAt = (s: any, re: RegExp) => {
  const d = s.decisions.find((x: any) => re.test(x.summary));
  if (!d) throw new Error(`no decision matching ${re}`);
  return d as { seq: number; at: string; summary: string };
};
afterAll(async () => {
  await h?.close();
});

const contained = (host: string) => h.systems.record.isolateCalls.filter((a) => a === host).length;

test('quorum 2: one approval keeps it waiting, a second distinct approver runs it; unauthorized, self and repeated approvals are refused', async () => {
  const host = asset('ap-quorum-1');
  const id = await submit(h, detection({ source: 'quorum-src', rule: 'Q-1', category: 'quorum-test', asset: { id: host } }));
  const stepId = 'quorum.contain';
  const waiting = await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  expect(step(waiting, stepId)).toMatchObject({ status: 'awaiting_approval', requestedBy: 'api:quorum-src', approval: { groups: ['secops'], quorum: 2, approvedBy: [] } });

  const outsider = await approve(h, id, stepId, { approver: 'mallory', groups: ['devs'] });
  expect(outsider.status).toBe(403);
  expect(outsider.body.error).toMatch(/mallory may not approve step "quorum.contain": it needs a member of \[secops\]/);

  // The identity that submitted the detection (the API's default: api:<source>) may not approve.
  const self = await approve(h, id, stepId, { approver: 'api:quorum-src', groups: ['secops'] });
  expect(self.status).toBe(403);
  expect(self.body.error).toMatch(/may not approve their own change/);

  const first = await approve(h, id, stepId, { approver: 'alice', groups: ['secops'], reason: 'first look' });
  expect(first.status).toBe(200);
  const afterFirst = first.body.plan.steps.find((x: any) => x.id === stepId);
  expect(afterFirst).toMatchObject({ status: 'awaiting_approval', note: '1/2 approvals', approval: { approvedBy: ['alice'] } });

  const again = await approve(h, id, stepId, { approver: 'Alice', groups: ['secops'], reason: 'me again' });
  expect(again.status).toBe(409);
  expect(again.body.error).toMatch(/already approved step "quorum.contain"; quorum needs distinct approvers/);

  // Straight to Temporal (write access to the namespace), as bob, with the digest: without the API's signed assertion it does not count.
  const handle = h.app.service.handle(id);
  const digest = afterFirst.digest;
  expect(digest).toMatch(/^[0-9a-f]{64}$/);
  const viaClient = handle.executeUpdate(approveUpdate, { args: [{ stepId, approver: 'bob', groups: ['secops'], reason: 'sneaky', digest }] });
  await expect(viaClient).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
  await expect(viaClient).rejects.toMatchObject({ cause: { type: 'Unauthorized', message: expect.stringMatching(/unsigned approve does not count/) } });
  // Nor does an assertion it made itself, with a key of its own.
  const forged = signAssertion(signingKeyFromPem(generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string), {
    v: 1, wf: id, step: stepId, digest, decision: 'approve', approver: 'bob', groups: ['secops'], reason: 'sneaky', iat: Date.now(),
  });
  await expect(handle.executeUpdate(approveUpdate, { args: [{ stepId, approver: 'bob', groups: ['secops'], reason: 'sneaky', digest, assertion: forged }] })).rejects.toMatchObject({
    cause: { type: 'Unauthorized', message: expect.stringMatching(/does not trust/) },
  });
  // Through the API the requester still may not approve their own change.
  const selfApproval = await approve(h, id, stepId, { approver: 'api:quorum-src', groups: ['secops'], reason: 'sneaky' });
  expect([selfApproval.status, selfApproval.body.error]).toEqual([403, expect.stringMatching(/may not approve their own change/)]);
  // A digest the approver saw that is no longer the step's: 409 with the step as it is now.
  const stale = await approve(h, id, stepId, { approver: 'bob', groups: ['secops'], reason: 'old view', digest: 'e'.repeat(64) });
  expect(stale.status).toBe(409);
  expect(stale.body.details).toMatchObject({ type: 'DigestMismatch', step: { id: stepId, digest } });

  await sleep(500);
  const still = await waitFor(h, id, () => true, 'state');
  expect(still.status).toBe('awaiting_approval');
  expect(contained(host)).toBe(0);
  // Refused updates leave no approval behind.
  expect(still.approvals.map((a: any) => a.approver)).toEqual(['alice']);

  const second = await approve(h, id, stepId, { approver: 'bob', groups: ['secops'], reason: 'confirmed' });
  expect(second.status).toBe(200);
  expect(second.body.plan.steps.find((x: any) => x.id === stepId)).toMatchObject({ status: 'pending', note: 'approved by alice, bob' });

  const done = await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(stepStatuses(done)).toEqual([
    ['quorum.ticket', 'done'],
    ['quorum.contain', 'done'],
    ['quorum.verify', 'done'],
  ]);
  expect(contained(host)).toBe(1);
  expect(done.approvals.map((a: any) => [a.approver, a.decision, a.via])).toEqual([
    ['alice', 'approve', 'update'],
    ['bob', 'approve', 'update'],
  ]);
  // Once closed nothing can be approved (the API answers 404 for a closed workflow's update).
  const late = await approve(h, id, stepId, { approver: 'carol', groups: ['secops'] });
  expect([404, 409]).toContain(late.status);
  expect(ticketsFor(h.systems, host)).toEqual([expect.objectContaining({ status: 'closed:remediated' })]);
  keeper.keep('quorum-approvals', id);
});

test('approval expiry with onExpiry deny: the step is skipped after 2 s, nothing is contained, and nothing is called remediated', async () => {
  const { id, host } = early.deny;
  const done = await waitFor(h, id, (x) => x.status === 'escalated' && step(x, 'expiry-deny.verification_failed.page').status === 'done', 'handed to a person after the denial', 15_000);
  expect(step(done, 'expiry-deny.contain')).toMatchObject({ status: 'skipped', note: expect.stringMatching(/^denied by drw:expiry/) });
  expect(done.approvals).toEqual([expect.objectContaining({ approver: 'drw:expiry', decision: 'deny', via: 'expiry' })]);
  // Denied when the 2 s ran out, not before (workflow clock: from the plan that asked for it).
  const asked = Date.parse(decisionAt(done, /^plan v1: initial plan/).at);
  expect(Date.parse(done.approvals[0].at) - asked).toBeGreaterThanOrEqual(2000);
  expect(decisionAt(done, /approval of expiry-deny.contain expired: denied by policy/)).toMatchObject({ kind: 'approval_expired', onExpiry: 'deny', by: 'drw:expiry' });
  // Nothing was contained, so nothing can be verified: a person takes it from here, with the reason.
  expect(step(done, 'expiry-deny.verify')).toMatchObject({ status: 'failed', note: 'not verified: host_contained: the host was not contained' });
  expect(done.resolution).toBeUndefined();
  expect(contained(host)).toBe(0);
});

test('approval expiry with onExpiry escalate: the escalation steps run and the step still waits for its approvers', async () => {
  const { id, host } = early.escalate;
  const escalated = await waitFor(h, id, (s) => s.plan.steps.some((x: any) => x.id === 'expiry-escalate.approval_expired.page' && x.status === 'done'), 'escalation page done', 15_000);
  expect(escalated.status).toBe('awaiting_approval');
  expect(step(escalated, 'expiry-escalate.contain').status).toBe('awaiting_approval');
  expect(step(escalated, 'expiry-escalate.approval_expired.page').reason).toMatchObject({ section: 'escalation', trigger: 'approval_expired' });
  expect(notificationsFor(h.systems, id)).toEqual([expect.objectContaining({ channel: 'oncall', text: `[escalation] approval for ${host} expired` })]);
  const [ticket] = ticketsFor(h.systems, host);
  expect(ticket.comments).toContain('drw escalation: approval for ' + host + ' expired');
  expect(escalated.decisions.some((d: any) => /escalation \(approval_expired\)/.test(d.summary))).toBe(true);
  expect(contained(host)).toBe(0);

  expect((await approve(h, id, 'expiry-escalate.contain', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  expect((await approve(h, id, 'expiry-escalate.contain', { approver: 'bob', groups: ['secops'] })).status).toBe(200);
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(step(done, 'expiry-escalate.contain').status).toBe('done');
  expect(contained(host)).toBe(1);
  // Escalated once only.
  expect(notificationsFor(h.systems, id)).toHaveLength(1);
});

test('approval expiry with onExpiry auto_approve: the policy approves the whole quorum and the step runs', async () => {
  const host = asset('ap-exp-auto');
  const id = await submit(h, detection({ rule: 'E-3', category: 'expiry-auto-approve', asset: { id: host } }));
  const waiting = await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  expect(step(waiting, 'expiry-auto-approve.contain').approval).toMatchObject({ quorum: 2, onExpiry: 'auto_approve', expiresAfterMs: 4000 });
  expect((await approve(h, id, 'expiry-auto-approve.contain', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated', 15_000);
  expect(done.approvals.map((a: any) => [a.approver, a.via])).toEqual([
    ['alice', 'update'],
    ['drw:expiry#2', 'expiry'],
  ]);
  expect(step(done, 'expiry-auto-approve.contain')).toMatchObject({ status: 'done', approval: { approvedBy: ['alice', 'drw:expiry#2'] } });
  expect(done.decisions.some((d: any) => d.kind === 'approval_expired' && d.onExpiry === 'auto_approve' && /expired: auto-approved by policy/.test(d.summary))).toBe(true);
  expect(contained(host)).toBe(1);
  keeper.keep('approval-expiry-auto-approve', id);
});

test('SLA breach: after its 3 s exposure window the escalation steps run and the remediation is escalated', async () => {
  const { id, host } = early.sla;
  const escalated = await waitFor(h, id, statusIs('escalated'), 'escalated', 15_000);
  expect(escalated.slaBreached).toBe(true);
  expect(stepStatuses(escalated)).toEqual([
    ['sla.ticket', 'done'],
    ['sla.sla_breached.page', 'done'],
    ['sla.sla_breached.bump', 'done'],
  ]);
  // The breach came at the deadline (3 s after the detection), and the page only after it.
  const window = decisionAt(escalated, /^exposure window for high: 3s \(until /);
  const breach = decisionAt(escalated, /^escalation \(sla_breached\): exposure window ended/);
  expect(Date.parse(breach.at)).toBeGreaterThanOrEqual(Date.parse(escalated.slaDeadline));
  expect(Date.parse(escalated.slaDeadline) - Date.parse(decisionAt(escalated, /^detection received/).at)).toBeLessThanOrEqual(3000);
  expect(decisionAt(escalated, /^sla.sla_breached.page started/).seq).toBeGreaterThan(breach.seq);
  expect(breach.seq).toBeGreaterThan(window.seq);
  expect(notificationsFor(h.systems, id)).toEqual([expect.objectContaining({ channel: 'oncall', text: `[escalation] S-1 on ${host} passed its exposure window` })]);
  const [ticket] = ticketsFor(h.systems, host);
  expect(ticket.status).toBe('open');
  expect(ticket.comments).toEqual(expect.arrayContaining(['drw test: SLA breached', `drw escalation: S-1 on ${host} passed its exposure window`]));

  // An escalated remediation waits for a person or the source.
  const det = detection({ rule: 'S-1', category: 'sla-test', severity: 'high', riskScore: 10, asset: { id: host } });
  expect((await http('POST', `${h.api}/v1/detections`, { ...det, status: 'resolved' })).body.remediations[0]).toEqual({ id, outcome: 'signalled' });
  const done = await waitFor(h, id, statusIs('resolved'), 'resolved');
  expect(done.resolution).toBe('resolved_at_source');
  expect(ticketsFor(h.systems, host)).toEqual([expect.objectContaining({ status: 'closed:resolved' })]);
  keeper.keep('sla-breach-escalation', id);
});

test('SLA breach while a step awaits approval: escalation runs at once, the step keeps waiting for its approver', async () => {
  const { id, host } = early.slaApproval;
  const s = await waitFor(h, id, (x) => x.slaBreached && x.plan.steps.length === 4 && x.plan.steps.every((y: any) => y.reason.section !== 'escalation' || y.status === 'done'), 'SLA escalation done', 15_000);
  expect(s.status).toBe('awaiting_approval');
  expect(step(s, 'sla.contain').status).toBe('awaiting_approval');
  expect(notificationsFor(h.systems, id).map((n) => n.text)).toEqual([`[escalation] S-2 on ${host} passed its exposure window`]);
  expect(contained(host)).toBe(0);
  expect((await approve(h, id, 'sla.contain', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  await waitFor(h, id, (x) => step(x, 'sla.contain').status === 'done', 'contained');
  expect(contained(host)).toBe(1);
  expect((await operator(h, id, 'cancel', 'oscar', 'handled by hand')).status).toBe(202);
  const done = await waitFor(h, id, statusIs('cancelled'), 'cancelled');
  // sla.contain has no compensation in this policy: nothing is released.
  expect(step(done, 'sla.contain').status).toBe('done');
  expect(h.systems.record.containments.get(host)).toBe('contained');
});

test('SLA breach during a long verification: the escalation runs at the deadline, not when the verification ends', async () => {
  const { id, host } = early.slaVerify;
  const s = await waitFor(h, id, (x) => x.slaBreached && x.plan.steps.some((y: any) => y.id === 'sla-verify.sla_breached.page' && y.status === 'done'), 'SLA escalation done', 15_000);
  // Still verifying (its deadline is 40 s): the page did not wait for the verification to end.
  expect(s.status).toBe('verifying');
  expect(step(s, 'sla-verify.verify').status).toBe('running');
  // At the deadline (give or take a loaded machine), far from the verification's own 40 s deadline.
  const breach = decisionAt(s, /^escalation \(sla_breached\)/);
  expect(Date.parse(breach.at) - Date.parse(s.slaDeadline)).toBeLessThan(10_000);
  expect(Date.parse(decisionAt(s, /^sla-verify.sla_breached.page done/).at) - Date.parse(decisionAt(s, /^sla-verify.verify started/).at)).toBeLessThan(15_000);
  expect(notificationsFor(h.systems, id)).toEqual([expect.objectContaining({ channel: 'oncall', text: `[escalation] S-3 on ${host} is still open after its exposure window` })]);
  expect(ticketsFor(h.systems, host)[0].comments).toContain(`drw escalation: S-3 on ${host} is still open after its exposure window`);

  await h.app.service.resolved(id, 'monitor', 'check green again');
  const done = await waitFor(h, id, statusIs('resolved'), 'resolved');
  expect(step(done, 'sla-verify.verify')).toMatchObject({ status: 'done', result: { verified: true } });
  expect(notificationsFor(h.systems, id)).toHaveLength(1);
  expect(ticketsFor(h.systems, host)).toEqual([expect.objectContaining({ status: 'closed:resolved' })]);
  keeper.keep('sla-breach-during-verification', id);
});

test('built-in triage: with no matching playbook in the policy, a triage ticket is opened and the remediation waits', async () => {
  const host = asset('ap-unmatched');
  const id = await submit(h, detection({ rule: 'X-1', category: 'nothing-matches-this', asset: { id: host } }));
  const s = await waitFor(h, id, (x) => x.plan.steps[0]?.status === 'done', 'triage ticket');
  expect(s.plan.playbook).toBe('builtin-triage');
  expect(stepStatuses(s)).toEqual([['builtin-triage.triage-ticket', 'done']]);
  expect(s.decisions.find((d: any) => d.kind === 'plan').selection).toBe('no playbook matched; built-in triage');
  await sleep(300);
  expect((await waitFor(h, id, () => true, 'state')).resolution).toBeUndefined();
  expect((await operator(h, id, 'cancel')).status).toBe(202);
  await waitFor(h, id, statusIs('cancelled'), 'cancelled');
  expect(ticketsFor(h.systems, host)).toEqual([expect.objectContaining({ status: 'closed:cancelled' })]);
});

test('histories of these scenarios replay against the current workflow code', async () => {
  expect(keeper.size).toBe(4);
  const { failures } = await keeper.check(h);
  expect(failures).toEqual([]);
});
