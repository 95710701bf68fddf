import { canonicalJson } from '../../../planner/hash';
import { parsePlaybookText } from '../../../planner/load';
import { buildPlan } from '../../../planner/plan';
import type { PolicySet } from '../../../planner/policy-schema';
import type { PlannerState, PlanResult } from '../../../planner/types';
import { DETECTIONS, INGEST, decision, ids, loadDefault, loadFixture, mark, next, stateFor, statuses, step, withRisk } from './helpers';

let policy: PolicySet;
let gated: PolicySet;
let v2: PolicySet;
beforeAll(() => {
  policy = loadDefault();
  gated = loadFixture('gated');
  v2 = loadFixture('default-v2');
});

/** Runs the planner again with the previous result carried and `over` applied; returns both. */
function again(p: PolicySet, st: PlannerState, r: PlanResult, over: Partial<PlannerState> = {}): [PlannerState, PlanResult] {
  const s = next(st, r, over);
  return [s, buildPlan(p, s)];
}

describe('risk goes up', () => {
  const E = 'exposure';

  it('inserts containment and paging where the playbook puts them, after what already ran', () => {
    const st0 = stateFor(DETECTIONS.exposure(60));
    const r1 = buildPlan(gated, st0);
    expect(ids(r1.plan)).toEqual([`${E}.ticket`, `${E}.lookup`, `${E}.verify`]);

    const ran = { ...r1, plan: mark(r1.plan, { [`${E}.ticket`]: 'done', [`${E}.lookup`]: 'done' }) };
    const [, r2] = again(gated, st0, ran, withRisk(st0, 85));

    expect(ids(r2.plan)).toEqual([`${E}.ticket`, `${E}.lookup`, `${E}.contain`, `${E}.page`, `${E}.verify`]);
    expect(statuses(r2.plan)).toEqual({
      [`${E}.ticket`]: 'done',
      [`${E}.lookup`]: 'done',
      [`${E}.contain`]: 'awaiting_approval',
      [`${E}.page`]: 'pending',
      [`${E}.verify`]: 'pending',
    });
    expect(r2.diff).toEqual([
      { step: `${E}.contain`, change: 'added', to: 'awaiting_approval', why: 'playbook step, when riskScore >= 80 and asset.environment == production' },
      { step: `${E}.page`, change: 'added', to: 'pending', why: 'playbook step, when riskScore >= 80' },
    ]);
    expect(r2.plan.version).toBe(2);
    expect(step(r2.plan, `${E}.contain`).reason.facts).toEqual({ category: 'exposure', riskScore: 85, 'asset.environment': 'production' });
    expect(step(r2.plan, `${E}.page`).params).toEqual({ channel: 'secops', text: 'db-7 exposed (risk 85)' });
    // Done steps are carried as they were, not rebuilt.
    expect(step(r2.plan, `${E}.lookup`)).toBe(ran.plan.steps[1]);
  });

  it('above the emergency threshold a disruptive step records the window override', () => {
    const at85 = buildPlan(gated, stateFor(DETECTIONS.exposure(85)));
    expect(step(at85.plan, `${E}.contain`).windowOverride).toBeUndefined();
    expect(step(at85.plan, `${E}.contain`).disruptive).toBe(true);
    const at96 = buildPlan(gated, stateFor(DETECTIONS.exposure(96)));
    expect(step(at96.plan, `${E}.contain`).windowOverride).toBe('emergency override: risk score 96 ≥ 95');
    // Not disruptive, so no override even at 96.
    expect(step(at96.plan, `${E}.page`).windowOverride).toBeUndefined();
  });

  it('edr-malware: a jump to ≥ 90 while waiting removes the approval need, and the step changes', () => {
    const P = 'edr-malware';
    const st0 = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st0);
    const before = step(r1.plan, `${P}.contain`);
    expect(before.status).toBe('awaiting_approval');

    const [, r2] = again(policy, st0, r1, withRisk(st0, 95));
    const after = step(r2.plan, `${P}.contain`);
    expect(after.status).toBe('pending');
    expect(after.approval).toBeUndefined();
    expect(after.note).toBeUndefined();
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(r2.plan.version).toBe(2);
    expect(r2.diff).toEqual([
      {
        step: `${P}.contain`,
        change: 'params',
        from: canonicalJson({ comment: 'drw: MaliciousPowerShell on laptop-42 (risk 70)' }),
        to: canonicalJson({ comment: 'drw: MaliciousPowerShell on laptop-42 (risk 95)' }),
      },
      { step: `${P}.contain`, change: 'status', from: 'awaiting_approval', to: 'pending' },
      {
        step: `${P}.notify`,
        change: 'params',
        from: canonicalJson({ channel: 'secops', text: 'Malware MaliciousPowerShell on laptop-42: containment 70' }),
        to: canonicalJson({ channel: 'secops', text: 'Malware MaliciousPowerShell on laptop-42: containment 95' }),
      },
    ]);
  });

  it('an approval given for the old step lapses when the step changes (and is needed again below 90)', () => {
    const P = 'edr-malware';
    const st0 = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st0);
    const approvals = [decision(step(r1.plan, `${P}.contain`), 'alice')];
    const [st1, r2] = again(policy, st0, r1, { approvals });
    expect(step(r2.plan, `${P}.contain`)).toMatchObject({ status: 'pending', note: 'approved by alice', approval: { approvedBy: ['alice'] } });
    expect(r2.diff).toEqual([{ step: `${P}.contain`, change: 'status', from: 'awaiting_approval', to: 'pending', why: 'approved by alice' }]);

    const [, r3] = again(policy, st1, r2, withRisk(st0, 75));
    const contain = step(r3.plan, `${P}.contain`);
    expect(contain).toMatchObject({ status: 'awaiting_approval', note: '0/1 approvals', approval: { approvedBy: [] } });
    expect(r3.diff.filter((d) => d.step === `${P}.contain`).map((d) => d.change)).toEqual(['params', 'approval_lapsed', 'status']);
    expect(r3.diff).toContainEqual({ step: `${P}.contain`, change: 'approval_lapsed', from: 'alice', why: 'the step changed after it was approved' });
    expect(r3.diff).toContainEqual({ step: `${P}.contain`, change: 'status', from: 'pending', to: 'awaiting_approval', why: '0/1 approvals' });
  });

  it('a jump past 90 after approval also reports the lapse, though no approval is needed any more', () => {
    const P = 'edr-malware';
    const st0 = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st0);
    const [st1, r2] = again(policy, st0, r1, { approvals: [decision(step(r1.plan, `${P}.contain`), 'alice')] });
    const [, r3] = again(policy, st1, r2, withRisk(st0, 97));
    expect(step(r3.plan, `${P}.contain`).status).toBe('pending');
    expect(r3.diff.filter((d) => d.step === `${P}.contain`)).toEqual([
      expect.objectContaining({ change: 'params' }),
      { step: `${P}.contain`, change: 'approval_lapsed', from: 'alice', why: 'the step changed after it was approved' },
    ]);
  });

  it('no approval_lapsed entry when the changed step had no approvals', () => {
    const st0 = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st0);
    const [, r2] = again(policy, st0, r1, withRisk(st0, 75));
    expect(r2.diff.map((d) => d.change)).toEqual(['params', 'params']);
    expect(step(r2.plan, 'edr-malware.contain').status).toBe('awaiting_approval');
  });
});

describe('risk goes down', () => {
  const E = 'exposure';

  function atRisk85WithTicketAndLookupDone(): [PlannerState, PlanResult] {
    const st = stateFor(DETECTIONS.exposure(85));
    const r = buildPlan(gated, st);
    return [st, { ...r, plan: mark(r.plan, { [`${E}.ticket`]: 'done', [`${E}.lookup`]: 'done' }) }];
  }

  it('withdraws steps not yet started, quoting the rule, and leaves done steps alone', () => {
    const [st, r1] = atRisk85WithTicketAndLookupDone();
    const [, r2] = again(gated, st, r1, withRisk(st, 60));
    expect(ids(r2.plan)).toEqual(ids(r1.plan));
    expect(statuses(r2.plan)).toEqual({
      [`${E}.ticket`]: 'done',
      [`${E}.lookup`]: 'done',
      [`${E}.contain`]: 'skipped',
      [`${E}.page`]: 'skipped',
      [`${E}.verify`]: 'pending',
    });
    expect(step(r2.plan, `${E}.contain`).note).toBe('condition no longer holds: riskScore >= 80 and asset.environment == production');
    expect(step(r2.plan, `${E}.page`).note).toBe('condition no longer holds: riskScore >= 80');
    expect(r2.diff).toEqual([
      { step: `${E}.contain`, change: 'status', from: 'awaiting_approval', to: 'skipped', why: 'condition no longer holds: riskScore >= 80 and asset.environment == production' },
      { step: `${E}.page`, change: 'status', from: 'pending', to: 'skipped', why: 'condition no longer holds: riskScore >= 80' },
    ]);
    expect(r2.plan.version).toBe(2);
  });

  it('a done step whose condition stops holding stays done', () => {
    const [st, r1] = atRisk85WithTicketAndLookupDone();
    const [, r2] = again(gated, st, r1, withRisk(st, 30));
    expect(step(r2.plan, `${E}.lookup`)).toEqual(step(r1.plan, `${E}.lookup`));
    expect(step(r2.plan, `${E}.verify`)).toMatchObject({ status: 'skipped', note: 'condition no longer holds: riskScore >= 50' });
    expect(r2.diff.map((d) => d.step)).toEqual([`${E}.contain`, `${E}.page`, `${E}.verify`]);
  });

  it('when the risk comes back the withdrawn steps return in place', () => {
    const [st, r1] = atRisk85WithTicketAndLookupDone();
    const [st2, r2] = again(gated, st, r1, withRisk(st, 60));
    const [, r3] = again(gated, st2, r2, withRisk(st, 88));
    expect(ids(r3.plan)).toEqual(ids(r1.plan));
    expect(step(r3.plan, `${E}.contain`)).toMatchObject({ status: 'awaiting_approval', note: '0/2 approvals' });
    expect(step(r3.plan, `${E}.page`).note).toBeUndefined();
    expect(r3.diff).toEqual([
      { step: `${E}.contain`, change: 'status', from: 'skipped', to: 'awaiting_approval', why: '0/2 approvals' },
      {
        step: `${E}.page`,
        change: 'params',
        from: canonicalJson({ channel: 'secops', text: 'db-7 exposed (risk 85)' }),
        to: canonicalJson({ channel: 'secops', text: 'db-7 exposed (risk 88)' }),
      },
      { step: `${E}.page`, change: 'status', from: 'skipped', to: 'pending', why: 'condition holds again: riskScore >= 80' },
    ]);
  });
});

describe('a running step the new plan no longer wants', () => {
  const E = 'exposure';

  it.each([
    ['page', 'notify', 60, 'condition no longer holds: riskScore >= 80'],
    ['lookup', 'cmdb.lookup', 40, 'condition no longer holds: riskScore >= 50'],
    ['verify', 'verify', 40, 'condition no longer holds: riskScore >= 50'],
  ])('%s (%s) is safe to cancel: cancelled', (short, action, risk, why) => {
    const st = stateFor(DETECTIONS.exposure(85));
    const r1 = buildPlan(gated, st);
    expect(step(r1.plan, `${E}.${short}`).action).toBe(action);
    const running = { ...r1, plan: mark(r1.plan, { [`${E}.ticket`]: 'done', [`${E}.${short}`]: 'running' }) };
    const [, r2] = again(gated, st, running, withRisk(st, risk));
    expect(step(r2.plan, `${E}.${short}`)).toMatchObject({ status: 'cancelled', note: `${why}; running activity cancelled` });
    expect(r2.diff).toContainEqual({ step: `${E}.${short}`, change: 'status', from: 'running', to: 'cancelled', why });
  });

  it('endpoint.isolate is not: it stays running, with a note saying why it was withdrawn', () => {
    const st = stateFor(DETECTIONS.exposure(85));
    const r1 = buildPlan(gated, st);
    const running = { ...r1, plan: mark(r1.plan, { [`${E}.ticket`]: 'done', [`${E}.lookup`]: 'done', [`${E}.contain`]: 'running' }) };
    const [, r2] = again(gated, st, running, withRisk(st, 60));
    expect(step(r2.plan, `${E}.contain`)).toMatchObject({
      status: 'running',
      note: 'condition no longer holds: riskScore >= 80 and asset.environment == production; left to finish (not safe to cancel mid-flight)',
    });
    // Its status did not change, so no status entry; page is withdrawn as usual.
    expect(r2.diff).toEqual([{ step: `${E}.page`, change: 'status', from: 'pending', to: 'skipped', why: 'condition no longer holds: riskScore >= 80' }]);
  });

  it('a running step that is still wanted keeps the parameters it started with', () => {
    const st = stateFor(DETECTIONS.exposure(85));
    const r1 = buildPlan(gated, st);
    const running = { ...r1, plan: mark(r1.plan, { [`${E}.ticket`]: 'done', [`${E}.lookup`]: 'done', [`${E}.page`]: 'running' }) };
    const [, r2] = again(gated, st, running, withRisk(st, 91));
    expect(step(r2.plan, `${E}.page`)).toMatchObject({ status: 'running', params: { text: 'db-7 exposed (risk 85)' } });
    expect(r2.diff).toEqual([]);
  });
});

describe('finding resolved at the source', () => {
  const P = 'critical-vuln-internet-prod';

  it('skips what would change systems; keeps verify, tickets and notifications', () => {
    const st = stateFor(DETECTIONS.criticalVuln());
    const r1 = buildPlan(policy, st);
    const ran = { ...r1, plan: mark(r1.plan, { [`${P}.ticket`]: 'done', [`${P}.notify`]: 'done' }) };
    const [, r2] = again(policy, st, ran, { resolvedAtSource: true });
    expect(statuses(r2.plan)).toEqual({
      [`${P}.ticket`]: 'done',
      [`${P}.notify`]: 'done',
      [`${P}.contain`]: 'skipped',
      [`${P}.patch`]: 'skipped',
      [`${P}.verify`]: 'pending',
    });
    expect(step(r2.plan, `${P}.contain`).note).toBe('finding resolved at the source');
    expect(r2.diff).toEqual([
      { step: `${P}.contain`, change: 'status', from: 'awaiting_approval', to: 'skipped', why: 'finding resolved at the source' },
      { step: `${P}.patch`, change: 'status', from: 'pending', to: 'skipped', why: 'finding resolved at the source' },
    ]);
  });

  it('edr-malware: a pending containment is skipped, notify and verify stay', () => {
    const st = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st);
    const [, r2] = again(policy, st, { ...r1, plan: mark(r1.plan, { 'edr-malware.ticket': 'done' }) }, { resolvedAtSource: true });
    expect(statuses(r2.plan)).toEqual({
      'edr-malware.ticket': 'done',
      'edr-malware.contain': 'skipped',
      'edr-malware.notify': 'pending',
      'edr-malware.verify': 'pending',
    });
  });

  it('lifting a containment drw applied still happens once the finding is resolved', () => {
    const st = stateFor(DETECTIONS.criticalVuln());
    const r1 = buildPlan(policy, st);
    const contained = { ...r1, plan: mark(r1.plan, { [`${P}.ticket`]: 'done', [`${P}.notify`]: 'done', [`${P}.contain`]: 'done', [`${P}.patch`]: 'done' }) };
    // While unresolved, containment being done is what brings the release in.
    const [, open] = again(policy, st, contained);
    expect(ids(open.plan)).toEqual([`${P}.ticket`, `${P}.notify`, `${P}.contain`, `${P}.patch`, `${P}.verify`, `${P}.release`]);
    expect(step(open.plan, `${P}.release`)).toMatchObject({
      status: 'pending',
      params: { comment: 'drw: web-01 patched; lifting containment' },
      reason: { rule: 'doneSteps contains contain', facts: expect.objectContaining({ doneSteps: ['ticket', 'notify', 'contain', 'patch'] }) },
    });

    const [, resolved] = again(policy, st, contained, { resolvedAtSource: true });
    expect(statuses(resolved.plan)).toEqual({
      [`${P}.ticket`]: 'done',
      [`${P}.notify`]: 'done',
      [`${P}.contain`]: 'done',
      [`${P}.patch`]: 'done',
      [`${P}.verify`]: 'pending',
      [`${P}.release`]: 'pending',
    });
  });
});

describe('policy update', () => {
  const P = 'edr-malware';

  it('inserts the new step in playbook order, skips the removed one, keeps done steps and approvals', () => {
    expect(v2.version).not.toBe(policy.version);
    const st0 = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st0);
    const approvals = [decision(step(r1.plan, `${P}.contain`), 'alice')];
    const [st1, r2] = again(policy, st0, { ...r1, plan: mark(r1.plan, { [`${P}.ticket`]: 'done' }) }, { approvals });
    expect(r2.plan.version).toBe(2);

    const [, r3] = again(v2, st1, r2, { requestedBy: 'policy-admin' });
    expect(r3.plan).toMatchObject({ version: 3, policyVersion: v2.version, playbook: P });
    expect(ids(r3.plan)).toEqual([`${P}.ticket`, `${P}.snapshot`, `${P}.contain`, `${P}.notify`, `${P}.verify`]);
    expect(statuses(r3.plan)).toEqual({
      [`${P}.ticket`]: 'done',
      [`${P}.snapshot`]: 'pending',
      [`${P}.contain`]: 'pending',
      [`${P}.notify`]: 'skipped',
      [`${P}.verify`]: 'pending',
    });
    // v2 raises the ticket priority, but that ticket is already open.
    expect(step(r3.plan, `${P}.ticket`).params).toEqual({ priority: 'high', labels: ['malware'] });
    expect(step(r3.plan, `${P}.snapshot`)).toMatchObject({
      action: 'runbook.run',
      title: 'Capture a memory snapshot before containment',
      params: { runbook: 'memory-snapshot', host: 'laptop-42' },
      timeoutMs: 600_000,
      requestedBy: 'policy-admin',
    });
    // contain is unchanged in v2: same fingerprint, so alice's approval still counts, and its requester stays.
    expect(step(r3.plan, `${P}.contain`)).toMatchObject({
      fingerprint: step(r2.plan, `${P}.contain`).fingerprint,
      approval: { approvedBy: ['alice'] },
      requestedBy: INGEST,
    });
    const removed = `step removed from playbook ${P} (policy ${v2.version})`;
    expect(step(r3.plan, `${P}.notify`).note).toBe(removed);
    expect(r3.diff).toEqual([
      { step: `${P}.snapshot`, change: 'added', to: 'pending', why: 'playbook step, when always' },
      { step: `${P}.notify`, change: 'status', from: 'pending', to: 'skipped', why: removed },
    ]);
  });

  it('bumps the plan version even when the remediation\'s own playbook did not change', () => {
    const st = stateFor(DETECTIONS.criticalVuln());
    const r1 = buildPlan(policy, st);
    const [, r2] = again(v2, st, r1);
    expect(r2.diff).toEqual([]);
    expect(r2.plan.steps).toEqual(r1.plan.steps);
    expect(r2.plan.version).toBe(2);
    expect(r2.plan.policyVersion).toBe(v2.version);
    // And once on v2, a re-plan is quiet again.
    const [, r3] = again(v2, st, r2);
    expect(r3.plan).toEqual(r2.plan);
  });
});

describe('policy update (inline playbooks)', () => {
  function set(version: string, yaml: string): PolicySet {
    const r = parsePlaybookText(yaml, 'inline.yaml');
    if (!r.playbook) throw new Error(JSON.stringify(r.problems));
    return { version, playbooks: [r.playbook], files: { [r.playbook.id]: 'inline.yaml' } };
  }
  const HEAD = 'id: m\nname: m\nmatch: { categories: [malware] }\n';
  const before = set('a', `${HEAD}steps:\n  - { id: ticket, action: ticket.open }\n  - { id: contain, action: endpoint.isolate }\nescalation:\n  - { id: page, action: escalate }\n`);
  const after = set('b', `${HEAD}steps:\n  - { id: triage, action: cmdb.lookup }\n  - { id: ticket, action: ticket.open }\n  - { id: contain, action: endpoint.isolate }\nescalation:\n  - { id: call, action: escalate }\n`);

  it('a new first step goes after what already happened, not before it', () => {
    const st = stateFor(DETECTIONS.falcon(50));
    const r1 = buildPlan(before, st);
    const [, r2] = again(after, st, { ...r1, plan: mark(r1.plan, { 'm.ticket': 'done' }) });
    expect(ids(r2.plan)).toEqual(['m.ticket', 'm.triage', 'm.contain']);
    // Nothing ran yet: it goes first, as in the playbook.
    const [, fresh] = again(after, st, r1);
    expect(ids(fresh.plan)).toEqual(['m.triage', 'm.ticket', 'm.contain']);
  });

  it('an escalation step the new policy drops is skipped as removed; its replacement is added', () => {
    const st = stateFor(DETECTIONS.falcon(50), { escalations: ['sla_breached'] });
    const r1 = buildPlan(before, st);
    expect(ids(r1.plan)).toEqual(['m.ticket', 'm.contain', 'm.sla_breached.page']);
    const [, r2] = again(after, st, r1);
    expect(step(r2.plan, 'm.sla_breached.page')).toMatchObject({ status: 'skipped', note: 'step removed from playbook m (policy b)' });
    expect(step(r2.plan, 'm.sla_breached.call')).toMatchObject({ status: 'pending', reason: { section: 'escalation', trigger: 'sla_breached' } });
  });
});

describe('playbook switch', () => {
  it('a repeat raises the severity to critical: vulnerability → critical-vuln-internet-prod', () => {
    const C = 'critical-vuln-internet-prod';
    const st = stateFor(DETECTIONS.criticalVuln({ severity: 'high' }));
    const r1 = buildPlan(policy, st);
    expect(r1.plan.playbook).toBe('vulnerability');
    const ran = { ...r1, plan: mark(r1.plan, { 'vulnerability.ticket': 'done', 'vulnerability.patch': 'running' }) };

    const [, r2] = again(policy, st, ran, { facts: { ...st.facts, severity: 'critical', findingCount: 2 } });
    expect(r2.plan.playbook).toBe(C);
    expect(r2.selection).toContain('playbook critical-vuln-internet-prod (priority 100) matched on');
    expect(ids(r2.plan)).toEqual([
      'vulnerability.ticket',
      'vulnerability.patch',
      `${C}.ticket`,
      `${C}.notify`,
      `${C}.contain`,
      `${C}.patch`,
      `${C}.verify`,
      'vulnerability.verify',
    ]);
    const changed = 'playbook changed from vulnerability to critical-vuln-internet-prod';
    expect(step(r2.plan, 'vulnerability.ticket').status).toBe('done');
    expect(step(r2.plan, 'vulnerability.patch')).toMatchObject({ status: 'running', note: `${changed}; left to finish (not safe to cancel mid-flight)` });
    expect(step(r2.plan, 'vulnerability.verify')).toMatchObject({ status: 'skipped', note: changed });
    expect(step(r2.plan, `${C}.contain`).status).toBe('awaiting_approval');
    expect(r2.diff.filter((d) => d.change === 'added').map((d) => d.step)).toEqual([`${C}.ticket`, `${C}.notify`, `${C}.contain`, `${C}.patch`, `${C}.verify`]);
    expect(r2.diff).toContainEqual({ step: 'vulnerability.verify', change: 'status', from: 'pending', to: 'skipped', why: changed });
    expect(r2.plan.version).toBe(2);
  });

  it('the category changes: old steps skipped "playbook changed", new ones after the settled ones', () => {
    const st = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st);
    const ran = { ...r1, plan: mark(r1.plan, { 'edr-malware.ticket': 'done' }) };
    const [, r2] = again(policy, st, ran, { facts: { ...st.facts, category: 'infrastructure', details: { runbook: 'reimage', service: 'laptop-fleet' } } });
    expect(r2.plan.playbook).toBe('infrastructure-alert');
    expect(r2.selection).toBe('playbook infrastructure-alert (priority 40) matched on category="infrastructure"');
    expect(ids(r2.plan)).toEqual([
      'edr-malware.ticket',
      'infrastructure-alert.ticket',
      'infrastructure-alert.runbook',
      'infrastructure-alert.verify',
      'edr-malware.contain',
      'edr-malware.notify',
      'edr-malware.verify',
    ]);
    for (const id of ['edr-malware.contain', 'edr-malware.notify', 'edr-malware.verify']) {
      expect(step(r2.plan, id)).toMatchObject({ status: 'skipped', note: 'playbook changed from edr-malware to infrastructure-alert' });
    }
    expect(step(r2.plan, 'infrastructure-alert.runbook').params).toEqual({ runbook: 'reimage', service: 'laptop-fleet' });
  });
});

describe('approvals', () => {
  const C = 'exposure.contain';

  function awaiting(): [PlannerState, PlanResult] {
    const st = stateFor(DETECTIONS.exposure(85));
    return [st, buildPlan(gated, st)];
  }

  it('quorum 2 needs two distinct approvers with the current fingerprint', () => {
    const [st, r1] = awaiting();
    const c = step(r1.plan, C);
    expect(c.approval).toMatchObject({ groups: ['secops', 'sre'], quorum: 2, onExpiry: 'deny', expiresAfterMs: 1_800_000 });

    const alice = decision(c, 'alice');
    const [, one] = again(gated, st, r1, { approvals: [alice] });
    expect(step(one.plan, C)).toMatchObject({ status: 'awaiting_approval', note: '1/2 approvals', approval: { approvedBy: ['alice'] } });

    // The same person twice, and an approval of what the step used to be, do not make a quorum.
    const stale = decision({ ...c, fingerprint: '0123456789abcdef' }, 'bob');
    const otherStep = decision(step(r1.plan, 'exposure.page'), 'erin');
    const [, still] = again(gated, st, r1, { approvals: [alice, { ...alice, at: '2030-01-01T00:05:00.000Z' }, stale, otherStep] });
    expect(step(still.plan, C)).toMatchObject({ status: 'awaiting_approval', note: '1/2 approvals', approval: { approvedBy: ['alice'] } });

    const [, two] = again(gated, st, r1, { approvals: [alice, stale, decision(c, 'carol', 'approve', { groups: ['sre'] })] });
    expect(step(two.plan, C)).toMatchObject({ status: 'pending', note: 'approved by alice, carol', approval: { approvedBy: ['alice', 'carol'] } });
    expect(two.diff).toEqual([{ step: C, change: 'status', from: 'awaiting_approval', to: 'pending', why: 'approved by alice, carol' }]);
  });

  it('a deny skips the step, names who denied and why, and stays on re-plan', () => {
    const [st, r1] = awaiting();
    const c = step(r1.plan, C);
    const approvals = [decision(c, 'alice'), decision(c, 'dave', 'deny')];
    const [st2, r2] = again(gated, st, r1, { approvals });
    const why = 'denied by dave: not on a production host during the sale';
    expect(step(r2.plan, C)).toMatchObject({ status: 'skipped', note: why, approval: { approvedBy: ['alice'], deniedBy: 'dave' } });
    expect(r2.diff).toEqual([{ step: C, change: 'status', from: 'awaiting_approval', to: 'skipped', why }]);

    const [, r3] = again(gated, st2, r2);
    expect(r3.plan).toEqual(r2.plan);
    expect(r3.diff).toEqual([]);
  });

  it('a deny of an older version of the step does not count', () => {
    const [st, r1] = awaiting();
    const staleDeny = decision({ ...step(r1.plan, C), fingerprint: 'ffffffffffffffff' }, 'dave', 'deny');
    const [, r2] = again(gated, st, r1, { approvals: [staleDeny] });
    expect(step(r2.plan, C).status).toBe('awaiting_approval');
    expect(step(r2.plan, C).approval!.deniedBy).toBeUndefined();
  });

  it('a denied step comes back for approval when what it would do changes', () => {
    const st = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st);
    const [st2, r2] = again(policy, st, r1, { approvals: [decision(step(r1.plan, 'edr-malware.contain'), 'dave', 'deny')] });
    expect(step(r2.plan, 'edr-malware.contain').status).toBe('skipped');
    const [, r3] = again(policy, st2, r2, withRisk(st, 80));
    expect(step(r3.plan, 'edr-malware.contain')).toMatchObject({ status: 'awaiting_approval', note: '0/1 approvals' });
    expect(r3.diff).toContainEqual({ step: 'edr-malware.contain', change: 'status', from: 'skipped', to: 'awaiting_approval', why: '0/1 approvals' });
  });
});

describe('escalations', () => {
  const P = 'edr-malware';

  it('each trigger inserts the escalation steps once, in the order the triggers happened', () => {
    const st = stateFor(DETECTIONS.falcon(95));
    const r1 = buildPlan(policy, st);
    const ran = { ...r1, plan: mark(r1.plan, { [`${P}.ticket`]: 'done', [`${P}.contain`]: 'done', [`${P}.notify`]: 'done' }) };

    const [st2, r2] = again(policy, st, ran, { escalations: ['sla_breached'] });
    expect(ids(r2.plan)).toEqual([`${P}.ticket`, `${P}.contain`, `${P}.notify`, `${P}.verify`, `${P}.sla_breached.page`]);
    expect(step(r2.plan, `${P}.sla_breached.page`)).toMatchObject({
      action: 'escalate',
      status: 'pending',
      title: 'escalate (page)',
      params: { channel: 'secops', text: 'Malware on laptop-42 needs a person now' },
      reason: { playbook: P, section: 'escalation', rule: 'always', facts: { category: 'malware' }, trigger: 'sla_breached' },
    });
    expect(r2.diff).toEqual([{ step: `${P}.sla_breached.page`, change: 'added', to: 'pending', why: 'escalation (sla_breached), when always' }]);
    expect(r2.plan.version).toBe(2);

    const done = { ...r2, plan: mark(r2.plan, { [`${P}.sla_breached.page`]: 'done', [`${P}.verify`]: 'failed' }) };
    const [st3, r3] = again(policy, st2, done, { escalations: ['sla_breached', 'verification_failed'], verificationFailures: 1 });
    expect(ids(r3.plan)).toEqual([`${P}.ticket`, `${P}.contain`, `${P}.notify`, `${P}.verify`, `${P}.sla_breached.page`, `${P}.verification_failed.page`]);
    expect(step(r3.plan, `${P}.sla_breached.page`).status).toBe('done');
    expect(r3.diff).toEqual([{ step: `${P}.verification_failed.page`, change: 'added', to: 'pending', why: 'escalation (verification_failed), when always' }]);

    // The same trigger again (an SLA re-breach after continue-as-new, say) adds nothing.
    const [st4, r4] = again(policy, st3, r3, { escalations: ['sla_breached', 'verification_failed', 'sla_breached'] });
    expect(r4.diff).toEqual([]);
    expect(r4.plan).toEqual(r3.plan);

    const [, r5] = again(policy, st4, r4, { escalations: ['sla_breached', 'verification_failed', 'approval_expired'] });
    expect(ids(r5.plan).slice(-3)).toEqual([`${P}.sla_breached.page`, `${P}.verification_failed.page`, `${P}.approval_expired.page`]);
    expect(r5.diff).toEqual([{ step: `${P}.approval_expired.page`, change: 'added', to: 'pending', why: 'escalation (approval_expired), when always' }]);
  });

  it('escalation steps go after the playbook steps even while those are open', () => {
    const st = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st);
    const [, r2] = again(policy, st, r1, { escalations: ['approval_expired'] });
    expect(ids(r2.plan)).toEqual([`${P}.ticket`, `${P}.contain`, `${P}.notify`, `${P}.verify`, `${P}.approval_expired.page`]);
    expect(step(r2.plan, `${P}.contain`).status).toBe('awaiting_approval');
  });

  it('uses the playbook\'s own escalation steps (vulnerability: notify-owner)', () => {
    const st = stateFor(DETECTIONS.criticalVuln({ severity: 'medium' }));
    const r1 = buildPlan(policy, st);
    const [, r2] = again(policy, st, r1, { escalations: ['sla_breached'] });
    expect(step(r2.plan, 'vulnerability.sla_breached.notify-owner')).toMatchObject({
      params: { channel: 'vuln-management', text: 'CVE-2024-3094 on web-01 breached its exposure window' },
    });
  });
});

describe('cancel and false positive', () => {
  const P = 'edr-malware';

  it('cancel: pending and awaiting steps become cancelled; done stays done', () => {
    const st = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st);
    const ran = { ...r1, plan: mark(r1.plan, { [`${P}.ticket`]: 'done' }) };
    const [, r2] = again(policy, st, ran, { cancelled: true, requestedBy: 'oncall@example.com' });
    expect(statuses(r2.plan)).toEqual({
      [`${P}.ticket`]: 'done',
      [`${P}.contain`]: 'cancelled',
      [`${P}.notify`]: 'cancelled',
      [`${P}.verify`]: 'cancelled',
    });
    expect(step(r2.plan, `${P}.contain`).note).toBe('remediation cancelled');
    expect(r2.diff).toEqual([
      { step: `${P}.contain`, change: 'status', from: 'awaiting_approval', to: 'cancelled', why: 'remediation cancelled' },
      { step: `${P}.notify`, change: 'status', from: 'pending', to: 'cancelled', why: 'remediation cancelled' },
      { step: `${P}.verify`, change: 'status', from: 'pending', to: 'cancelled', why: 'remediation cancelled' },
    ]);
  });

  it('cancel: a running notify is cancelled, a running isolation is left to finish, a skipped step stays skipped', () => {
    const st = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st);
    const denied = again(policy, st, r1, { approvals: [decision(step(r1.plan, `${P}.contain`), 'dave', 'deny')] })[1];
    const ran = { ...denied, plan: mark(denied.plan, { [`${P}.ticket`]: 'done', [`${P}.notify`]: 'running' }) };
    const [, r2] = again(policy, st, ran, { cancelled: true, approvals: [] });
    expect(step(r2.plan, `${P}.contain`)).toMatchObject({ status: 'skipped', note: 'denied by dave: not on a production host during the sale' });
    expect(step(r2.plan, `${P}.notify`)).toMatchObject({ status: 'cancelled', note: 'remediation cancelled; running activity cancelled' });

    const st95 = stateFor(DETECTIONS.falcon(95));
    const p95 = buildPlan(policy, st95);
    const isolating = { ...p95, plan: mark(p95.plan, { [`${P}.ticket`]: 'done', [`${P}.contain`]: 'running' }) };
    const [, c95] = again(policy, st95, isolating, { cancelled: true });
    expect(step(c95.plan, `${P}.contain`)).toMatchObject({ status: 'running', note: 'remediation cancelled; left to finish (not safe to cancel mid-flight)' });
    expect(statuses(c95.plan)).toMatchObject({ [`${P}.notify`]: 'cancelled', [`${P}.verify`]: 'cancelled' });
  });

  it('false positive: open steps are skipped, not cancelled', () => {
    const st = stateFor(DETECTIONS.falcon(70));
    const r1 = buildPlan(policy, st);
    const [, r2] = again(policy, st, r1, { falsePositive: true });
    expect(r2.plan.steps.map((s) => [s.status, s.note])).toEqual([
      ['skipped', 'marked a false positive'],
      ['skipped', 'marked a false positive'],
      ['skipped', 'marked a false positive'],
      ['skipped', 'marked a false positive'],
    ]);
  });
});
