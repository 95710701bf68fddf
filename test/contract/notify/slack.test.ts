import { buildSlackMessage, createSlackNotify, loadSlackConfig, type SlackConfig } from '../../../activities/adapters/slack';
import type { NotifyInput } from '../../../activities/interfaces';
import { type SlackSimulator, startSlackSimulator } from '../../../simulators/slack';
import { expectNoSecrets, failureOf, retryLikeTemporal } from '../endpoint/temporal-like';

describe('Slack incoming-webhook notify adapter', () => {
  let sim: SlackSimulator;
  let config: SlackConfig;
  let secopsUrl: string;
  const errors: unknown[] = [];
  const urls: string[] = [];

  const input = (over: Partial<NotifyInput> = {}): NotifyInput => ({
    idempotencyKey: 'rem-3:notify',
    remediationId: 'rem-3',
    channel: 'secops',
    severity: 'high',
    text: 'Host web-01 contained <@channel> & ticket opened',
    fields: { asset: 'web-01', ticket: 'SEC-42', contained: true },
    ...over,
  });
  const capture = async (p: Promise<unknown>) => {
    const f = await failureOf(p);
    errors.push(f);
    return f;
  };

  beforeEach(async () => {
    sim = await startSlackSimulator();
    secopsUrl = sim.addWebhook('#secops');
    const archived = sim.addWebhook('#old-team', 'archived');
    const revoked = sim.addWebhook('#ops', 'revoked');
    urls.push(secopsUrl, archived, revoked);
    config = { webhooks: { secops: secopsUrl, old_team: archived, ops: revoked, gone: `${sim.baseUrl}/services/T0/B0/nothere` }, timeoutMs: 750 };
  });
  afterEach(() => sim.close());
  afterAll(() => expectNoSecrets(errors, urls.flatMap((u) => [u, new URL(u).pathname])));

  it('posts text and blocks to the channel\'s webhook', async () => {
    expect(await createSlackNotify(config).notify(input())).toEqual({ delivered: true, channel: 'secops' });
    const [msg] = sim.messagesFor('#secops');
    expect(msg.text).toBe('[high] Host web-01 contained &lt;@channel&gt; &amp; ticket opened');
    expect(JSON.stringify(msg.blocks)).toContain('*ticket*\\nSEC-42');
    expect(JSON.stringify(msg.blocks)).toContain('rem-3');
    expect(JSON.stringify(msg.blocks)).not.toContain('<@channel>');
  });

  it('matches channel names loosely ("#SecOps")', async () => {
    await createSlackNotify(config).notify(input({ channel: '#SecOps' }));
    expect(sim.messagesFor('#secops')).toHaveLength(1);
  });

  it('posts once for two calls with the same idempotency key, twice for two keys', async () => {
    const notify = createSlackNotify(config);
    await Promise.all([notify.notify(input()), notify.notify(input())]);
    await notify.notify(input());
    expect(sim.messages).toHaveLength(1);
    await notify.notify(input({ idempotencyKey: 'rem-3:notify-2' }));
    expect(sim.messages).toHaveLength(2);
  });

  it('delivers after a retryable failure, once', async () => {
    sim.setFaults({ queue: [{ kind: 'status', status: 500 }, { kind: 'reset' }] });
    const notify = createSlackNotify(config);
    const { failures } = await retryLikeTemporal(() => notify.notify(input()));
    expect(failures).toHaveLength(2);
    errors.push(...failures);
    expect(sim.messages).toHaveLength(1);
  });

  it('turns Slack\'s 4xx answers into non-retryable failures naming the channel', async () => {
    const notify = createSlackNotify(config);
    sim.setFaults({ queue: [{ kind: 'status', status: 400, body: 'invalid_payload' }] });
    const payload = await capture(notify.notify(input()));
    expect(payload.nonRetryable).toBe(true);
    expect(payload.message).toBe('slack: channel "secops" answered 400: invalid_payload');

    const cases: Array<[string, number, string]> = [
      ['ops', 403, 'invalid_token'],
      ['old-team', 410, 'channel_is_archived'],
      ['gone', 404, 'no_service'],
    ];
    for (const [channel, status, code] of cases) {
      const f = await capture(notify.notify(input({ channel })));
      expect(f.nonRetryable).toBe(true);
      expect(f.message).toBe(`slack: channel "${channel}" answered ${status}: ${code}`);
    }
  });

  it('maps 429 Retry-After to a retryable failure with that delay, and 5xx to retryable', async () => {
    sim.setFaults({ queue: [{ kind: 'rateLimit', retryAfterSeconds: 3 }, { kind: 'status', status: 503 }] });
    const notify = createSlackNotify(config);
    const limited = await capture(notify.notify(input()));
    expect(limited.nonRetryable).toBe(false);
    expect(limited.nextRetryDelay).toBe(3_000);
    expect(limited.type).toBe('slack.RateLimited');
    const broken = await capture(notify.notify(input()));
    expect(broken.nonRetryable).toBe(false);
  });

  it('keeps the webhook URL out of timeouts and connection failures', async () => {
    sim.setFaults({ queue: [{ kind: 'hang', ms: 1_000 }] });
    const timedOut = await capture(createSlackNotify(config).notify(input()));
    expect(timedOut.nonRetryable).toBe(false);
    const dead = 'http://127.0.0.1:1/services/TDEAD/BDEAD/deadtoken';
    urls.push(dead);
    const refused = await capture(createSlackNotify({ webhooks: { secops: dead } }).notify(input()));
    expect(refused.nonRetryable).toBe(false);
    expect(refused.message).toContain('channel "secops"');
  });

  it('refuses unknown channels non-retryably', async () => {
    const f = await capture(createSlackNotify(config).notify(input({ channel: 'nope' })));
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toBe('slack: no webhook configured for channel "nope"');
  });

  it('keeps messages within Slack\'s block limits', () => {
    const fields = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}`, 'x'.repeat(3000)]));
    const msg = buildSlackMessage(input({ text: 'y'.repeat(10_000), fields }));
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
    for (const b of msg.blocks as Array<{ text?: { text: string }; fields?: Array<{ text: string }> }>) {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
      expect((b.fields ?? []).length).toBeLessThanOrEqual(10);
    }
  });
});

describe('loadSlackConfig', () => {
  const URL_A = 'https://hooks.slack.com/services/T000/B000/aaaaaaaaaaaaaaaa';
  const URL_B = 'https://hooks.slack.com/services/T000/B111/bbbbbbbbbbbbbbbb';

  it('is undefined when no webhook is configured', () => {
    expect(loadSlackConfig({})).toBeUndefined();
  });

  it('merges SLACK_WEBHOOK_URLS with per-channel variables', () => {
    const c = loadSlackConfig({ SLACK_WEBHOOK_URLS: JSON.stringify({ secops: URL_A, 'Sec-Leads': URL_A }), SLACK_WEBHOOK_URL_SECOPS: URL_B });
    expect(c?.webhooks).toEqual({ secops: URL_B, sec_leads: URL_A });
  });

  it('names the variable and channel, never the URL or the JSON', () => {
    const attempts = [
      { SLACK_WEBHOOK_URLS: `{"secops": "${URL_A}"` },
      { SLACK_WEBHOOK_URLS: JSON.stringify({ secops: URL_A.replace('https', 'http') }) },
      { SLACK_WEBHOOK_URL_OPS: 'not a url aaaaaaaaaaaaaaaa' },
    ];
    const expected = [/SLACK_WEBHOOK_URLS must be a JSON object/, /SLACK_WEBHOOK_URLS\["secops"\] must be an https webhook URL/, /SLACK_WEBHOOK_URL_OPS must be/];
    attempts.forEach((env, i) => {
      let message = '';
      try {
        loadSlackConfig(env);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(expected[i]);
      expect(message).not.toContain('aaaaaaaaaaaaaaaa');
    });
  });
});
