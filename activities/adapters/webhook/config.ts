import { z } from 'zod';

export interface WebhookConfig {
  /** Channel name (as configured) → receiver URL. The URLs are treated as credentials. */
  urls: Record<string, string>;
  /** Shared HMAC-SHA256 key; receivers verify X-Drw-Signature-256 with it. */
  secret: string;
  timeoutMs?: number;
}

const URLS_VAR = 'DRW_WEBHOOK_URLS';
const SECRET_VAR = 'DRW_WEBHOOK_SECRET';
const MIN_SECRET_LENGTH = 16;

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const u = new URL(value);
    // Plain http is allowed for in-cluster receivers: the body is signed, the key never sent.
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * Undefined when neither DRW_WEBHOOK_URLS nor DRW_WEBHOOK_SECRET is set; throws naming the
 * variable (and channel), never a URL, the secret, or the JSON text.
 */
export function loadWebhookConfig(env: NodeJS.ProcessEnv = process.env): WebhookConfig | undefined {
  const urlsText = env[URLS_VAR]?.trim();
  const secret = env[SECRET_VAR]?.trim();
  if (!urlsText && !secret) return undefined;
  const problems: string[] = [];
  const urls: Record<string, string> = {};

  if (!urlsText) problems.push(`${URLS_VAR} is required`);
  else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(urlsText);
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) problems.push(`${URLS_VAR} must be a JSON object of channel → URL`);
    else {
      for (const [channel, url] of Object.entries(parsed as Record<string, unknown>)) {
        if (!channel.trim()) problems.push(`${URLS_VAR} has an empty channel name`);
        else if (!isHttpUrl(url)) problems.push(`${URLS_VAR}["${channel}"] must be an http(s) URL`);
        else urls[channel.trim()] = url;
      }
      if (!Object.keys(urls).length && !problems.length) problems.push(`${URLS_VAR} has no channels`);
    }
  }
  if (!secret) problems.push(`${SECRET_VAR} is required`);
  else if (secret.length < MIN_SECRET_LENGTH) problems.push(`${SECRET_VAR} must be at least ${MIN_SECRET_LENGTH} characters`);

  const timeout = z.coerce.number().int().min(1).max(600_000).optional().safeParse(env.DRW_WEBHOOK_TIMEOUT_MS?.trim() || undefined);
  if (!timeout.success) problems.push('DRW_WEBHOOK_TIMEOUT_MS must be a positive number of milliseconds');

  if (problems.length) throw new Error(`Webhook configuration invalid: ${problems.join('; ')}`);
  return { urls, secret: secret!, timeoutMs: timeout.data };
}
