/**
 * The remediation core, event by event, with no server: what each message and each activity
 * outcome does to a remediation, and what the driver is told to do next.
 */
import type { PolicySet } from '../../../planner/policy-schema';
import { apply, checksFor, compensations, settle, unverifiable, validateDecision } from '../../../remediation/core';
import { describe as sentence, DECISION_KINDS } from '../../../remediation/events';
import { DECISION_LOG_LIMIT, deriveStatus, isCoreState, view } from '../../../remediation/state';
import { DEFAULT_POLICY, Remediation, SUBMITTER, T0, TEST_POLICY, approve, malware, testCategory } from './helpers';

let policy: PolicySet;
let fixtures: PolicySet;
beforeAll(() => {
  policy = DEFAULT_POLICY();
  fixtures = TEST_POLICY();
});

const CONTAIN = 'edr-malware.contain';

describe('start', () => {
  test('received, enriched, SLA and the first plan are recorded in that order; the ticket runs first', () => {
    const r = Remediation.started(malware(60), policy, { found: true, ciId: 'CI42', criticality: 'high' });
    expect(r.kinds()).toEqual(['received', 'enriched', 'sla', 'plan']);
    expect(r.s.decisions[0]).toMatchObject({ kind: 'received', source: 'crowdstrike', by: SUBMITTER, seq: 1, at: new Date(T0).toISOString() });
    expect(r.last('enriched')).toMatchObject({ cmdbFound: true, ciId: 'CI42', asset: expect.objectContaining({ criticality: 'high' }) });
    expect(r.last('sla')).toMatchObject({ severity: 'high', windowMs: 24 * 3_600_000, deadline: new Date(T0 + 24 * 3_600_000).toISOString() });
    expect(r.last('plan')).toMatchObject({ planVersion: 1, playbook: 'edr-malware', trigger: 'initial plan' });
    expect(r.statuses()).toMatchObject({ 'edr-malware.ticket': 'pending', [CONTAIN]: 'awaiting_approval' });
    expect(r.work()).toMatchObject({ kind: 'run', step: { id: 'edr-malware.ticket' } });
    expect(deriveStatus(r.s)).toBe('remediating');
  });

  test('a failed CMDB lookup is recorded and planning goes on with the detection facts', () => {
    const r = new Remediation(malware(60)).on({ kind: 'started' }).on({ kind: 'policy_loaded', policy }).on({ kind: 'asset_looked_up', error: 'CMDB down' });
    expect(r.kinds()).toEqual(['received', 'enrichment_failed', 'enriched', 'sla', 'plan']);
    expect(r.last('enriched')).toMatchObject({ cmdbFound: false });
    expect(sentence(r.last('enrichment_failed')!)).toBe("CMDB lookup failed, planning as for an asset the CMDB does not know: CMDB down");
  });

  test('apply never writes into the state it is given', () => {
    const r = Remediation.started(malware(60), policy);
    const before = JSON.stringify(r.s);
    const frozen = JSON.parse(before);
    apply(frozen, { kind: 'message', name: 'approve', payload: approve(CONTAIN), via: 'update' }, { now: T0, timeScale: 1 });
    apply(frozen, { kind: 'step_started', stepId: 'edr-malware.ticket' }, { now: T0, timeScale: 1 });
    expect(JSON.stringify(frozen)).toBe(before);
  });
});

describe('steps', () => {
  test('a step runs, its outcome (the ticket) is kept, and the plan moves on', () => {
    const r = Remediation.started(malware(60), policy);
    r.on({ kind: 'step_started', stepId: 'edr-malware.ticket' });
    expect(r.step('edr-malware.ticket').status).toBe('running');
    expect(r.s.running).toEqual(['edr-malware.ticket']);
    r.on({ kind: 'step_done', stepId: 'edr-malware.ticket', result: { ticketId: 'SEC-1' }, ticket: { system: 'jira', ticketId: 'SEC-1' } });
    expect(r.s.ticket).toEqual({ system: 'jira', ticketId: 'SEC-1' });
    expect(r.step('edr-malware.ticket')).toMatchObject({ status: 'done', result: { ticketId: 'SEC-1' } });
    expect(r.s.running).toEqual([]);
    expect(r.last('step_done')).toMatchObject({ stepId: 'edr-malware.ticket', result: { ticketId: 'SEC-1' } });
  });

  test('a failed remediation step escalates (step_failed) and the escalation steps join the plan', () => {
    const r = Remediation.started(malware(95), policy).ran('edr-malware.ticket');
    r.on({ kind: 'step_started', stepId: CONTAIN }).on({ kind: 'step_failed', stepId: CONTAIN, error: 'Falcon: device not found' });
    expect(r.step(CONTAIN)).toMatchObject({ status: 'failed', note: 'Falcon: device not found' });
    expect(r.s.escalations).toEqual(['step_failed']);
    expect(r.last('escalation')).toMatchObject({ trigger: 'step_failed', why: `${CONTAIN}: Falcon: device not found` });
    expect(r.s.plan.steps.some((x) => x.reason.section === 'escalation')).toBe(true);
  });

  test('a verification that is not confirmed escalates (verification_failed) and counts the failure', () => {
    const r = Remediation.started(malware(95), policy).ran('edr-malware.ticket').ran(CONTAIN).ran('edr-malware.notify');
    r.on({ kind: 'step_started', stepId: 'edr-malware.verify' }).on({ kind: 'step_failed', stepId: 'edr-malware.verify', error: 'verification not confirmed', verification: true });
    expect(r.s.verificationFailures).toBe(1);
    expect(r.kinds().slice(-3, -1)).toEqual(['verification_failed', 'escalation']);
    expect(r.last('escalation')?.trigger).toBe('verification_failed');
  });

  test('a verified plan settles as remediated; a plan without verification waits for a person', () => {
    const r = Remediation.started(malware(95), policy).ran('edr-malware.ticket').ran(CONTAIN).ran('edr-malware.notify');
    expect(settle(r.s)).toBeUndefined();
    r.ran('edr-malware.verify', { verified: true });
    expect(r.work()).toEqual({ kind: 'finish', status: 'remediated', resolution: 'remediated' });
    r.on({ kind: 'finished', status: 'remediated', resolution: 'remediated' });
    expect(deriveStatus(r.s)).toBe('remediated');
    expect(r.last('final')).toMatchObject({ status: 'remediated' });
  });

  test('a re-plan that withdraws the running step asks the driver to cancel it; its end is recorded as cancelled', () => {
    const NOTIFY = 'edr-malware.notify';
    const r = Remediation.started(malware(95), policy).ran('edr-malware.ticket').ran(CONTAIN);
    r.on({ kind: 'step_started', stepId: NOTIFY });
    r.message('cancel', { by: 'oscar', reason: 'wrong host' });
    expect(r.effects).toContainEqual({ kind: 'cancel_running', stepId: NOTIFY });
    r.on({ kind: 'step_failed', stepId: NOTIFY, error: 'cancelled', cancelled: true });
    expect(r.last('step_cancelled')).toMatchObject({ stepId: NOTIFY });
  });
});

describe('approvals', () => {
  test('an approval by the right group binds to the step fingerprint and lets the step run', () => {
    const r = Remediation.started(malware(60), policy).ran('edr-malware.ticket');
    const fp = r.step(CONTAIN).fingerprint;
    r.message('approve', approve(CONTAIN), 'update');
    expect(r.s.approvals).toEqual([expect.objectContaining({ stepId: CONTAIN, fingerprint: fp, approver: 'alice', via: 'update', decision: 'approve' })]);
    expect(r.last('approval')).toMatchObject({ decision: 'approve', stepId: CONTAIN, fingerprint: fp, approver: 'alice', groups: ['secops'], via: 'update' });
    expect(r.step(CONTAIN).status).toBe('pending');
    expect(r.work()).toMatchObject({ kind: 'run', step: { id: CONTAIN } });
  });

  test('a denial skips the step', () => {
    const r = Remediation.started(malware(60), policy);
    r.message('deny', approve(CONTAIN), 'update');
    expect(r.step(CONTAIN).status).toBe('skipped');
  });

  test('refusals name their reason and type: group, self-approval, unknown step, not awaiting, malformed', () => {
    const r = Remediation.started(malware(60), policy);
    expect(validateDecision(r.s, approve(CONTAIN, 'mallory', ['devs']), 'approve', r.now)).toMatchObject({ type: 'Unauthorized', message: expect.stringMatching(/needs a member of \[secops\]/) });
    expect(validateDecision(r.s, approve(CONTAIN, SUBMITTER), 'approve', r.now)).toMatchObject({ type: 'SelfApproval' });
    expect(validateDecision(r.s, approve('edr-malware.nope'), 'approve', r.now)).toMatchObject({ type: 'UnknownStep' });
    expect(validateDecision(r.s, approve('edr-malware.ticket'), 'approve', r.now)).toMatchObject({ type: 'NotAwaitingApproval' });
    expect(validateDecision(r.s, { stepId: CONTAIN }, 'approve', r.now)).toMatchObject({ type: 'InvalidInput' });
    expect(validateDecision(r.s, approve(CONTAIN, 'drw:expiry'), 'approve', r.now)).toMatchObject({ type: 'InvalidInput' });
  });

  test('a quorum needs distinct approvers: a second approval by the same person is refused', () => {
    const r = Remediation.started(testCategory('quorum-test'), fixtures);
    r.message('approve', approve('quorum.contain', 'alice'), 'update');
    expect(r.step('quorum.contain')).toMatchObject({ status: 'awaiting_approval', approval: { approvedBy: ['alice'] } });
    expect(validateDecision(r.s, approve('quorum.contain', 'ALICE'), 'approve', r.now)).toMatchObject({ type: 'DuplicateApproval' });
    r.message('approve', approve('quorum.contain', 'bob'), 'update');
    expect(r.step('quorum.contain').status).toBe('pending');
  });

  test('a refused approve signal is recorded as rejected and changes nothing else', () => {
    const r = Remediation.started(malware(60), policy);
    const plan = r.s.plan;
    r.message('approve', approve(CONTAIN, 'mallory', ['devs']));
    expect(r.last('rejected')).toMatchObject({ message: 'approve', by: 'mallory' });
    expect(sentence(r.last('rejected')!)).toMatch(/^approve signal refused: mallory may not approve/);
    expect(r.s.plan).toEqual(plan);
    expect(r.s.approvals).toEqual([]);
  });
});

describe('expiry', () => {
  const started = (category: string) => Remediation.started(testCategory(category), fixtures).ran(`${category.replace('-test', '')}.ticket`);

  test('onExpiry deny: after the deadline a tick denies for the policy and the step is skipped', () => {
    const r = started('expiry-deny');
    expect(r.work().kind).toBe('wait');
    expect(r.later(1_999).work().kind).toBe('wait');
    expect(r.later(1).work()).toEqual({ kind: 'tick' });
    r.on({ kind: 'tick' });
    expect(r.last('approval_expired')).toMatchObject({ stepId: 'expiry-deny.contain', onExpiry: 'deny', by: 'drw:expiry' });
    expect(r.s.approvals).toEqual([expect.objectContaining({ approver: 'drw:expiry', decision: 'deny', via: 'expiry' })]);
    expect(r.step('expiry-deny.contain').status).toBe('skipped');
  });

  test('onExpiry auto_approve: the policy fills the quorum and the step runs', () => {
    const r = started('expiry-auto-approve');
    r.message('approve', approve('expiry-auto-approve.contain', 'alice'), 'update');
    r.later(4_000).on({ kind: 'tick' });
    expect(r.step('expiry-auto-approve.contain')).toMatchObject({ status: 'pending', approval: { approvedBy: ['alice', 'drw:expiry#2'] } });
  });

  test('onExpiry escalate: the expiry escalates and the escalation steps join the plan', () => {
    const r = started('expiry-escalate');
    r.later(2_000).on({ kind: 'tick' });
    expect(r.kinds().slice(-3)).toEqual(['approval_expired', 'escalation', 'plan']);
    expect(r.s.escalations).toEqual(['approval_expired']);
    expect(r.step('expiry-escalate.approval_expired.page').status).toBe('pending');
  });
});

describe('SLA', () => {
  test('the exposure window passing escalates once (sla_breached), and a worse repeat only brings the deadline closer', () => {
    const r = Remediation.started(testCategory('sla-test', { severity: 'low' }), fixtures).ran('sla.ticket');
    const deadline = r.s.slaDeadlineMs!;
    expect(deadline).toBe(T0 + 3_000);
    r.later(3_000);
    expect(r.work()).toEqual({ kind: 'tick' });
    r.on({ kind: 'tick', only: 'sla' });
    expect(r.s.slaBreached).toBe(true);
    expect(r.last('escalation')).toMatchObject({ trigger: 'sla_breached' });
    expect(r.s.plan.steps.filter((x) => x.reason.trigger === 'sla_breached').map((x) => x.id)).toEqual(['sla.sla_breached.page', 'sla.sla_breached.bump']);
    r.on({ kind: 'tick' });
    expect(r.s.decisions.filter((d) => d.kind === 'escalation')).toHaveLength(1);
  });
});

describe('messages', () => {
  test('a risk change across the threshold removes the approval; the change is recorded with who and why', () => {
    const r = Remediation.started(malware(60), policy);
    r.message('riskScoreChanged', { riskScore: 95, reason: 'lateral movement', by: 'soc-bot' });
    expect(r.last('risk_changed')).toMatchObject({ from: 60, to: 95, reason: 'lateral movement', by: 'soc-bot' });
    expect(r.last('plan')).toMatchObject({ trigger: 'risk score 60 → 95', by: 'soc-bot' });
    expect(r.step(CONTAIN).status).toBe('pending');
  });

  test('a repeat raises the count, keeps the worst severity, waits to be told to the ticket, and is logged for the first few', () => {
    const r = Remediation.started(malware(60), policy).ran('edr-malware.ticket', {});
    r.on({ kind: 'step_done', stepId: 'edr-malware.ticket', result: {}, ticket: { system: 'jira', ticketId: 'SEC-1' } });
    r.message('findingAdded', malware(60, { severity: 'critical' }));
    expect(r.s.facts).toMatchObject({ findingCount: 2, severity: 'critical' });
    expect(r.last('repeat')).toMatchObject({ findingCount: 2, source: 'crowdstrike' });
    expect(r.s.unreportedRepeats).toBe(1);
    expect(r.later(60_000).work()).toEqual({ kind: 'report_repeats' });
    r.on({ kind: 'repeats_reported' });
    expect(r.s).toMatchObject({ unreportedRepeats: 0, lastRepeatReportMs: r.now });
  });

  test('resolved at the source: the remediation settles as resolved', () => {
    const r = Remediation.started(malware(60), policy).ran('edr-malware.ticket');
    r.message('findingResolved', { reason: 'alert closed', by: 'falcon' });
    expect(r.last('resolved_at_source')).toMatchObject({ reason: 'alert closed', by: 'falcon' });
    for (let w = r.work(); w.kind === 'run'; w = r.work()) r.ran(w.step.id, { verified: true });
    expect(r.work()).toEqual({ kind: 'finish', status: 'resolved', resolution: 'resolved_at_source' });
  });

  test('pause holds the work, resume gives it back', () => {
    const r = Remediation.started(malware(95), policy);
    r.message('pause', { by: 'oscar', reason: 'change freeze' });
    expect(r.work()).toEqual({ kind: 'paused' });
    expect(deriveStatus(r.s)).toBe('paused');
    r.message('resume', { by: 'oscar', reason: 'freeze over' });
    expect(r.work().kind).toBe('run');
    expect(r.s.decisions.filter((d) => d.kind === 'operator').map(sentence)).toEqual(['paused by oscar: change freeze', 'resumed by oscar: freeze over']);
  });

  test('cancel winds down: completed steps with a compensation are undone, newest first', () => {
    const r = Remediation.started(malware(95), policy).ran('edr-malware.ticket').ran(CONTAIN);
    r.message('cancel', { by: 'oscar', reason: 'wrong host' });
    expect(r.work()).toEqual({ kind: 'wind_down', status: 'cancelled', resolution: 'cancelled' });
    expect(compensations(r.s).map((x) => x.id)).toEqual([CONTAIN]);
    r.on({ kind: 'compensated', stepId: CONTAIN, action: 'endpoint.release', result: { state: 'normal' } });
    expect(r.step(CONTAIN)).toMatchObject({ status: 'compensated', note: 'compensated by endpoint.release' });
  });

  test('false positive winds down as resolved (false_positive)', () => {
    const r = Remediation.started(malware(60), policy);
    r.message('falsePositive', { by: 'oscar', reason: 'a test file' });
    expect(r.work()).toEqual({ kind: 'wind_down', status: 'resolved', resolution: 'false_positive' });
  });

  test('policyUpdated asks for a reload; the reload records old and new version and re-plans', () => {
    const r = Remediation.started(malware(60), policy);
    r.message('policyUpdated', { version: 'v2', reason: 'contain from 50', by: 'policy-bot' });
    expect(r.work()).toEqual({ kind: 'reload_policy', request: { version: 'v2', reason: 'contain from 50', by: 'policy-bot' } });
    r.on({ kind: 'policy_reload_started' });
    expect(r.s.policyReloadRequested).toBeUndefined();
    r.on({ kind: 'policy_reloaded', policy: { ...policy, version: 'v2' }, request: { reason: 'contain from 50', by: 'policy-bot' } });
    expect(r.last('policy_updated')).toMatchObject({ from: policy.version, to: 'v2', by: 'policy-bot' });
  });

  test('a policy version no worker can load keeps the remediation on its policy, and says why', () => {
    const r = Remediation.started(malware(60), policy);
    const plan = r.s.plan;
    r.message('policyUpdated', { version: 'v-unknown', reason: 'rollout', by: 'policy-bot' });
    r.on({ kind: 'policy_reload_started' });
    r.on({ kind: 'policy_reload_failed', request: { version: 'v-unknown', reason: 'rollout', by: 'policy-bot' }, error: 'policy v-unknown announced but this worker has ' + policy.version });
    expect(r.s.policy).toBe(policy);
    expect(r.s.plan).toEqual(plan);
    expect(sentence(r.last('policy_update_failed')!)).toBe(`policy v-unknown not loaded, staying on ${policy.version}: policy v-unknown announced but this worker has ${policy.version}`);
    expect(r.work().kind).not.toBe('reload_policy');
  });

  test.each([
    ['pause', undefined],
    ['resume', null],
    ['cancel', {}],
    ['falsePositive', 'oops'],
    ['riskScoreChanged', { riskScore: 'high' }],
    ['findingAdded', { title: 'no source' }],
    ['findingResolved', 42],
    ['policyUpdated', { version: '' }],
    ['approve', undefined],
    ['deny', { stepId: CONTAIN, approver: 'alice' }],
  ] as const)('a malformed %s message is recorded as rejected, never thrown', (name, payload) => {
    const r = Remediation.started(malware(60), policy);
    if (name === 'resume') r.message('pause', { by: 'oscar', reason: 'freeze' });
    const plan = r.s.plan;
    expect(() => r.message(name, payload)).not.toThrow();
    expect(r.last('rejected')).toMatchObject({ message: name });
    expect(r.s.plan).toEqual(plan);
  });
});

describe('the log and continue-as-new', () => {
  test('state carried over continue-as-new is recognised and its log keeps counting', () => {
    const r = Remediation.started(malware(60), policy);
    r.on({ kind: 'continuing_as_new', historyLength: 1500 });
    expect(r.last('continued_as_new')).toMatchObject({ historyLength: 1500, run: 1 });
    const carried = JSON.parse(JSON.stringify(r.s));
    expect(isCoreState(carried)).toBe(true);
    expect(isCoreState({ ...carried, core: undefined })).toBe(false);
    const seq = carried.seq;
    const next = apply({ ...carried, runs: 1 }, { kind: 'message', name: 'riskScoreChanged', payload: { riskScore: 70, reason: 'after the carry' } }, { now: T0, timeScale: 1 }).state;
    expect(next.decisions.filter((d) => d.seq > seq).map((d) => [d.seq, d.kind])).toEqual([
      [seq + 1, 'risk_changed'],
      [seq + 2, 'plan'],
    ]);
  });

  test(`the log keeps the newest ${DECISION_LOG_LIMIT} decisions and counts the rest`, () => {
    const r = Remediation.started(malware(60), policy);
    for (let i = 0; i < DECISION_LOG_LIMIT; i++) r.message('riskScoreChanged', { riskScore: 60 + (i % 2), reason: `burst ${i}` });
    expect(r.s.decisions).toHaveLength(DECISION_LOG_LIMIT);
    expect(r.s.decisionsDropped).toBeGreaterThan(0);
    expect(r.s.decisions[0].seq).toBe(r.s.decisionsDropped + 1);
  });

  test('every decision a view shows carries the sentence rendered from it', () => {
    const r = Remediation.started(malware(60), policy);
    r.message('approve', approve(CONTAIN, 'mallory', ['devs']));
    const v = view(r.s);
    expect(v.decisions.map((d) => d.summary)).toEqual(r.s.decisions.map(sentence));
    expect(v.decisions.every((d) => DECISION_KINDS.includes(d.kind) && d.summary.length > 0)).toBe(true);
  });
});

describe('a compromised account (identity-compromise playbook)', () => {
  const account = () =>
    ({ source: 'msgraph', rule: 'unfamiliarFeatures', title: 'Unfamiliar sign-in properties', severity: 'high', category: 'identity', riskScore: 70, asset: { id: 'dana@contoso.example', type: 'user' } }) as const;

  test('sessions are revoked at once; disabling waits for secops; verification asks the identity system', () => {
    const r = Remediation.started(account(), policy);
    expect(r.s.plan.playbook).toBe('identity-compromise');
    expect(r.statuses()).toEqual({
      'identity-compromise.revoke': 'pending',
      'identity-compromise.ticket': 'pending',
      'identity-compromise.disable': 'awaiting_approval',
      'identity-compromise.verify': 'pending',
    });
    expect(r.work()).toMatchObject({ kind: 'run', step: { id: 'identity-compromise.revoke', action: 'identity.revoke_sessions' } });
    r.ran('identity-compromise.revoke').ran('identity-compromise.ticket').message('approve', approve('identity-compromise.disable'), 'update').ran('identity-compromise.disable');
    expect(checksFor(r.s, r.step('identity-compromise.verify')).checks).toEqual([{ kind: 'account_disabled', userId: 'dana@contoso.example' }]);
  });

  test('a false positive re-enables the disabled account', () => {
    const r = Remediation.started(account(), policy).ran('identity-compromise.revoke').ran('identity-compromise.ticket');
    r.message('approve', approve('identity-compromise.disable'), 'update').ran('identity-compromise.disable');
    r.message('falsePositive', { by: 'oscar', reason: 'the user was travelling' });
    expect(compensations(r.s).map((x) => [x.id, x.compensation?.action])).toEqual([['identity-compromise.disable', 'identity.enable']]);
  });
});

describe('outcomes are statements of fact', () => {
  test('a step missing an input is blocked with its reason and escalates; it is never done', () => {
    const r = Remediation.started(malware(95), policy).ran('edr-malware.ticket');
    r.on({ kind: 'step_started', stepId: CONTAIN }).on({ kind: 'step_failed', stepId: CONTAIN, error: 'no device found for laptop-42', blocked: true });
    expect(r.step(CONTAIN)).toMatchObject({ status: 'blocked', note: 'no device found for laptop-42' });
    expect(r.last('step_blocked')).toMatchObject({ stepId: CONTAIN, reason: 'no device found for laptop-42' });
    expect(r.s.escalations).toEqual(['step_blocked']);
    expect(r.step('edr-malware.step_blocked.page').status).toBe('pending');
  });

  test('a verification with nothing it can check is not a verification', () => {
    expect(unverifiable({ checks: [], internal: [], vacuous: ['pr_merged: no pull request was opened'] })).toEqual(['pr_merged: no pull request was opened']);
    expect(unverifiable({ checks: [], internal: [], vacuous: [] })).toEqual(['no check tied to this finding']);
    expect(unverifiable({ checks: [{ kind: 'ticket_state', ticketId: 'SEC-1', closed: true }], internal: [], vacuous: [] })).toEqual([]);
    expect(unverifiable({ checks: [], internal: ['finding_resolved'], vacuous: [] })).toEqual([]);
  });

  test('every step ran and nothing verified a fix: awaiting its owner, escalated only once an escalation ran', () => {
    const r = Remediation.started(testCategory('sla-test', { severity: 'low' }), fixtures).ran('sla.ticket');
    expect(deriveStatus(r.s)).toBe('awaiting_owner');
    r.later(3_000).on({ kind: 'tick' });
    expect(deriveStatus(r.s)).toBe('remediating');
    r.ran('sla.sla_breached.page').ran('sla.sla_breached.bump');
    expect(deriveStatus(r.s)).toBe('escalated');
  });
});
