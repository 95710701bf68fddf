/**
 * The Slack approval request (chat.postMessage with a bot token) against the Slack simulator:
 * posted once per idempotency key, refusals non-retryable, the token never in an error.
 */
import { createSlackApprovals, loadSlackBotConfig, type ApprovalRequestInput } from '../../../activities/adapters/slack';
import { startSlackSimulator, type SlackSimulator } from '../../../simulators/slack';
import { fixStep, ID, view, D1 } from '../../helpers/approval-fixture';
import { failureOf } from '../endpoint/temporal-like';

let sim: SlackSimulator;
beforeAll(async () => (sim = await startSlackSimulator()));
afterAll(() => sim.close());

const input = (over: Partial<ApprovalRequestInput> = {}): ApprovalRequestInput => ({
  idempotencyKey: `${ID}:cloud-misconfiguration.fix-bucket:approval`,
  remediationId: ID,
  channel: 'C0CLOUD',
  remediation: view(fixStep(D1)),
  step: fixStep(D1),
  pageUrl: `http://127.0.0.1:8080/ui/remediations/${ID}`,
  ...over,
});

test('a step awaiting approval is posted once to the channel, with its digest and buttons', async () => {
  const slack = createSlackApprovals(loadSlackBotConfig({ SLACK_BOT_TOKEN: sim.botToken, SLACK_API_URL: `${sim.baseUrl}/api` })!);
  const first = await slack.postApprovalRequest(input());
  expect(first).toEqual({ channel: 'C0CLOUD', ts: expect.stringMatching(/^\d+\.\d{6}$/), posted: true });
  expect(await slack.postApprovalRequest(input())).toEqual({ channel: 'C0CLOUD', ts: first.ts, posted: false });
  const mine = sim.messages.filter((m) => m.channel === 'C0CLOUD');
  expect(mine).toHaveLength(1);
  expect(JSON.stringify(mine[0].blocks)).toContain(`digest \`${D1}\``);
  expect(JSON.stringify(mine[0].blocks)).toContain('"action_id":"drw_approve"');
});

test('a token Slack refuses is a non-retryable failure that names the error, not the token', async () => {
  const slack = createSlackApprovals({ botToken: 'xoxb-not-the-token', apiUrl: `${sim.baseUrl}/api` });
  const f = await failureOf(slack.postApprovalRequest(input({ idempotencyKey: 'other' })));
  expect(f).toMatchObject({ type: 'slack.Refused', nonRetryable: true, message: 'slack: chat.postMessage refused: invalid_auth' });
  expect(JSON.stringify(f)).not.toContain('xoxb-not-the-token');
});

test('configuration: no SLACK_BOT_TOKEN, no approval requests; a token that is not a bot token is refused', () => {
  expect(loadSlackBotConfig({})).toBeUndefined();
  expect(() => loadSlackBotConfig({ SLACK_BOT_TOKEN: 'hunter2' })).toThrow('SLACK_BOT_TOKEN is not a bot token');
});
