import { createHmac, timingSafeEqual } from 'node:crypto';
import { type SimRequest, type SimResponse, SimulatorServer } from './base';

/**
 * A receiver of drw's signed webhooks, written the way a consumer would: it checks
 * X-Drw-Signature-256 against its own HMAC of the raw body (independently of the adapter's
 * code), rejects stale timestamps, and deduplicates on X-Drw-Idempotency-Key.
 */

export interface WebhookReceiverOptions {
  secret: string;
  /** Largest accepted clock difference for X-Drw-Timestamp. */
  toleranceSeconds?: number;
}

export interface WebhookDelivery {
  channel: string;
  idempotencyKey: string;
  timestamp: number;
  body: Record<string, unknown>;
  rawBody: string;
}

export class WebhookReceiver extends SimulatorServer {
  /** Accepted deliveries, one per idempotency key. */
  readonly deliveries: WebhookDelivery[] = [];
  /** Requests refused for a bad or missing signature / timestamp. */
  rejected = 0;
  duplicates = 0;
  private readonly seen = new Set<string>();

  constructor(private readonly opts: WebhookReceiverOptions) {
    super('webhook');
    this.route('POST', '/hooks/:channel', (r) => this.receive(r));
  }

  url(channel: string): string {
    return `${this.baseUrl}/hooks/${encodeURIComponent(channel)}`;
  }

  private receive(r: SimRequest): SimResponse {
    const signature = String(r.headers['x-drw-signature-256'] ?? '');
    const expected = `sha256=${createHmac('sha256', this.opts.secret).update(r.rawBody, 'utf8').digest('hex')}`;
    if (signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
      this.rejected++;
      return { status: 401, body: { error: 'invalid signature' } };
    }
    const timestamp = Number(r.headers['x-drw-timestamp']);
    const tolerance = this.opts.toleranceSeconds ?? 300;
    if (!Number.isFinite(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > tolerance) {
      this.rejected++;
      return { status: 401, body: { error: 'stale or missing timestamp' } };
    }
    const body = r.body as Record<string, unknown>;
    if (typeof body !== 'object' || body === null || body.timestamp !== timestamp) {
      this.rejected++;
      return { status: 400, body: { error: 'body timestamp does not match X-Drw-Timestamp' } };
    }
    const key = String(r.headers['x-drw-idempotency-key'] ?? '');
    if (!key) return { status: 400, body: { error: 'missing X-Drw-Idempotency-Key' } };
    if (this.seen.has(key)) {
      this.duplicates++;
      return { status: 200, body: { ok: true, duplicate: true } };
    }
    this.seen.add(key);
    this.deliveries.push({ channel: r.params.channel, idempotencyKey: key, timestamp, body, rawBody: r.rawBody });
    return { status: 200, body: { ok: true } };
  }
}

export async function startWebhookReceiver(opts: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const sim = new WebhookReceiver(opts);
  await sim.start();
  return sim;
}
