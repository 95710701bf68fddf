/**
 * A re-plan for each kind of message a running remediation accepts (signals/index.ts):
 * riskScoreChanged, findingAdded, findingResolved, policyUpdated, approve/deny (updates and
 * fire-and-forget signals), pause/resume, cancel (with compensation) and falsePositive.
 * Default policy, from a copy in a temp folder so the policyUpdated scenario can edit it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPolicyDir } from '../../planner/load';
import { approveSignal, denySignal } from '../../signals';
import { DEFAULT_POLICY, http, startHarness, type Harness } from '../helpers/harness';
import { HistoryKeeper, eventTypes } from '../helpers/histories';
import {
  approve,
  asset,
  deny,
  detection,
  notificationsFor,
  operator,
  sleep,
  statusIs,
  step,
  stepStatuses,
  submit,
  ticketsFor,
  waitFor,
} from '../helpers/scenario';

let h: Harness;
let policyDir: string;
const keeper = new HistoryKeeper();

beforeAll(async () => {
  policyDir = mkdtempSync(path.join(process.env.DRW_TEST_TMP ?? os.tmpdir(), 'drw-policy-'));
  cpSync(DEFAULT_POLICY, policyDir, { recursive: true });
  // Pull requests stay open for a minute, so a critical vulnerability stays in verification
  // (contained) long enough to be cancelled or marked a false positive.
  // Time scale 0.01: approvals expire after 36 s (edr-malware: 1h), SLAs are minutes away.
  // The unsigned signal path (loopback default, explicit setting): these scenarios send raw signals.
  h = await startHarness({ policyDir, timeScale: 0.01, inprocess: { autoMergeAfterMs: 60_000 }, env: { DRW_UNSIGNED_APPROVALS: 'allow' } });
});
afterAll(async () => {
  await h?.close();
  if (policyDir) rmSync(policyDir, { recursive: true, force: true });
});

const malware = (host: string, riskScore: number, severity: 'high' | 'critical' = 'high') =>
  detection({ source: 'crowdstrike', rule: 'Trojan.Msg', severity, category: 'malware', riskScore, asset: { id: host, environment: 'production' } });

const criticalVuln = (host: string) =>
  detection({
    source: 'trivy',
    rule: 'CVE-2024-3094',
    severity: 'critical',
    category: 'vulnerability',
    asset: { id: host, environment: 'production', internetFacing: true },
    details: { repository: 'acme/edge', package: 'xz-utils', fixedVersion: '5.6.2' },
  });

const CONTAIN = 'edr-malware.contain';
const contained = (host: string) => h.systems.record.isolateCalls.filter((a) => a === host).length;
const planDecisions = (s: any) => s.decisions.filter((d: any) => d.kind === 'plan');

test('riskScoreChanged: a drop re-plans the step parameters and keeps the approval; a jump to 90+ contains without it', async () => {
  const host = asset('msg-risk-1');
  const id = await submit(h, malware(host, 60));
  const waiting = await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  const v1 = waiting.plan.version;
  expect(step(waiting, CONTAIN).params.comment).toBe(`drw: Trojan.Msg on ${host} (risk 60)`);

  expect((await http('POST', `${h.api}/v1/remediations/${id}/risk`, { riskScore: 30, reason: 'sandbox says adware', by: 'analyst-1' })).status).toBe(202);
  const dropped = await waitFor(h, id, (s) => s.riskScore === 30, 'risk 30');
  expect(dropped.status).toBe('awaiting_approval');
  expect(dropped.plan.version).toBe(v1 + 1);
  expect(step(dropped, CONTAIN)).toMatchObject({ status: 'awaiting_approval', params: { comment: `drw: Trojan.Msg on ${host} (risk 30)` } });
  const drop = planDecisions(dropped).find((d: any) => /risk score 60 → 30/.test(d.summary));
  expect(drop.by).toBe('analyst-1');
  expect(drop.diff).toEqual(expect.arrayContaining([expect.objectContaining({ step: CONTAIN, change: 'params' })]));
  expect(contained(host)).toBe(0);

  expect((await http('POST', `${h.api}/v1/remediations/${id}/risk`, { riskScore: 97, reason: 'ransomware note found' })).status).toBe(202);
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated');
  const jump = planDecisions(done).find((d: any) => /risk score 30 → 97/.test(d.summary));
  expect(jump.diff).toEqual(expect.arrayContaining([expect.objectContaining({ step: CONTAIN, change: 'status', from: 'awaiting_approval', to: 'pending' })]));
  expect(step(done, CONTAIN).approval).toBeUndefined();
  expect(contained(host)).toBe(1);
  // An out-of-range score is ignored by the API before it reaches the workflow.
  expect((await http('POST', `${h.api}/v1/remediations/${id}/risk`, { riskScore: 101, reason: 'x' })).status).toBe(400);
});

test('a message that leaves the next wake where it was keeps the wake-up timer: no TimerCanceled and TimerStarted pair per message', async () => {
  const host = asset('msg-risk-timer');
  const id = await submit(h, malware(host, 60));
  const waiting = await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  const timerEvents = async () => {
    const types = eventTypes(await h.app.service.handle(id).fetchHistory());
    return { started: types.filter((t) => t === 'EVENT_TYPE_TIMER_STARTED').length, cancelled: types.filter((t) => t === 'EVENT_TYPE_TIMER_CANCELED').length };
  };
  const before = await timerEvents();
  expect(before.started).toBeGreaterThan(0);
  // Each drop re-plans the step's parameters; the approval it awaits, and so when the run next wakes, stay.
  for (const [i, riskScore] of [55, 50, 45].entries()) {
    expect((await http('POST', `${h.api}/v1/remediations/${id}/risk`, { riskScore, reason: `re-scored ${i}`, by: 'analyst-1' })).status).toBe(202);
    const replanned = await waitFor(h, id, (s) => s.riskScore === riskScore, `risk ${riskScore}`);
    expect(replanned.plan.version).toBe(waiting.plan.version + i + 1);
    expect(replanned.status).toBe('awaiting_approval');
  }
  expect(await timerEvents()).toEqual(before);
  // A denial moves the loop on: the timer it kept for the approval goes, and the run closes.
  expect((await deny(h, id, CONTAIN, { approver: 'alice', groups: ['secops'], reason: 'not this host' })).status).toBe(200);
  await waitFor(h, id, statusIs('escalated'), 'escalated');
  expect((await timerEvents()).cancelled).toBe(before.cancelled + 1);
  keeper.keep('risk-changes-keep-wake-timer', id);
});

test('findingAdded: a repeat never starts a second remediation; the worst severity wins and the ticket is told about repeats', async () => {
  const host = asset('msg-repeat-1');
  const first = malware(host, 40);
  const id = await submit(h, first);
  await waitFor(h, id, (s) => s.status === 'awaiting_approval' && s.ticket, 'awaiting approval with a ticket');
  const before = await waitFor(h, id, () => true, 'state');
  expect(before.decisions.filter((d: any) => d.kind === 'sla').map((d: any) => d.summary)).toEqual([expect.stringMatching(/^exposure window for high: 1d/)]);

  for (const sev of ['high', 'critical', 'medium'] as const) {
    const r = await http('POST', `${h.api}/v1/detections`, { ...first, severity: sev });
    expect(r.body.remediations[0]).toEqual({ id, outcome: 'signalled' });
  }
  const s = await waitFor(h, id, (x) => x.findingCount === 4, 'four findings');
  expect(s.severity).toBe('critical');
  expect(s.plan.steps.filter((x: any) => x.action === 'ticket.open')).toHaveLength(1);
  // The critical repeat brought the SLA closer (4h for critical malware).
  expect(s.decisions.filter((d: any) => d.kind === 'sla').map((d: any) => d.summary)).toEqual([
    expect.stringMatching(/^exposure window for high: 1d/),
    expect.stringMatching(/^exposure window for critical: 4h/),
  ]);
  // The log notes the first repeats (then every 100th): #1 and #2 here.
  expect(s.decisions.filter((d: any) => d.kind === 'repeat').map((d: any) => d.summary)).toEqual([
    expect.stringMatching(/^repeat #1 of this finding \(crowdstrike\/Trojan.Msg\)/),
    expect.stringMatching(/^repeat #2 /),
  ]);

  const tickets = ticketsFor(h.systems, host);
  expect(tickets).toHaveLength(1);
  await waitFor(h, id, () => tickets[0].comments.some((c) => /more detection\(s\) of this finding \(4 in all\)/.test(c)), 'repeats reported to the ticket');
  expect(tickets[0].comments.join('\n')).toMatch(/No second remediation was started/);

  expect((await approve(h, id, CONTAIN, { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(contained(host)).toBe(1);
  expect(ticketsFor(h.systems, host)).toHaveLength(1);
});

test('findingResolved while awaiting approval: containment is withdrawn and the remediation ends resolved', async () => {
  const host = asset('msg-resolved-1');
  const det = malware(host, 50);
  const id = await submit(h, det);
  await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  expect((await http('POST', `${h.api}/v1/detections`, { ...det, status: 'resolved' })).body.remediations[0]).toEqual({ id, outcome: 'signalled' });
  const done = await waitFor(h, id, statusIs('resolved'), 'resolved');
  expect(done.resolution).toBe('resolved_at_source');
  expect(step(done, CONTAIN)).toMatchObject({ status: 'skipped', note: 'finding resolved at the source' });
  expect(step(done, 'edr-malware.notify').status).toBe('done');
  expect(contained(host)).toBe(0);
  expect(ticketsFor(h.systems, host)).toEqual([expect.objectContaining({ status: 'closed:resolved' })]);
});

test('approve and deny updates over HTTP: 200, 403 (group, self) and 409 (not awaiting approval)', async () => {
  const host = asset('msg-deny-1');
  const id = await submit(h, malware(host, 55));
  await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');

  const outsider = await deny(h, id, CONTAIN, { approver: 'mallory', groups: ['devs'] });
  expect(outsider.status).toBe(403);
  const self = await deny(h, id, CONTAIN, { approver: 'api:crowdstrike', groups: ['secops'] });
  expect(self.status).toBe(403);
  expect(self.body.error).toMatch(/may not deny their own change/);
  const unknown = await approve(h, id, 'edr-malware.nope', { approver: 'alice', groups: ['secops'] });
  expect(unknown.status).toBe(409);
  expect(unknown.body.error).toMatch(/unknown step "edr-malware.nope"/);
  const notWaiting = await approve(h, id, 'edr-malware.ticket', { approver: 'alice', groups: ['secops'] });
  expect(notWaiting.status).toBe(409);
  expect(notWaiting.body.error).toMatch(/not awaiting approval/);

  const denied = await deny(h, id, CONTAIN, { approver: 'alice', groups: ['secops'], reason: 'business-critical host; reimage tonight instead' });
  expect(denied.status).toBe(200);
  expect(denied.body.plan.steps.find((x: any) => x.id === CONTAIN)).toMatchObject({ status: 'skipped', approval: { deniedBy: 'alice' } });
  const again = await approve(h, id, CONTAIN, { approver: 'bob', groups: ['secops'] });
  expect(again.status).toBe(409);

  // Denied: nothing was contained, so nothing is called remediated; a person takes it with the reason.
  const done = await waitFor(h, id, statusIs('escalated'), 'escalated without containment');
  expect(step(done, 'edr-malware.verify')).toMatchObject({ status: 'failed', note: 'not verified: host_contained: the host was not contained' });
  expect(contained(host)).toBe(0);
  expect(done.approvals).toEqual([expect.objectContaining({ approver: 'alice', decision: 'deny', via: 'update' })]);
  expect(done.decisions.some((d: any) => d.kind === 'approval' && d.decision === 'deny' && d.by === 'alice')).toBe(true);
});

test('approve and deny as fire-and-forget signals: refusals are logged as "rejected", a valid signal decides', async () => {
  const host = asset('msg-signal-1');
  const id = await submit(h, malware(host, 65));
  await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  const handle = h.app.service.handle(id);
  await handle.signal(approveSignal, { stepId: CONTAIN, approver: 'mallory', groups: ['devs'], reason: 'let me' });
  await handle.signal(approveSignal, { stepId: CONTAIN, approver: 'api:crowdstrike', groups: ['secops'], reason: 'my own' });
  await handle.signal(denySignal, { stepId: 'edr-malware.nope', approver: 'alice', groups: ['secops'], reason: 'typo' });
  await handle.signal(approveSignal, { stepId: CONTAIN, approver: '', groups: [], reason: '' } as never);
  const refused = await waitFor(h, id, (s) => s.decisions.filter((d: any) => d.kind === 'rejected').length === 4, 'four rejections');
  const rejected = refused.decisions.filter((d: any) => d.kind === 'rejected').map((d: any) => d.summary);
  expect(rejected).toEqual([
    expect.stringMatching(/^approve signal refused: mallory may not approve step "edr-malware.contain": it needs a member of \[secops\]/),
    expect.stringMatching(/^approve signal refused: api:crowdstrike requested step "edr-malware.contain" and may not approve their own change/),
    expect.stringMatching(/^deny signal refused: unknown step "edr-malware.nope"/),
    expect.stringMatching(/^approve signal refused: invalid approve: /),
  ]);
  expect(refused.status).toBe('awaiting_approval');
  expect(refused.approvals).toEqual([]);
  expect(contained(host)).toBe(0);

  await handle.signal(approveSignal, { stepId: CONTAIN, approver: 'alice', groups: ['secops'], reason: 'confirmed by signal' });
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(done.approvals).toEqual([expect.objectContaining({ approver: 'alice', decision: 'approve', via: 'signal' })]);
  expect(contained(host)).toBe(1);
  keeper.keep('approval-signals-with-rejections', id);

  // And a deny signal on another remediation skips the step.
  const other = asset('msg-signal-2');
  const id2 = await submit(h, malware(other, 65));
  await waitFor(h, id2, statusIs('awaiting_approval'), 'awaiting approval');
  await h.app.service.handle(id2).signal(denySignal, { stepId: CONTAIN, approver: 'bob', groups: ['SecOps'], reason: 'false alarm likely' });
  const done2 = await waitFor(h, id2, statusIs('escalated'), 'escalated: nothing contained, nothing verified');
  expect(step(done2, CONTAIN)).toMatchObject({ status: 'skipped', note: 'denied by bob: false alarm likely' });
  expect(done2.approvals).toEqual([expect.objectContaining({ approver: 'bob', decision: 'deny', via: 'signal' })]);
  expect(contained(other)).toBe(0);
});

test('pause and resume: no step starts while paused, and the remediation continues after resume', async () => {
  const host = asset('msg-pause-1');
  const id = await submit(h, malware(host, 70));
  await waitFor(h, id, (s) => s.status === 'awaiting_approval' && step(s, 'edr-malware.notify').status === 'done', 'awaiting approval, secops notified');
  expect((await operator(h, id, 'pause', 'oscar', 'change freeze')).status).toBe(202);
  await waitFor(h, id, statusIs('paused'), 'paused');
  // Approving while paused is recorded but nothing runs.
  expect((await approve(h, id, CONTAIN, { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  await sleep(1000);
  const paused = await waitFor(h, id, () => true, 'state');
  expect(paused.status).toBe('paused');
  expect(step(paused, CONTAIN).status).toBe('pending');
  expect(step(paused, 'edr-malware.verify').status).toBe('pending');
  expect(contained(host)).toBe(0);
  // Only the notification sent before the pause (notify needs no approval).
  expect(notificationsFor(h.systems, id)).toHaveLength(1);

  expect((await operator(h, id, 'resume', 'oscar', 'freeze over')).status).toBe(202);
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(contained(host)).toBe(1);
  const ops = done.decisions.filter((d: any) => d.kind === 'operator').map((d: any) => d.summary);
  expect(ops).toEqual(['paused by oscar: change freeze', 'resumed by oscar: freeze over']);
  // The step started after the resume, not before.
  const resumedAt = done.decisions.find((d: any) => d.summary.startsWith('resumed by')).seq;
  const startedAt = done.decisions.find((d: any) => d.summary === `${CONTAIN} started (endpoint.isolate)`).seq;
  expect(startedAt).toBeGreaterThan(resumedAt);
  keeper.keep('pause-resume', id);
});

test('cancel during verification: the contained host is released (compensated) and the ticket closed as cancelled', async () => {
  const host = asset('msg-cancel-1');
  const id = await submit(h, criticalVuln(host));
  await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  expect((await approve(h, id, 'critical-vuln-internet-prod.contain', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  await waitFor(h, id, statusIs('verifying'), 'verifying (PR not merged yet)');
  expect(h.systems.record.containments.get(host)).toBe('contained');

  expect((await operator(h, id, 'cancel', 'oscar', 'patched by hand')).status).toBe(202);
  const done = await waitFor(h, id, statusIs('cancelled'), 'cancelled');
  expect(done.resolution).toBe('cancelled');
  expect(step(done, 'critical-vuln-internet-prod.contain')).toMatchObject({ status: 'compensated', note: 'compensated by endpoint.release' });
  expect(step(done, 'critical-vuln-internet-prod.verify').status).toBe('cancelled');
  expect(h.systems.record.containments.get(host)).toBe('normal');
  expect(done.decisions.some((d: any) => d.kind === 'compensated' && d.action === 'endpoint.release' && /contain compensated with endpoint.release/.test(d.summary))).toBe(true);
  expect(ticketsFor(h.systems, host)).toEqual([expect.objectContaining({ status: 'closed:cancelled' })]);
  keeper.keep('cancel-with-compensation', id);
});

test('falsePositive after containment: containment is lifted and the remediation resolves as a false positive', async () => {
  const host = asset('msg-fp-1');
  const id = await submit(h, criticalVuln(host));
  await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  expect((await approve(h, id, 'critical-vuln-internet-prod.contain', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  await waitFor(h, id, statusIs('verifying'), 'verifying');
  expect((await operator(h, id, 'false-positive', 'fiona', 'package not installed')).status).toBe(202);
  const done = await waitFor(h, id, statusIs('resolved'), 'resolved');
  expect(done.resolution).toBe('false_positive');
  expect(step(done, 'critical-vuln-internet-prod.contain').status).toBe('compensated');
  expect(h.systems.record.containments.get(host)).toBe('normal');
  expect(ticketsFor(h.systems, host)).toEqual([expect.objectContaining({ status: 'closed:false_positive' })]);
});

test('policyUpdated: the edited policy is loaded, recorded with its version, and the plan changes', async () => {
  const host = asset('msg-policy-1');
  const id = await submit(h, malware(host, 60));
  const waiting = await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  const oldVersion = waiting.plan.policyVersion;
  expect(oldVersion).toBe(loadPolicyDir(DEFAULT_POLICY).version);

  const file = path.join(policyDir, '40-edr-malware.yaml');
  const text = readFileSync(file, 'utf8');
  expect(text).toContain('when: riskScore < 90');
  writeFileSync(file, text.replace('when: riskScore < 90', 'when: riskScore < 50'));
  const newVersion = loadPolicyDir(policyDir).version;
  expect(newVersion).not.toBe(oldVersion);

  await h.app.service.policyUpdated(id, newVersion, 'policy-bot', 'contain at once from risk 50');
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated under the new policy');
  expect(done.plan.policyVersion).toBe(newVersion);
  const loaded = done.decisions.find((d: any) => d.kind === 'policy_updated' && d.to === newVersion);
  expect(loaded).toMatchObject({ summary: `policy ${oldVersion} → ${newVersion}: contain at once from risk 50`, by: 'policy-bot' });
  const replanned = planDecisions(done).find((d: any) => d.policyVersion === newVersion);
  expect(replanned.summary).toMatch(new RegExp(`policy updated to ${newVersion}`));
  expect(replanned.diff).toEqual(expect.arrayContaining([expect.objectContaining({ step: CONTAIN, change: 'status', from: 'awaiting_approval', to: 'pending' })]));
  expect(step(done, CONTAIN).approval).toBeUndefined();
  expect(contained(host)).toBe(1);
  expect(stepStatuses(done).every(([, st]) => st === 'done')).toBe(true);
  keeper.keep('policy-updated', id);
});

test('histories of these scenarios replay against the current workflow code', async () => {
  expect(keeper.size).toBe(5);
  const { failures } = await keeper.check(h);
  expect(failures).toEqual([]);
});
