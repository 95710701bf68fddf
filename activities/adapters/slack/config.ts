import { z } from 'zod';
import { normalizeChannel } from './channels';
import { isHttpsOrLoopback } from '../secure-url';

export interface SlackConfig {
  /** Normalized channel name → incoming webhook URL. The URLs are credentials. */
  webhooks: Record<string, string>;
  timeoutMs?: number;
  /** How many delivered idempotency keys this process remembers. */
  dedupeCapacity?: number;
}

const MAP_VAR = 'SLACK_WEBHOOK_URLS';
const PER_CHANNEL_PREFIX = 'SLACK_WEBHOOK_URL_';

/**
 * Reads SLACK_WEBHOOK_URLS (JSON object channel → URL) and SLACK_WEBHOOK_URL_<CHANNEL>
 * (per-channel variables win). Undefined when neither is set. Errors name the variable and
 * channel, never the URL, and never echo the JSON (a parser message quotes its input).
 */
export function loadSlackConfig(env: NodeJS.ProcessEnv = process.env): SlackConfig | undefined {
  const webhooks: Record<string, string> = {};
  const problems: string[] = [];

  const mapText = env[MAP_VAR]?.trim();
  if (mapText) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(mapText);
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) problems.push(`${MAP_VAR} must be a JSON object of channel → URL`);
    else {
      for (const [channel, url] of Object.entries(parsed as Record<string, unknown>)) {
        add(`${MAP_VAR}["${channel}"]`, channel, url);
      }
    }
  }
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(PER_CHANNEL_PREFIX) && value?.trim()) add(name, name.slice(PER_CHANNEL_PREFIX.length), value.trim());
  }

  const timeout = z.coerce.number().int().min(1).max(600_000).optional().safeParse(env.SLACK_TIMEOUT_MS?.trim() || undefined);
  if (!timeout.success) problems.push('SLACK_TIMEOUT_MS must be a positive number of milliseconds');

  if (problems.length) throw new Error(`Slack configuration invalid: ${problems.join('; ')}`);
  if (!Object.keys(webhooks).length) return undefined;
  return { webhooks, timeoutMs: timeout.data };

  function add(source: string, channel: string, url: unknown): void {
    const key = normalizeChannel(channel);
    if (!key) problems.push(`${source} has an empty channel name`);
    else if (typeof url !== 'string' || !isHttpsOrLoopback(url)) problems.push(`${source} must be an https webhook URL`);
    else webhooks[key] = url;
  }
}
