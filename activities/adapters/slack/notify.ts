import type { AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { createVendorClient } from '../http';
import type { Notify, NotifyInput } from '../../interfaces';
import { normalizeChannel } from './channels';
import type { SlackConfig } from './config';
import { buildSlackMessage } from './message';
import { RecentKeys } from './recent-keys';
import { failureWithoutUrl } from '../secret-url';

const VENDOR = 'slack';

/**
 * Slack incoming webhooks. They accept no idempotency key, so this process remembers the
 * idempotency keys it delivered (bounded) and a retry of a delivered step sends nothing.
 * Residual risk, accepted for notifications: a worker that crashes after Slack accepted the
 * message but before the activity completed forgets the key, and the retry on another
 * worker posts the message a second time. Same for an answer lost on the way back.
 */
export function createSlackNotify(config: SlackConfig): Notify {
  const delivered = new RecentKeys(config.dedupeCapacity);
  const inFlight = new Map<string, Promise<void>>();
  const clients = new Map<string, AxiosInstance>();

  function clientFor(channel: string, url: string): AxiosInstance {
    let c = clients.get(channel);
    if (!c) {
      c = createVendorClient({ vendor: VENDOR, baseURL: url, timeoutMs: config.timeoutMs, headers: { 'Content-Type': 'application/json' } });
      clients.set(channel, c);
    }
    return c;
  }

  async function post(input: NotifyInput, channel: string, url: string): Promise<void> {
    try {
      // An empty path: the whole URL is the base, so it never shows in a request line or error.
      await clientFor(channel, url).post('', buildSlackMessage(input), { responseType: 'text' });
    } catch (err) {
      throw failureWithoutUrl(VENDOR, err, input.channel, url);
    }
  }

  return {
    async notify(input) {
      const channel = normalizeChannel(input.channel);
      const url = config.webhooks[channel];
      if (!url) {
        throw ApplicationFailure.create({
          message: `${VENDOR}: no webhook configured for channel "${input.channel}"`,
          type: `${VENDOR}.UnknownChannel`,
          nonRetryable: true,
        });
      }
      const key = `${channel}\n${input.idempotencyKey}`;
      if (!delivered.has(key)) {
        let sending = inFlight.get(key);
        if (!sending) {
          sending = post(input, channel, url).finally(() => inFlight.delete(key));
          inFlight.set(key, sending);
        }
        await sending;
        delivered.add(key);
      }
      return { delivered: true, channel: input.channel };
    },
  };
}
