/**
 * Approvals from Slack against the Slack simulator: drw's Block Kit message posted with
 * chat.postMessage, a person's button press sent to POST /v1/integrations/slack/interactivity as
 * Slack sends it (v0-signed), and the message updated through response_url. The remediation is
 * a fixed state (no Temporal); decisions are recorded by the stand-in service.
 */
import type { FastifyInstance } from 'fastify';
import { parseAccessPolicy } from '../../../api/auth/access';
import { ApiError } from '../../../api/errors';
import { isSlackResponseUrl, pageUrl, slackRoutes } from '../../../api/routes/slack';
import { createApi, listen } from '../../../api/server';
import { APPROVE_ACTION, approvalRequest, DENY_ACTION } from '../../../activities/adapters/slack/approval-message';
import { loadConfig } from '../../../common/config';
import { createLogger } from '../../../common/logger';
import type { ApprovalDecisionInput, RemediationView } from '../../../signals';
import { startSlackSimulator, type SlackSimulator } from '../../../simulators/slack';
import { D1, D2, fixStep, ID, STEP, view } from '../../helpers/approval-fixture';

const ACCESS = parseAccessPolicy('version: 1\ngroups:\n  cloud-owners: [read, decide]\n  auditors: [read]\n', 'access.yaml');
const CAROL = 'U0CAROL1';
const EVE = 'U0EVE001';

let slack: SlackSimulator;
let app: FastifyInstance;
let interactivity: string;
let current: RemediationView;
let decided: { kind: string; body: ApprovalDecisionInput }[];

const service = {
  state: async (id: string) => {
    if (id !== ID) throw new ApiError(404, `no remediation ${id}`);
    return current;
  },
  decide: async (_id: string, kind: 'approve' | 'deny', body: ApprovalDecisionInput) => {
    const step = current.plan.steps.find((s) => s.id === body.stepId)!;
    if (body.digest !== step.digest) throw new ApiError(409, 'changed', { type: 'DigestMismatch', step });
    decided.push({ kind, body });
    return { ...current.plan, steps: [{ ...step, status: kind === 'approve' ? ('running' as const) : ('skipped' as const) }] };
  },
};

beforeAll(async () => {
  slack = await startSlackSimulator();
  const cfg = loadConfig({});
  const logger = createLogger('silent');
  const routes = slackRoutes({ service: service as never, access: ACCESS, slack: { signingSecret: slack.signingSecret, users: { [CAROL]: { user: 'carol', groups: ['cloud-owners'] }, [EVE]: { user: 'eve', groups: ['auditors'] } } }, publicUrl: 'http://127.0.0.1:8080', logger });
  app = await createApi({ logger, ready: () => true, host: '127.0.0.1', settings: cfg.api, routes });
  interactivity = `${await listen(app, '127.0.0.1', 0)}/v1/integrations/slack/interactivity`;
});
afterAll(async () => {
  await app?.close();
  await slack?.close();
});
beforeEach(() => {
  current = view(fixStep(D1));
  decided = [];
});

/** drw's approval message for the step, posted to #cloud-owners with the bot token. */
async function posted(): Promise<string> {
  const msg = approvalRequest(current, current.plan.steps[0], pageUrl('http://127.0.0.1:8080', ID));
  const r = await fetch(`${slack.baseUrl}/api/chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${slack.botToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'cloud-owners', ...msg }) });
  const body = (await r.json()) as { ok: boolean; ts: string };
  expect(body.ok).toBe(true);
  return body.ts;
}
const message = (ts: string) => slack.messages.find((m) => m.ts === ts)!;
const textOf = (blocks: unknown[] | undefined) => JSON.stringify(blocks ?? []);

test('the approval message shows what will be done, the digest and Approve / Deny buttons bound to that digest', async () => {
  const ts = await posted();
  const m = message(ts);
  expect(textOf(m.blocks)).toContain('acme/infra');
  expect(textOf(m.blocks)).toContain(`digest \`${D1}\``);
  expect(textOf(m.blocks)).toContain('+block_public_acls = true');
  const buttons = (m.blocks!.find((b: any) => b.type === 'actions') as any).elements;
  expect(buttons.map((b: any) => [b.action_id, JSON.parse(b.value)])).toEqual([
    [APPROVE_ACTION, { r: ID, s: STEP, d: D1 }],
    [DENY_ACTION, { r: ID, s: STEP, d: D1 }],
  ]);
});

test('a cloud owner approves in Slack with a reason: decided as carol for the digest shown, and the message says who, when and why', async () => {
  const ts = await posted();
  expect(await slack.click(interactivity, { ts, userId: CAROL, actionId: APPROVE_ACTION, reason: 'diff checked' })).toBe(200);
  expect(decided).toEqual([{ kind: 'approve', body: { stepId: STEP, approver: 'carol', groups: ['cloud-owners'], reason: 'diff checked', digest: D1 } }]);
  const reply = message(ts).responses!.at(-1)!;
  expect(reply.replace_original).toBe(true);
  expect(reply.text).toMatch(/^Approved by carol at \d{4}-\d\d-\d\dT[\d:.]+Z: diff checked \(step cloud-misconfiguration.fix-bucket, digest aaaaaaaaaaaa…; now running\)$/);
  expect(textOf(message(ts).blocks)).not.toContain(APPROVE_ACTION);
});

test('a click with a bad signature, or one older than five minutes, is 401 and decides nothing', async () => {
  const ts = await posted();
  expect(await slack.click(interactivity, { ts, userId: CAROL, actionId: APPROVE_ACTION, reason: 'x', secret: 'not-the-signing-secret' })).toBe(401);
  expect(await slack.click(interactivity, { ts, userId: CAROL, actionId: APPROVE_ACTION, reason: 'x', at: Date.now() - 6 * 60_000 })).toBe(401);
  const unsigned = await fetch(interactivity, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'payload=%7B%7D' });
  expect(unsigned.status).toBe(401);
  expect(decided).toEqual([]);
  expect(message(ts).responses).toEqual([]);
});

test('an auditor pressing Approve is refused in Slack (an ephemeral reply) and nothing is decided', async () => {
  const ts = await posted();
  expect(await slack.click(interactivity, { ts, userId: EVE, actionId: APPROVE_ACTION, reason: 'let me' })).toBe(200);
  expect(decided).toEqual([]);
  expect(message(ts).responses).toEqual([expect.objectContaining({ replace_original: false, response_type: 'ephemeral', text: expect.stringMatching(/^Nothing was decided: eve: eve may not approve or deny steps/) })]);
  expect(textOf(message(ts).blocks)).toContain(APPROVE_ACTION);
});

test('a Slack user drw does not know is refused, and a click without a reason decides nothing', async () => {
  const ts = await posted();
  await slack.click(interactivity, { ts, userId: 'U0STRANGER', actionId: APPROVE_ACTION, reason: 'hi' });
  await slack.click(interactivity, { ts, userId: CAROL, actionId: DENY_ACTION, reason: '  ' });
  expect(decided).toEqual([]);
  expect(message(ts).responses!.map((r) => r.text)).toEqual([
    'Nothing was decided: Slack user U0STRANGER is not mapped to a drw identity (DRW_SLACK_USERS)',
    'Nothing was decided: write a reason in the message first',
  ]);
});

test('approving from a message whose step changed since it was posted decides nothing and points to the page', async () => {
  const ts = await posted();
  current = view(fixStep(D2, 'acme-other'));
  await slack.click(interactivity, { ts, userId: CAROL, actionId: APPROVE_ACTION, reason: 'ok' });
  expect(decided).toEqual([]);
  expect(message(ts).responses!.at(-1)!.text).toBe(`Nothing was decided: the step changed since this message was posted: review it at http://127.0.0.1:8080/ui/remediations/${ID}`);
});

test('answers go only to Slack’s own hooks', () => {
  expect(isSlackResponseUrl('https://hooks.slack.com/actions/T1/1/abc')).toBe(true);
  expect(isSlackResponseUrl('http://127.0.0.1:9/actions/1')).toBe(true);
  expect(isSlackResponseUrl('https://evil.example.com/actions/1')).toBe(false);
  expect(isSlackResponseUrl('http://hooks.slack.com/actions/1')).toBe(false);
});
