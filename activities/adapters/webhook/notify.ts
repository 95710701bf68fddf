import type { AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { createVendorClient } from '../http';
import type { Notify, NotifyInput } from '../../interfaces';
import type { WebhookConfig } from './config';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from './signature';
import { failureWithoutUrl } from '../secret-url';

const VENDOR = 'webhook';

/**
 * Signed generic webhook. Every attempt of a step carries the same X-Drw-Idempotency-Key, so
 * the receiver deduplicates retries (including one whose first answer was lost); this side
 * keeps no record of its own. The timestamp is in the signed body as well as the header, so
 * a receiver can reject replays without trusting an unsigned header.
 */
export function createWebhookNotify(config: WebhookConfig, now: () => number = Date.now): Notify {
  const clients = new Map<string, AxiosInstance>();

  function clientFor(channel: string, url: string): AxiosInstance {
    let c = clients.get(channel);
    if (!c) {
      c = createVendorClient({ vendor: VENDOR, baseURL: url, timeoutMs: config.timeoutMs });
      clients.set(channel, c);
    }
    return c;
  }

  return {
    async notify(input) {
      const url = config.urls[input.channel] ?? config.urls[input.channel.trim().replace(/^#/, '')];
      if (!url) {
        throw ApplicationFailure.create({
          message: `${VENDOR}: no webhook configured for channel "${input.channel}"`,
          type: `${VENDOR}.UnknownChannel`,
          nonRetryable: true,
        });
      }
      const timestamp = String(Math.floor(now() / 1000));
      const rawBody = JSON.stringify(payload(input, timestamp));
      try {
        await clientFor(input.channel, url).post('', rawBody, {
          headers: {
            'Content-Type': 'application/json',
            [SIGNATURE_HEADER]: signBody(config.secret, rawBody),
            [TIMESTAMP_HEADER]: timestamp,
            [IDEMPOTENCY_HEADER]: input.idempotencyKey,
          },
          // The signature covers these exact bytes; axios must not re-serialize them.
          transformRequest: [(data: unknown) => data],
        });
      } catch (err) {
        throw failureWithoutUrl(VENDOR, err, input.channel, url);
      }
      return { delivered: true, channel: input.channel };
    },
  };
}

function payload(input: NotifyInput, timestamp: string) {
  return {
    idempotencyKey: input.idempotencyKey,
    remediationId: input.remediationId,
    channel: input.channel,
    severity: input.severity,
    text: input.text,
    fields: input.fields ?? {},
    timestamp: Number(timestamp),
  };
}
