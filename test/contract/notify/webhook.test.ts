import { createHmac } from 'node:crypto';
import { createWebhookNotify, loadWebhookConfig, type WebhookConfig } from '../../../activities/adapters/webhook';
import type { NotifyInput } from '../../../activities/interfaces';
import { startWebhookReceiver, type WebhookReceiver } from '../../../simulators/webhook';
import { expectNoSecrets, failureOf, retryLikeTemporal } from '../endpoint/temporal-like';

const SECRET = 'whsec-0123456789abcdef-shared';

describe('Signed generic webhook notify adapter', () => {
  let receiver: WebhookReceiver;
  let config: WebhookConfig;
  const errors: unknown[] = [];
  const urls: string[] = [];

  const input = (over: Partial<NotifyInput> = {}): NotifyInput => ({
    idempotencyKey: 'rem-9:notify',
    remediationId: 'rem-9',
    channel: 'soar',
    severity: 'critical',
    text: 'Bucket made private',
    fields: { bucket: 'logs-prod', changed: true, findings: 3 },
    ...over,
  });
  const capture = async (p: Promise<unknown>) => {
    const f = await failureOf(p);
    errors.push(f);
    return f;
  };

  beforeEach(async () => {
    receiver = await startWebhookReceiver({ secret: SECRET });
    config = { urls: { soar: receiver.url('soar') + '?token=receiver-path-secret' }, secret: SECRET, timeoutMs: 750 };
    urls.push(config.urls.soar, 'receiver-path-secret');
  });
  afterEach(() => receiver.close());
  afterAll(() => expectNoSecrets(errors, [SECRET, ...urls]));

  it('delivers a body whose signature verifies at the receiver', async () => {
    expect(await createWebhookNotify(config).notify(input())).toEqual({ delivered: true, channel: 'soar' });
    expect(receiver.rejected).toBe(0);
    const [d] = receiver.deliveries;
    expect(d.idempotencyKey).toBe('rem-9:notify');
    expect(d.body).toMatchObject({ remediationId: 'rem-9', channel: 'soar', severity: 'critical', text: 'Bucket made private', fields: { findings: 3 } });

    const req = receiver.served()[0];
    expect(req.headers['x-drw-signature-256']).toBe(`sha256=${createHmac('sha256', SECRET).update(req.rawBody).digest('hex')}`);
    expect(Number(req.headers['x-drw-timestamp'])).toBe(d.timestamp);
    expect(JSON.stringify(req.headers)).not.toContain(SECRET);
  });

  it('sends the same idempotency key on every attempt so the receiver keeps one delivery', async () => {
    const notify = createWebhookNotify(config);
    await notify.notify(input());
    await notify.notify(input());
    expect(receiver.served()).toHaveLength(2);
    expect(receiver.deliveries).toHaveLength(1);
    expect(receiver.duplicates).toBe(1);
  });

  it('keeps one delivery when the first answer was lost', async () => {
    receiver.setFaults({ queue: [{ kind: 'slow', ms: 1_500 }] });
    const notify = createWebhookNotify(config);
    const { failures } = await retryLikeTemporal(() => notify.notify(input()));
    expect(failures).toHaveLength(1);
    errors.push(...failures);
    await new Promise((r) => setTimeout(r, 1_600));
    expect(receiver.deliveries).toHaveLength(1);
  });

  it('is refused non-retryably when the receiver does not share the secret', async () => {
    const f = await capture(createWebhookNotify({ ...config, secret: 'another-secret-of-16+chars' }).notify(input()));
    urls.push('another-secret-of-16+chars');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toBe('webhook: channel "soar" answered 401: invalid signature');
    expect(receiver.deliveries).toHaveLength(0);
  });

  it('maps 429 Retry-After to a retryable failure with that delay, 5xx and resets to retryable', async () => {
    receiver.setFaults({ queue: [{ kind: 'rateLimit', retryAfterSeconds: 3 }, { kind: 'status', status: 502 }, { kind: 'reset' }] });
    const notify = createWebhookNotify(config);
    const limited = await capture(notify.notify(input()));
    expect(limited.nonRetryable).toBe(false);
    expect(limited.nextRetryDelay).toBe(3_000);
    expect((await capture(notify.notify(input()))).nonRetryable).toBe(false);
    expect((await capture(notify.notify(input()))).nonRetryable).toBe(false);
  });

  it('refuses unknown channels non-retryably', async () => {
    const f = await capture(createWebhookNotify(config).notify(input({ channel: 'elsewhere' })));
    expect(f.nonRetryable).toBe(true);
  });

  it('keeps the URL out of connection failures', async () => {
    const dead = 'http://127.0.0.1:1/hooks/soar?token=dead-receiver-token';
    urls.push(dead, 'dead-receiver-token');
    const f = await capture(createWebhookNotify({ ...config, urls: { soar: dead } }).notify(input()));
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toContain('channel "soar"');
  });
});

describe('loadWebhookConfig', () => {
  it('is undefined when not configured', () => {
    expect(loadWebhookConfig({})).toBeUndefined();
  });

  it('reads channels and the secret', () => {
    expect(loadWebhookConfig({ DRW_WEBHOOK_URLS: '{"soar":"https://soar.example.com/in"}', DRW_WEBHOOK_SECRET: SECRET })).toEqual({
      urls: { soar: 'https://soar.example.com/in' },
      secret: SECRET,
      timeoutMs: undefined,
    });
  });

  it('names what is missing or invalid, never the secret or a URL', () => {
    const messages = [
      { DRW_WEBHOOK_URLS: '{"soar":"https://soar.example.com/in"}' },
      { DRW_WEBHOOK_SECRET: 'short', DRW_WEBHOOK_URLS: '{"soar":"ftp://soar.example.com/in"}' },
    ].map((env) => {
      try {
        loadWebhookConfig(env);
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    });
    expect(messages[0]).toMatch(/DRW_WEBHOOK_SECRET is required/);
    expect(messages[1]).toMatch(/DRW_WEBHOOK_URLS\["soar"\] must be an http\(s\) URL/);
    expect(messages[1]).toMatch(/DRW_WEBHOOK_SECRET must be at least 16 characters/);
    expect(messages.join('\n')).not.toMatch(/soar\.example\.com|short/);
  });
});
