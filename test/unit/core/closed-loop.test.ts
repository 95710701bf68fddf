/**
 * The closed loop, event by event: a person closing or reopening the ticket, drw reading its
 * ticket, kinds of system without a provider, and a regression. No server.
 */
import type { PolicySet } from '../../../planner/policy-schema';
import type { ChangeState } from '../../../activities/interfaces';
import { parsePlaybookText } from '../../../planner/load';
import { CHANGE_POLL_EVERY_MS, TICKET_POLL_EVERY_MS, ticketNeedsClosing } from '../../../remediation/core';
import { describe as sentence } from '../../../remediation/events';
import { deriveStatus } from '../../../remediation/state';
import { DEFAULT_POLICY, Remediation, T0, approve, malware, testCategory } from './helpers';

let policy: PolicySet;
beforeAll(() => {
  policy = DEFAULT_POLICY();
});

const CONTAIN = 'edr-malware.contain';
const VERIFY = 'edr-malware.verify';
const JIRA = { system: 'jira', ticketId: 'SEC-7' };
const closed = (by = 'dana', ticketId = 'SEC-7') => ({ ticketId, status: 'Done', closed: true, by, resolution: 'Done', via: 'webhook' as const });
const reopened = (by = 'dana') => ({ ticketId: 'SEC-7', status: 'In Progress', closed: false, by, via: 'webhook' as const });

/** A contained-at-once malware remediation whose verification failed: escalated, waiting on people. */
function escalatedMalware(): Remediation {
  const r = Remediation.started(malware(95), policy, undefined, { closedLoop: true });
  r.on({ kind: 'step_started', stepId: 'edr-malware.ticket' }).on({ kind: 'step_done', stepId: 'edr-malware.ticket', result: { ticketId: 'SEC-7' }, ticket: JIRA });
  r.ran(CONTAIN).ran('edr-malware.notify');
  r.on({ kind: 'step_started', stepId: VERIFY }).on({ kind: 'step_failed', stepId: VERIFY, error: 'not confirmed', verification: true });
  for (let w = r.work(); w.kind === 'run'; w = r.work()) r.ran(w.step.id);
  return r;
}

describe('a person closes the ticket', () => {
  test('the verification runs once; when it fails the ticket is reopened with what failed, and the remediation stays open', () => {
    const r = escalatedMalware();
    expect(deriveStatus(r.s)).toBe('escalated');
    r.message('ticketChanged', closed());
    expect(r.last('ticket_changed')).toMatchObject({ ticketId: 'SEC-7', closed: true, by: 'dana', via: 'webhook', resolution: 'Done' });
    expect(r.work()).toMatchObject({ kind: 'owner_check', step: { id: VERIFY } });
    r.on({ kind: 'owner_checked', failures: ['host_contained: crowdstrike reports d-1 normal'], checks: 1 });
    expect(sentence(r.last('owner_verification')!)).toBe('after dana closed ticket SEC-7: not verified (host_contained: crowdstrike reports d-1 normal)');
    expect(r.work()).toEqual({ kind: 'reopen_ticket', ticketId: 'SEC-7', evidence: ['host_contained: crowdstrike reports d-1 normal'] });
    r.on({ kind: 'ticket_reopened', ticketId: 'SEC-7', evidence: ['host_contained: crowdstrike reports d-1 normal'] });
    expect(r.s.ownerClosure).toBeUndefined();
    expect(r.work().kind).toBe('wait');
    expect(deriveStatus(r.s)).toBe('escalated');
    expect(ticketNeedsClosing(r.s)).toBe(true);
  });

  test('when the checks pass the remediation ends remediated, and drw does not close the ticket again', () => {
    const r = escalatedMalware().message('ticketChanged', closed());
    r.on({ kind: 'owner_checked', failures: [], checks: 1 });
    expect(sentence(r.last('owner_verification')!)).toBe('after dana closed ticket SEC-7: verified (1 check passed)');
    expect(r.work()).toEqual({ kind: 'finish', status: 'remediated', resolution: 'verified_after_ticket_closed' });
    expect(ticketNeedsClosing(r.s)).toBe(false);
  });

  test('a plan with no verification has nothing to confirm: the owner closing the ticket resolves it', () => {
    const r = Remediation.started(testCategory('unknown-kind', { severity: 'low' }), policy, undefined, { closedLoop: true });
    r.on({ kind: 'step_started', stepId: 'triage.ticket' }).on({ kind: 'step_done', stepId: 'triage.ticket', result: {}, ticket: JIRA });
    expect(deriveStatus(r.s)).toBe('awaiting_owner');
    r.message('ticketChanged', closed('erin'));
    expect(r.work()).toEqual({ kind: 'finish', status: 'resolved', resolution: 'ticket_closed_by_owner' });
  });

  test('a reopened ticket is recorded with who reopened it and the plan re-evaluated; a state seen twice records nothing', () => {
    const r = escalatedMalware().message('ticketChanged', closed());
    r.on({ kind: 'owner_checked', failures: ['host_contained: normal'], checks: 1 }).on({ kind: 'ticket_reopened', ticketId: 'SEC-7', evidence: ['host_contained: normal'] });
    r.message('ticketChanged', closed('frank')).message('ticketChanged', reopened('frank'));
    expect(r.last('ticket_changed')).toMatchObject({ closed: false, by: 'frank' });
    expect(r.s.ownerClosure).toBeUndefined();
    expect(r.work().kind).toBe('wait');
    const n = r.s.decisions.length;
    r.message('ticketChanged', { ...reopened('frank'), via: 'poll' });
    expect(r.s.decisions.length).toBe(n);
  });

  test("another ticket's event, or a run begun before the closed loop, is refused and recorded", () => {
    const r = escalatedMalware().message('ticketChanged', closed('dana', 'SEC-99'));
    expect(r.last('rejected')).toMatchObject({ message: 'ticketChanged', error: "ticket SEC-99 is not this remediation's (SEC-7)" });
    expect(r.s.ownerClosure).toBeUndefined();
    const old = Remediation.started(malware(95), policy).message('ticketChanged', closed());
    expect(old.last('rejected')?.error).toBe('this remediation began before drw followed its tickets');
    const bad = escalatedMalware().message('ticketChanged', { ticketId: 'SEC-7', closed: 'yes' });
    expect(bad.last('rejected')?.message).toBe('ticketChanged');
  });
});

describe('drw reads its ticket', () => {
  test('every 15 minutes (scaled) while it waits, and only when the ticket is open', () => {
    const r = escalatedMalware();
    expect(r.work()).toMatchObject({ kind: 'wait', wake: expect.objectContaining({ what: 'read ticket SEC-7' }) });
    r.later(TICKET_POLL_EVERY_MS);
    expect(r.work()).toEqual({ kind: 'poll_ticket', ticketId: 'SEC-7' });
    r.on({ kind: 'ticket_polled', state: { ticketId: 'SEC-7', status: 'To Do', closed: false } });
    expect(r.s.ticketPolledMs).toBe(r.now);
    expect(r.work().kind).toBe('wait');
    r.later(TICKET_POLL_EVERY_MS).on({ kind: 'ticket_polled', state: { ticketId: 'SEC-7', status: 'Done', closed: true, updatedBy: 'gina' } });
    expect(r.last('ticket_changed')).toMatchObject({ closed: true, by: 'gina', via: 'poll' });
    expect(r.work().kind).toBe('owner_check');
  });
});

describe('fail closed at planning', () => {
  test('a step whose kind of system has no provider is blocked when planned, before anyone is asked, and escalates', () => {
    const why = 'no endpoint provider is configured on this worker: set DRW_ENDPOINT (crowdstrike, defender) and its variables (README, Integrations)';
    const r = new Remediation(malware(60), { closedLoop: true });
    r.on({ kind: 'started' }).on({ kind: 'policy_loaded', policy }).on({ kind: 'providers_missing', unprovided: { endpoint: why } }).on({ kind: 'asset_looked_up' });
    expect(r.step(CONTAIN)).toMatchObject({ status: 'blocked', note: why });
    expect(r.last('step_blocked')).toMatchObject({ stepId: CONTAIN, reason: why });
    expect(r.s.escalations).toEqual(['step_blocked']);
    expect(r.step('edr-malware.ticket').status).toBe('pending');
    expect(r.s.plan.steps.some((x) => x.action === 'endpoint.isolate' && x.status === 'awaiting_approval')).toBe(false);
  });

  test('a containment under a change record is blocked when the worker has no change system, though it has an EDR', () => {
    const why = 'no change provider is configured on this worker: set DRW_CHANGE (servicenow) and its variables (README, Integrations)';
    const r = new Remediation(malware(60), { closedLoop: true });
    r.on({ kind: 'started' }).on({ kind: 'policy_loaded', policy }).on({ kind: 'providers_missing', unprovided: { change: why } }).on({ kind: 'asset_looked_up' });
    expect(r.step(CONTAIN)).toMatchObject({ change: 'normal', status: 'blocked', note: why });
    expect(r.last('step_blocked')).toMatchObject({ stepId: CONTAIN, reason: why });
    expect(r.step('edr-malware.ticket').status).toBe('pending');
  });
});

describe('a regression', () => {
  test('a finding that comes back after its remediation was remediated says so in the log and the first plan', () => {
    const r = new Remediation(malware(95), { closedLoop: true });
    r.on({ kind: 'started', previous: { runId: 'run-0', status: 'completed', closedAt: new Date(T0 - 1000).toISOString(), outcome: 'remediated' } }).on({ kind: 'policy_loaded', policy }).on({ kind: 'asset_looked_up' });
    expect(sentence(r.s.decisions[0])).toContain('regression: run run-0 remediated this finding at 2029-12-31T23:59:59.000Z, and it came back');
    expect(r.last('plan')?.trigger).toBe('initial plan (regression: the finding came back after run run-0 remediated it)');
    const other = new Remediation(malware(95)).on({ kind: 'started', previous: { runId: 'run-0', status: 'completed', outcome: 'resolved' } });
    expect(sentence(other.s.decisions[0])).toContain('it recurs after the remediation of run run-0, resolved');
  });
});

describe('a step under a change record', () => {
  const changePolicy = (restartApproval = ''): PolicySet => {
    const r = parsePlaybookText(
      `id: restart
name: Restart under a change
match: { categories: [infrastructure] }
changeWindow: { windows: [{ start: "00:00", end: "23:59" }], emergencyOverride: { minRiskScore: 90 } }
steps:
  - id: ticket
    action: ticket.open
  - id: restart
    action: runbook.run
    change: normal
    params: { runbook: restart-service }
${restartApproval}`,
      'restart.yaml',
    );
    return { ...policy, version: 'test', playbooks: [r.playbook!] };
  };
  const alert = (riskScore: number) => testCategory('infrastructure', { riskScore });
  const state = (over: Partial<ChangeState> = {}): ChangeState => ({ changeId: 'c1', number: 'CHG0030001', state: { label: 'Assess', value: -4 }, implementable: false, approval: 'requested', closed: false, ...over });

  test('opened before it runs, waits for the CAB (read again later), runs in Implement, and is closed with the outcome', () => {
    const r = Remediation.started(alert(50), changePolicy(), undefined, { closedLoop: true }).ran('restart.ticket');
    expect(r.step('restart.restart').change).toBe('normal');
    expect(r.work()).toMatchObject({ kind: 'open_change', step: { id: 'restart.restart' } });
    r.on({ kind: 'change_opened', stepId: 'restart.restart', ref: { system: 'servicenow', changeId: 'c1', number: 'CHG0030001' }, state: state() });
    expect(deriveStatus(r.s)).toBe('awaiting_approval');
    expect(r.work()).toMatchObject({ kind: 'wait', wake: { what: 'read change CHG0030001 of restart.restart' } });
    r.later(CHANGE_POLL_EVERY_MS);
    expect(r.work()).toEqual({ kind: 'read_change', stepId: 'restart.restart', changeId: 'c1' });
    r.on({ kind: 'change_read', stepId: 'restart.restart', state: state({ state: { label: 'Scheduled', value: -2 }, implementable: true, approval: 'approved', approvedBy: ['Carla CAB', 'Dan CAB'] }) });
    expect(sentence(r.last('change')!)).toBe('change CHG0030001 for restart.restart approved by Carla CAB, Dan CAB [Scheduled]');
    expect(r.work()).toMatchObject({ kind: 'run', step: { id: 'restart.restart' } });
    r.on({ kind: 'step_started', stepId: 'restart.restart' }).on({ kind: 'change_implementing', stepId: 'restart.restart', state: state({ state: { label: 'Implement', value: -1 }, implementable: true }) });
    r.on({ kind: 'step_done', stepId: 'restart.restart', result: { ok: true } });
    expect(r.step('restart.restart').result).toEqual({ ok: true, change: 'CHG0030001' });
    expect(r.work()).toMatchObject({ kind: 'settle_change', how: 'close', outcome: 'successful' });
  });

  test('while its step waits for an approval its change is not read, and the wait does not wake for it; the approval reads it at once', () => {
    const gated = changePolicy('    approval: { groups: [ops], when: "riskScore < 70" }\n');
    const r = Remediation.started(alert(80), gated, undefined, { closedLoop: true }).ran('restart.ticket');
    r.on({ kind: 'change_opened', stepId: 'restart.restart', ref: { system: 'servicenow', changeId: 'c1', number: 'CHG0030001' }, state: state() });
    r.message('riskScoreChanged', { riskScore: 50, reason: 'contained elsewhere', by: 'soc-bot' });
    expect(r.step('restart.restart').status).toBe('awaiting_approval');
    r.later(CHANGE_POLL_EVERY_MS * 2);
    const work = r.work();
    expect(work.kind).toBe('wait');
    // Nothing reads the change before the approval, so a wake at its read would be a deadline in the past, forever.
    expect(work.kind === 'wait' && (work.wake?.what ?? 'nothing')).not.toMatch(/read change/);
    // Runs begun before the fix replay with where they woke.
    expect(work).toMatchObject({ wakeBeforeFix: { what: 'read change CHG0030001 of restart.restart' } });
    r.message('approve', approve('restart.restart', 'olga', ['ops']), 'update');
    expect(r.work()).toEqual({ kind: 'read_change', stepId: 'restart.restart', changeId: 'c1' });
  });

  test('above the emergency risk score the change is an emergency one; a rejection blocks the step and pages people', () => {
    const r = Remediation.started(alert(95), changePolicy(), undefined, { closedLoop: true }).ran('restart.ticket');
    expect(r.step('restart.restart').change).toBe('emergency');
    r.on({ kind: 'change_opened', stepId: 'restart.restart', ref: { system: 'servicenow', changeId: 'c1', number: 'CHG0030001' }, state: state({ type: 'emergency' }) });
    r.later(CHANGE_POLL_EVERY_MS).on({ kind: 'change_read', stepId: 'restart.restart', state: state({ approval: 'rejected', rejectedBy: ['Erin CAB'], state: { label: 'New', value: -5 } }) });
    expect(r.step('restart.restart')).toMatchObject({ status: 'blocked', note: 'change CHG0030001 was rejected by Erin CAB in the change system' });
    expect(r.s.escalations).toContain('step_blocked');
    expect(r.work().kind).not.toBe('settle_change');
  });

  test('while the CAB decides, the steps after it go on as after any approval, and the verification waits', () => {
    const withMore = changePolicy();
    const pb = withMore.playbooks[0];
    const tell = { ...pb.steps[0], id: 'tell', action: 'notify' as const, params: { channel: 'ops', text: 'restarting' } };
    const check = { ...pb.steps[0], id: 'check', action: 'verify' as const, params: { checks: ['service_healthy'] }, verify: { interval: 1000, deadline: 60_000 } };
    const policy2 = { ...withMore, playbooks: [{ ...pb, steps: [...pb.steps, tell, check] }] };
    const r = Remediation.started(alert(50), policy2, undefined, { closedLoop: true }).ran('restart.ticket');
    r.on({ kind: 'change_opened', stepId: 'restart.restart', ref: { system: 'servicenow', changeId: 'c1', number: 'CHG0030001' }, state: state() });
    expect(r.work()).toMatchObject({ kind: 'run', step: { id: 'restart.tell' } });
    r.ran('restart.tell');
    expect(deriveStatus(r.s)).toBe('awaiting_approval');
    expect(r.work()).toMatchObject({ kind: 'wait', wake: { what: 'read change CHG0030001 of restart.restart' } });
    r.later(CHANGE_POLL_EVERY_MS);
    expect(r.work()).toEqual({ kind: 'read_change', stepId: 'restart.restart', changeId: 'c1' });
  });

  test('a re-plan that withdraws the step cancels its change', () => {
    const r = Remediation.started(alert(50), changePolicy(), undefined, { closedLoop: true }).ran('restart.ticket');
    r.on({ kind: 'change_opened', stepId: 'restart.restart', ref: { system: 'servicenow', changeId: 'c1', number: 'CHG0030001' }, state: state() });
    r.message('falsePositive', { by: 'oscar', reason: 'maintenance' });
    expect(r.work()).toMatchObject({ kind: 'settle_change', how: 'cancel', changeId: 'c1' });
  });
});

describe('the policy engine gives no answer', () => {
  test('two steps it decides are each blocked with their own decision, and people are paged once for both', () => {
    const r0 = parsePlaybookText(
      `id: gated
name: Two steps the engine decides
match: { categories: [infrastructure] }
steps:
  - id: ticket
    action: ticket.open
  - id: restart
    action: runbook.run
    opa: { path: drw/restart/allow }
    params: { runbook: restart-service }
  - id: scale
    action: runbook.run
    opa: { path: drw/scale/allow }
    params: { runbook: scale-up }
`,
      'gated.yaml',
    );
    const policy2: PolicySet = { ...policy, version: 'gated', playbooks: [r0.playbook!] };
    const r = Remediation.started(testCategory('infrastructure', { riskScore: 50 }), policy2, undefined, { closedLoop: true });
    const asks = r.s.policyAsks ?? [];
    expect(asks.map((a) => a.path).sort()).toEqual(['drw/restart/allow', 'drw/scale/allow']);
    r.on({ kind: 'policy_answered', answers: asks.map((a) => ({ key: a.key, path: a.path, error: 'connect ECONNREFUSED 127.0.0.1:8181' })) });
    const blocked = r.s.decisions.filter((d) => d.kind === 'step_blocked').map((d) => (d as { stepId: string }).stepId);
    expect(blocked.sort()).toEqual(['gated.restart', 'gated.scale']);
    expect(r.s.decisions.filter((d) => d.kind === 'escalation')).toHaveLength(1);
    expect(r.step('gated.restart').status).toBe('blocked');
    expect(r.step('gated.scale').status).toBe('blocked');
  });
});
