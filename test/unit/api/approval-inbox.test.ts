/**
 * The inbox lists from visibility only what the person may decide, with each run's steps awaiting
 * approval (no workflow queried); runs begun before that are read a page of states at a time,
 * oldest remediation first, and someone who may not decide costs nothing.
 */
import { permissionsOf, parseAccessPolicy } from '../../../api/auth/access';
import { approverKeys, inboxQuery, startBoundary, type PendingRemediation, type UiBackend } from '../../../api/ui/backend';
import { buildInbox, InboxStates, PAGE_STEPS } from '../../../api/ui/inbox';
import { D1, fixStep, view } from '../../helpers/approval-fixture';

const ACCESS = parseAccessPolicy('version: 1\ngroups:\n  cloud-owners: [read, decide]\n  auditors: [read]\n', 'access.yaml');
const person = (user: string, groups: string[]) => ({ user, groups, permissions: permissionsOf(ACCESS, user, groups) });

/** `n` remediations awaiting a cloud-owners approval, opened a minute apart (listed newest first, as visibility may). */
function backend(n: number, listed?: (id: string, i: number) => PendingRemediation['listed']): UiBackend & { queried: string[]; listed: number; askedFor: string[][] } {
  const ids = Array.from({ length: n }, (_, i) => `drw-inbox-${String(i).padStart(4, '0')}`);
  const queried: string[] = [];
  const b: UiBackend & { queried: string[]; listed: number; askedFor: string[][] } = {
    queried,
    listed: 0,
    askedFor: [],
    pending: async (_limit, approvers) => (b.listed++, b.askedFor.push(approvers), ids).map((id, i) => ({ id, runId: 'r', startTime: new Date(Date.UTC(2026, 10, 30, 0, i)).toISOString(), ...(listed ? { listed: listed(id, i) } : {}) })).reverse(),
    state: async (id: string) => {
      queried.push(id);
      const v = view(fixStep(D1));
      return { ...v, id, decisions: v.decisions.map((d) => ({ ...d, at: new Date(Date.UTC(2026, 10, 30, 0, Number(id.slice(-4)))).toISOString() })) };
    },
    runId: async () => 'r',
    decide: async () => Promise.reject(new Error('unused')),
  };
  return b;
}

test('a cloud owner with 1,000 steps waiting gets the oldest page, reading a page of states, and where the next page starts', async () => {
  const b = backend(1000);
  const inbox = await buildInbox(b, person('carol', ['cloud-owners']));
  expect(inbox.items).toHaveLength(PAGE_STEPS);
  expect(inbox.items[0].remediation.id).toBe('drw-inbox-0000');
  expect(inbox.items.map((i) => i.since)).toEqual([...inbox.items.map((i) => i.since)].sort());
  expect(b.queried).toHaveLength(PAGE_STEPS);
  expect(inbox).toMatchObject({ pending: 1000, next: b.queried.length, truncated: false, unreadable: 0 });
  const second = await buildInbox(b, person('carol', ['cloud-owners']), inbox.next);
  expect(second.items[0].remediation.id).toBe(`drw-inbox-${String(inbox.next).padStart(4, '0')}`);
});

test('an auditor (no decide permission) gets an empty inbox without a single state query', async () => {
  const b = backend(1000);
  expect(await buildInbox(b, person('ada', ['auditors']))).toMatchObject({ items: [], pending: 0 });
  expect(b.queried).toEqual([]);
});

test('refreshing inboxes share each list and each state read for 5 s; a decision made here is read again at once', async () => {
  const b = backend(3);
  let t = 0;
  const shared = new InboxStates(b, 5000, () => t);
  const carol = person('carol', ['cloud-owners']);
  await buildInbox(shared.reader, carol);
  await buildInbox(shared.reader, carol);
  await buildInbox(shared.reader, person('dana', ['cloud-owners']));
  expect([b.queried.length, b.listed]).toEqual([3, 2]);
  shared.forget('drw-inbox-0001');
  await buildInbox(shared.reader, carol);
  expect(b.queried).toEqual(['drw-inbox-0000', 'drw-inbox-0001', 'drw-inbox-0002', 'drw-inbox-0001']);
  t = 5000;
  await buildInbox(shared.reader, carol);
  expect([b.queried.length, b.listed]).toEqual([7, 4]);
});

test('runs that list their steps awaiting approval: the inbox asks visibility for what carol may decide and queries no workflow', async () => {
  const step = fixStep(D1);
  const b = backend(1000, (_id, i) => ({
    awaiting: { title: 'Public bucket', steps: [{ id: step.id, title: step.title, action: step.action, digest: step.digest, requestedBy: step.requestedBy, approval: step.approval!, since: new Date(Date.UTC(2026, 10, 30, 0, i)).toISOString() }] },
    attributes: { id: `drw-inbox-${String(i).padStart(4, '0')}`, runId: 'r', startTime: '', execution: 'RUNNING', severity: 'high', riskScore: 60, asset: 'acct-1', status: 'awaiting_approval' },
  }));
  const inbox = await buildInbox(b, person('Carol', ['cloud-owners']));
  expect(b.askedFor).toEqual([['group:cloud-owners', 'user:carol']]);
  expect(b.queried).toEqual([]);
  expect(inbox.items).toHaveLength(PAGE_STEPS);
  expect(inbox.items[0]).toMatchObject({ remediation: { id: 'drw-inbox-0000', title: 'Public bucket', severity: 'high', riskScore: 60, asset: { id: 'acct-1' } }, step: { id: step.id, digest: D1, status: 'awaiting_approval' } });
  // Someone the step's rule does not name is shown nothing of it, even if visibility listed it.
  expect((await buildInbox(b, person('dana', ['secops-not-here', 'cloud-owners-x']))).items).toEqual([]);
});

test("the visibility query: the person's approver keys, quoted, or a run begun before them awaiting anyone's approval", () => {
  expect(approverKeys({ user: 'Al\u200bice', groups: ['SecOps', 'secops'] })).toEqual(['group:secops', 'user:alice']);
  expect(inboxQuery(["user:o'hara", 'group:secops'], 'drw-remediation')).toBe(
    `WorkflowType = 'remediation' AND ExecutionStatus = 'Running' AND TaskQueue = 'drw-remediation' AND (DrwApprovers IN ('user:o\\'hara', 'group:secops') OR (DrwPendingApproval = true AND DrwApprovers IS NULL))`,
  );
});

test('the oldest page is found by counting by start time: a window of 50 to 100 of 1,000 remediations, and the last boundary reused without a count', async () => {
  const now = Date.UTC(2026, 10, 30, 12);
  // 1,000 opened over the last ten hours, some in the same second.
  const starts = Array.from({ length: 1000 }, (_, i) => now - 10 * 3_600_000 + Math.floor(i / 3) * 108_000);
  let counts = 0;
  const countBefore = async (t: number) => (counts++, starts.filter((x) => x < t).length);
  const at = await startBoundary(countBefore, { want: 50, slack: 50, total: 1000, now });
  const inWindow = starts.filter((x) => x < at).length;
  expect(inWindow).toBeGreaterThanOrEqual(50);
  expect(inWindow).toBeLessThanOrEqual(100);
  expect(counts).toBeLessThan(30);
  counts = 0;
  expect(await startBoundary(countBefore, { want: 50, slack: 50, total: 1000, now, hint: [at, inWindow] })).toBe(at);
  expect(counts).toBe(0);
  // Steps decided meanwhile: the old boundary holds too few, and a new one is found.
  const later = await startBoundary(countBefore, { want: 50, slack: 50, total: 1000, now, hint: [starts[30], 30] });
  expect(starts.filter((x) => x < later).length).toBeGreaterThanOrEqual(50);
});
