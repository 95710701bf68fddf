import type { PolicySet } from '../../../planner/policy-schema';
import type { Plan, PlanStep } from '../../../planner/types';
import { extract } from '../../../report/extract';
import { runFromJson } from '../../../report/history';
import { Replayer } from '../../../report/replay';
import { comparePlans, formatWhatIf, recoverInputs, whatIf } from '../../../report/whatif';
import { CHAIN_FILE, EDR_FILE, PRE_CORE_FILE, fixtureRuns, fixtureText, recordedPolicy, when, withStep } from './fixtures';

const edr = fixtureRuns(EDR_FILE);
const chain = fixtureRuns(CHAIN_FILE);
const edrPolicy = recordedPolicy(edr);

describe('recovering the decision inputs from a history', () => {
  const rec = recoverInputs(extract(edr));
  const labels = (inputs: typeof rec.inputs) => inputs.map((i) => (i.kind === 'step' ? `step:${i.stepId.split('.')[1]}:${i.outcome}` : i.kind));
  /** The recorded EDR remediation's inputs before alice's approval. */
  const UNTIL_THE_APPROVAL = ['policy', 'enrich', 'step:ticket:started', 'step:ticket:done', 'step:notify:started', 'step:notify:done', 'repeat', 'risk'];

  test('the detection, the recorded policy, the enrichment note, then every input in order', () => {
    expect(rec.init).toMatchObject({ requestedBy: 'api:crowdstrike', detection: expect.objectContaining({ riskScore: 60 }) });
    expect(rec.recordedPolicies).toEqual([edrPolicy.version]);
    expect(labels(rec.inputs)).toEqual([
      ...UNTIL_THE_APPROVAL,
      'decision',
      'step:contain:started',
      'step:contain:done',
      'step:verify:started',
      'step:verify:done',
      'final',
    ]);
    expect(rec.inputs.find((i) => i.kind === 'risk')).toMatchObject({ riskScore: 70, by: 'soc-bot' });
    expect(rec.inputs.find((i) => i.kind === 'decision')).toMatchObject({ decision: 'approve', stepId: 'edr-malware.contain', approver: 'alice', groups: ['secops'], via: 'update' });
    expect(rec.recordedPlans.map((p) => p.version)).toEqual([1, 2, 3]);
  });

  test('a remediation still running: its history carries the decision log so far', () => {
    const all = JSON.parse(fixtureText(EDR_FILE));
    const cut = all.events.findIndex((e: any) => e.workflowExecutionUpdateAcceptedEventAttributes);
    const r = recoverInputs(extract([runFromJson({ events: all.events.slice(0, cut) })]));
    expect(r.warnings).toEqual([]);
    expect(labels(r.inputs)).toEqual(UNTIL_THE_APPROVAL);
  });

  test('a history recorded before the remediation core (no typed log): step outcomes come from the activities', () => {
    const r = recoverInputs(extract(fixtureRuns(PRE_CORE_FILE)));
    expect(r.warnings.join('\n')).toMatch(/no decision log/);
    expect(r.inputs.filter((i) => i.kind === 'step').map((i) => `${(i as any).stepId}:${(i as any).outcome}`)).toEqual([
      'edr-malware.ticket:started',
      'edr-malware.ticket:done',
      'edr-malware.notify:started',
      'edr-malware.notify:done',
      'edr-malware.contain:started',
      'edr-malware.contain:done',
      'edr-malware.verify:started',
    ]);
    expect(r.inputs.find((i) => i.kind === 'enrich')).toBeDefined();
  });
});

describe('policy what-if on recorded histories', () => {
  test('the recorded policy reproduces every recorded plan, and nothing differs', () => {
    const r = whatIf(edr, edrPolicy);
    expect(r.fidelity).toEqual({ checked: true, matches: true, detail: '3 recorded plan version(s) reproduced' });
    expect(r.differs).toBe(false);
    expect(r.points).toEqual([]);
    expect(r.final.differences).toEqual([]);
    expect(r.final.candidate.steps).toEqual(r.final.actual.steps);
    expect(r.historySha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('containment without approval below 90 → no approval from the initial plan on; alice would not be asked', () => {
    const cand = withStep(edrPolicy, 'edr-malware', 'contain', (s) => (s.approval.when = when('riskScore < 50')));
    const r = whatIf(edr, cand);
    expect(r.differs).toBe(true);
    expect(r.points[0]).toMatchObject({ trigger: expect.stringMatching(/initial plan/), actual: { version: 1, playbook: 'edr-malware' }, candidate: { version: 1 } });
    expect(r.points[0].differences).toEqual([expect.objectContaining({ kind: 'approval', step: 'contain', actual: 'approval by groups [secops]', candidate: 'no approval' })]);
    expect(r.notes.map((n) => n.message)).toEqual([expect.stringMatching(/alice's approval of edr-malware.contain would not be asked for/)]);
    expect(r.final.differences).toEqual([expect.objectContaining({ kind: 'approval', step: 'contain' })]);
    expect(formatWhatIf(r)).toMatch(/approval +step contain: approval by groups \[secops\] → no approval/);
  });

  test('another approver group → alice is refused and containment would still wait', () => {
    const cand = withStep(edrPolicy, 'edr-malware', 'contain', (s) => (s.approval.groups = ['soc-leads']));
    const r = whatIf(edr, cand);
    expect(r.notes.map((n) => n.message)).toEqual([
      expect.stringMatching(/alice's approval of edr-malware.contain would be refused: alice may not approve step "edr-malware.contain": it needs a member of \[soc-leads\]/),
      expect.stringMatching(/edr-malware.contain ran in reality; here it is awaiting_approval/),
    ]);
    expect(r.final.differences).toEqual([expect.objectContaining({ kind: 'approval', step: 'contain', detail: expect.stringMatching(/\(done → awaiting_approval\)/) })]);
  });

  test('a step added and another removed; a playbook change', () => {
    const cand = JSON.parse(JSON.stringify(edrPolicy)) as PolicySet;
    const pb = cand.playbooks.find((p) => p.id === 'edr-malware')!;
    pb.steps = pb.steps.filter((s) => s.id !== 'notify');
    pb.steps.push({ ...JSON.parse(JSON.stringify(pb.steps[0])), id: 'page-oncall', action: 'notify', params: { channel: 'oncall', text: 'x' } });
    cand.version = 'cand-steps';
    const r = whatIf(edr, cand);
    const kinds = r.points[0].differences.map((d) => `${d.kind}:${d.step}`);
    expect(kinds).toEqual(expect.arrayContaining(['added:page-oncall', 'removed:notify']));

    const noEdr = JSON.parse(JSON.stringify(edrPolicy)) as PolicySet;
    noEdr.playbooks = noEdr.playbooks.filter((p) => p.id !== 'edr-malware');
    noEdr.version = 'cand-no-edr';
    const t = whatIf(edr, noEdr);
    expect(t.points[0].differences[0]).toMatchObject({ kind: 'playbook', actual: 'edr-malware', candidate: 'triage' });
    expect(t.final.candidate.playbook).toBe('triage');
  });

  test('a continue-as-new chain: inputs from every run; a stricter approver group shows up', () => {
    const pol = recordedPolicy(chain);
    const same = whatIf(chain, pol);
    expect(same.fidelity.matches).toBe(true);
    expect(same.differs).toBe(false);
    const cand = withStep(pol, 'cloud-misconfiguration', 'fix-bucket', (s) => (s.approval.groups = ['platform-leads']));
    const r = whatIf(chain, cand);
    expect(r.differs).toBe(true);
    expect(r.notes[0].message).toMatch(/carol's approval of cloud-misconfiguration.fix-bucket would be refused/);
    expect(r.final.differences).toEqual([expect.objectContaining({ kind: 'approval', step: 'fix-bucket' })]);
  });
});

describe('a history that starts mid-chain (one later run alone)', () => {
  // The first run that begins with the fix and its verification still to come (where a chain continues as new depends on its history's size).
  const later = JSON.parse(fixtureText(CHAIN_FILE)).runs.slice(1).find((x: any) => {
    const input = JSON.parse(Buffer.from(x.history.events[0].workflowExecutionStartedEventAttributes.input.payloads[0].data, 'base64').toString('utf8'));
    return input.carried.plan.steps.some((st: any) => st.id.endsWith('.verify') && st.status !== 'done');
  });
  const last = runFromJson(later.history);

  test('replays from the carried state; the carried policy reproduces the later plans', () => {
    const pol = recordedPolicy(chain);
    const r = whatIf([last], pol);
    expect(r.warnings.join('\n')).toMatch(/earlier runs are not included/);
    expect(r.differs).toBe(false);
    expect(r.final.actual.steps.map((s) => s.status)).toEqual(r.final.candidate.steps.map((s) => s.status));
  });

  test('a candidate re-plans the carried facts', () => {
    const cand = withStep(recordedPolicy(chain), 'cloud-misconfiguration', 'verify', (s) => (s.params = { checks: ['pr_merged', 'ticket_state'] }));
    const r = whatIf([last], cand);
    expect(r.final.differences).toEqual([expect.objectContaining({ kind: 'params', step: 'verify' })]);
  });
});

describe('comparePlans', () => {
  const step = (id: string, status: PlanStep['status'], extra: Partial<PlanStep> = {}): PlanStep =>
    ({ id: `pb.${id}`, action: 'notify', title: id, params: {}, status, reason: { playbook: 'pb', section: 'steps', rule: 'always', facts: {} }, fingerprint: 'f', disruptive: false, timeoutMs: 1, retry: { maximumAttempts: 1, initialIntervalMs: 1, backoffCoefficient: 1, maximumIntervalMs: 1 }, requestedBy: 'x', ...extra }) as PlanStep;
  const plan = (steps: PlanStep[], playbook = 'pb'): Plan => ({ version: 1, policyVersion: 'p', playbook, steps });

  test('same plan: nothing', () => {
    expect(comparePlans(plan([step('a', 'pending')]), plan([step('a', 'pending')]))).toEqual([]);
  });
  test('status and params differences', () => {
    const d = comparePlans(plan([step('a', 'pending', { params: { x: 1 } })]), plan([step('a', 'skipped', { params: { x: 2 } })]));
    expect(d.map((x) => x.kind)).toEqual(['status', 'params']);
  });
  test('approval requirement differences fold the status change in', () => {
    const approval = { users: ['bob'], groups: [], quorum: 2, allowRequester: false, onExpiry: 'deny' as const, approvedBy: [] };
    const d = comparePlans(plan([step('a', 'awaiting_approval', { approval })]), plan([step('a', 'pending')]));
    expect(d).toEqual([expect.objectContaining({ kind: 'approval', actual: 'approval by users [bob], quorum 2', candidate: 'no approval', detail: 'step a: approval by users [bob], quorum 2 → no approval (awaiting_approval → pending)' })]);
  });
});

describe('Replayer', () => {
  test('refuses what the workflow would refuse: unknown step, wrong group, self-approval, twice', () => {
    const r = new Replayer({ remediationId: 'drw-x-1', detection: extract(edr).input!.detection, requestedBy: 'alice', fixedPolicy: edrPolicy });
    r.apply({ kind: 'policy', policy: edrPolicy, at: 't', label: 'p' });
    r.apply({ kind: 'enrich', asset: extract(edr).input!.detection.asset, at: 't', label: 'e' });
    expect(r.refusal('edr-malware.nope', 'bob', ['secops'], 'approve')).toMatch(/unknown step "edr-malware.nope"/);
    expect(r.refusal('edr-malware.ticket', 'bob', ['secops'], 'approve')).toMatch(/not awaiting approval/);
    expect(r.refusal('edr-malware.contain', 'bob', ['devs'], 'approve')).toMatch(/needs a member of \[secops\]/);
    expect(r.refusal('edr-malware.contain', 'alice', ['secops'], 'approve')).toMatch(/alice requested/);
    expect(r.refusal('edr-malware.contain', 'bob', ['secops'], 'approve')).toBeUndefined();
  });
});
