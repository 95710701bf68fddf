/**
 * What the workflow says of its approval requests in chat and indexes for the inbox: the outcome
 * that replaces a request (who, when, why; or what became of the step), who may decide the waiting
 * steps (DrwApprovers), and the steps the inbox lists (drwAwaiting), as pure functions of the state.
 */
import { approversOf, awaitingOf, outcomeText } from '../../../workflows/approval-messages';
import type { Decision } from '../../../remediation/events';
import { D1, D2, fixStep, STEP } from '../../helpers/approval-fixture';

const approval = (decision: 'approve' | 'deny', approver: string, reason: string, at: string): Decision =>
  ({ kind: 'approval', decision, stepId: STEP, fingerprint: 'f', approver, groups: ['cloud-owners'], via: 'update', reason, by: approver, seq: 9, at }) as Decision;

test('an approved step: the request says who approved, when, why, and what the step is now', () => {
  const s = { plan: { version: 2, policyVersion: 'p', playbook: 'x', steps: [{ ...fixStep(D1), status: 'running' as const }] }, decisions: [approval('approve', 'carol', 'checked the diff', '2026-11-30T10:05:00.000Z')] };
  expect(outcomeText(s, STEP, D1)).toBe(`Approved by carol at 2026-11-30T10:05:00.000Z: checked the diff (step ${STEP}, digest ${D1.slice(0, 12)}…; now running)`);
});

test('a step whose content changed, and one withdrawn from the plan: the request says so, naming no approver', () => {
  const changed = { plan: { version: 3, policyVersion: 'p', playbook: 'x', steps: [fixStep(D2)] }, decisions: [] };
  expect(outcomeText(changed, STEP, D1)).toMatch(/^Superseded: the step changed since this request \(now digest bbbbbbbbbbbb…\)/);
  expect(outcomeText({ plan: { ...changed.plan, steps: [] }, decisions: [] }, STEP, D1)).toBe(`No longer awaiting approval (step ${STEP}, digest ${D1.slice(0, 12)}…; withdrawn from the plan)`);
});

test('who may decide: the waiting steps’ users and groups, normalized; nobody once nothing waits', () => {
  const step = { ...fixStep(D1), approval: { ...fixStep(D1).approval!, users: ['ＡＬＩＣＥ'], groups: ['Cloud-Owners'] } };
  expect(approversOf({ plan: { version: 1, policyVersion: 'p', playbook: 'x', steps: [step, { ...fixStep(D1), id: 'done-one', status: 'done' }] } })).toEqual(['group:cloud-owners', 'user:alice']);
  expect(approversOf({ plan: { version: 1, policyVersion: 'p', playbook: 'x', steps: [{ ...step, status: 'running' }] } })).toEqual([]);
});

test('the inbox entry of a waiting step: its rule, digest and target without the diff, since it began waiting with this digest', () => {
  const s = { plan: { version: 1, policyVersion: 'p', playbook: 'x', steps: [fixStep(D1)] }, detection: { title: 'Public bucket' } as never, receivedAt: '2026-11-30T09:00:00.000Z' };
  const memo = awaitingOf(s, { steps: { [STEP]: { digest: D1, since: '2026-11-30T09:30:00.000Z', posts: [] } } });
  expect(memo).toEqual({ title: 'Public bucket', steps: [{ id: STEP, title: fixStep(D1).title, action: 'iac.pull_request', digest: D1, requestedBy: 'api:asff', approval: fixStep(D1).approval, target: { kind: 'repository', id: 'acme/infra', name: 'terraform/s3.tf' }, since: '2026-11-30T09:30:00.000Z' }] });
  expect(JSON.stringify(memo)).not.toContain('block_public_acls');
  expect(awaitingOf(s, { steps: { [STEP]: { digest: D2, since: '2026-11-30T09:30:00.000Z', posts: [] } } }).steps[0].since).toBe('2026-11-30T09:00:00.000Z');
});
