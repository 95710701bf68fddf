import type { AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { createVendorClient } from '../http';
import type { Notify, NotifyInput } from '../../interfaces';
import { normalizeChannel } from './channels';
import type { SlackConfig } from './config';
import { buildSlackMessage } from './message';
import { RecentKeys } from './recent-keys';

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
      throw redacted(err, input.channel, url);
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

/** Rebuilds the failure around the channel name, keeping its retry semantics, with the URL scrubbed. */
function redacted(err: unknown, channel: string, url: string): Error {
  const original = err instanceof Error ? err.message : String(err);
  const reason = scrub(original.replace(/^slack:\s*/, '').replace(/^POST\s*(\S*\s+)?(?=answered |failed)/, ''), url);
  const message = `${VENDOR}: channel "${channel}" ${reason}`;
  if (err instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message,
      type: err.type ?? `${VENDOR}.Error`,
      nonRetryable: err.nonRetryable ?? false,
      nextRetryDelay: err.nextRetryDelay ?? undefined,
      details: err.details ?? undefined,
    });
  }
  return ApplicationFailure.retryable(message, `${VENDOR}.Unavailable`);
}

function scrub(text: string, url: string): string {
  let out = text.split(url).join('[webhook]');
  try {
    const path = new URL(url).pathname;
    if (path.length > 1) out = out.split(path).join('[webhook]');
  } catch {
    // The config loader only admits valid URLs.
  }
  return out;
}
