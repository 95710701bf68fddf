/**
 * drw asks for approvals in Slack itself, as `npm start` wires it: the workflow posts the Block Kit
 * request through the real adapter to the embedded Slack simulator, a person presses Approve there
 * (signed v0, sent to drw's interactivity endpoint), and the request is replaced with the outcome;
 * a decision made elsewhere replaces it too, and a Slack that fails never holds the remediation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSystems } from '../../activities/registry';
import { DEMO_SLACK_USERS, startEmbeddedSimulators, type EmbeddedSimulators } from '../../simulators/embedded';
import type { SlackMessageRecord } from '../../simulators/slack';
import { DEFAULT_POLICY, eventually, malwareDetection, startHarness, type Harness } from '../helpers/harness';
import { approve, asset, step, submit, waitFor } from '../helpers/scenario';
import { http } from '../helpers/http';

const SIGNING_SECRET = 'slack-approval-requests-signing-secret';
const CONTAIN = 'edr-malware.contain';

let dataDir: string;
let sims: EmbeddedSimulators;
let h: Harness;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-slack-requests-'));
  const slackEnv = { DRW_SLACK_SIGNING_SECRET: SIGNING_SECRET, DRW_SLACK_USERS: JSON.stringify(DEMO_SLACK_USERS) };
  sims = await startEmbeddedSimulators(dataDir, slackEnv, { autoMergeAfterMs: 0 });
  // Slack through the real adapters and the simulator; the other systems in-process (any asset is a device there).
  const { notify, approvalMessages } = buildSystems({ ...sims.env });
  expect(approvalMessages).toBeDefined();
  h = await startHarness({ policyDir: DEFAULT_POLICY, override: { notify, approvalMessages }, env: slackEnv });
  expect(sims.connectApi(h.api)).toContain(`${h.api}/v1/integrations/slack/interactivity`);
});

afterAll(async () => {
  await h?.close();
  await sims?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

afterEach(() => sims.simulators.slack!.clearFaults());

/** The bot's messages whose buttons decide a step of remediation `id`. */
const requestsFor = (id: string): SlackMessageRecord[] => sims.simulators.slack!.messages.filter((m) => m.ts && JSON.stringify(m.blocks ?? []).includes(JSON.stringify(`{"r":"${id}"`).slice(1, -1)));
/** chat.postMessage calls Slack answered for remediation `id`. */
const postsFor = (id: string) => sims.simulators.slack!.served((r) => r.path === '/api/chat.postMessage' && r.rawBody.includes(id));
const first = (id: string) => eventually(async () => requestsFor(id)[0], `the approval request of ${id} in Slack`);
const buttons = (m: SlackMessageRecord) => (m.blocks ?? []).flatMap((b: any) => (b.type === 'actions' ? b.elements.map((e: any) => e.action_id) : []));

test('a step awaits approval: one Block Kit request in #secops, approved there by alice, the step runs and the request says who and when', async () => {
  const id = await submit(h, malwareDetection(asset('slack-approve'), 50));
  const s = await waitFor(h, id, (x) => step(x, CONTAIN).status === 'awaiting_approval', 'contain awaits approval');
  const digest = step(s, CONTAIN).digest;
  const m = await first(id);
  expect(m.channel).toBe('secops');
  expect(JSON.stringify(m.blocks)).toContain(`digest \`${digest}\``);
  expect(buttons(m)).toEqual(['drw_approve', 'drw_deny']);
  expect(postsFor(id)).toHaveLength(1);

  const click = await http('POST', `${sims.urls.slack}/_admin/messages/${m.ts}/click`, { user: 'U0ALICE', action: 'approve', reason: 'confirmed in the EDR console' });
  expect(click.status).toBe(200);
  expect(click.body.app.status).toBe(200);
  const after = await waitFor(h, id, (x) => ['running', 'done'].includes(step(x, CONTAIN).status), 'contain runs');
  expect(after.decisions.filter((d: any) => d.kind === 'approval')).toEqual([expect.objectContaining({ stepId: CONTAIN, approver: 'alice', decision: 'approve' })]);
  // drw's own replacement (chat.update), after the interactivity answer's.
  const updated = await eventually(async () => (m.updates?.length ? m : undefined), 'the request replaced with the outcome');
  expect(updated.text).toMatch(/^Approved by alice at \d{4}-\d\d-\d\dT[\d:.]+Z: confirmed in the EDR console/);
  expect(buttons(updated)).toEqual([]);
  expect(postsFor(id)).toHaveLength(1);
  expect(after.decisions.filter((d: any) => d.kind === 'approval_request')).toEqual([expect.objectContaining({ event: 'posted', stepId: CONTAIN, digest, channels: ['secops'] })]);
});

test('a step approved through the API: the request in Slack is replaced with who approved, without its buttons', async () => {
  const id = await submit(h, malwareDetection(asset('slack-api'), 50));
  const s = await waitFor(h, id, (x) => step(x, CONTAIN).status === 'awaiting_approval', 'contain awaits approval');
  const m = await first(id);
  expect((await approve(h, id, CONTAIN, { approver: 'sam', groups: ['secops'], reason: 'seen on the page', digest: step(s, CONTAIN).digest })).status).toBe(200);
  const updated = await eventually(async () => (m.updates?.length ? m : undefined), 'the request replaced with the outcome');
  expect(updated.text).toMatch(/^Approved by sam at .*: seen on the page/);
  expect(buttons(updated)).toEqual([]);
  expect(m.responses).toEqual([]);
});

test('Slack answers 500 to every post: the remediation is approved and contained all the same, and the log says the request was not posted', async () => {
  const slack = sims.simulators.slack!;
  slack.setFaults({ match: /chat\.postMessage/, random: { rate: 1, faults: [{ kind: 'status', status: 500 }] } });
  const id = await submit(h, malwareDetection(asset('slack-down'), 50));
  const s = await waitFor(h, id, (x) => step(x, CONTAIN).status === 'awaiting_approval', 'contain awaits approval');
  expect((await approve(h, id, CONTAIN, { approver: 'sam', groups: ['secops'], reason: 'Slack is down', digest: step(s, CONTAIN).digest })).status).toBe(200);
  await waitFor(h, id, (x) => ['running', 'done'].includes(step(x, CONTAIN).status), 'contain runs while Slack is down');
  const logged = await waitFor(h, id, (x) => x.decisions.some((d: any) => d.kind === 'approval_request'), 'the failed request in the log', 60_000);
  expect(logged.decisions.filter((d: any) => d.kind === 'approval_request')).toEqual([expect.objectContaining({ event: 'not_posted', stepId: CONTAIN, error: expect.stringMatching(/500/) })]);
  expect(requestsFor(id)).toEqual([]);
  expect(postsFor(id)).toEqual([]);
  expect(slack.requests.filter((r) => r.path === '/api/chat.postMessage' && r.rawBody.includes(id)).length).toBe(5);
}, 90_000);
