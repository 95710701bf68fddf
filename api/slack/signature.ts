/**
 * Slack's request signature (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<X-Slack-Request-Timestamp>:<raw body>">` with the
 * app's signing secret, and a timestamp within five minutes of this clock (no replay).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { signHmacSha256, verifyHmacSha256 } from '../../ingest/signatures';

export const SLACK_WINDOW_SEC = 300;

/** What Slack signs: "v0:<timestamp>:<raw body>". */
const signed = (timestamp: string, body: Buffer | string) => Buffer.concat([Buffer.from(`v0:${timestamp}:`), Buffer.isBuffer(body) ? body : Buffer.from(body)]);

export function slackSignature(secret: string, timestamp: string, body: Buffer | string): string {
  return signHmacSha256(secret, signed(timestamp, body), 'v0=');
}

/** undefined: the request is Slack's; else why not (the answer is 401 and nothing changes). */
export function slackRequestProblem(headers: IncomingHttpHeaders, raw: Buffer, secret: string, nowMs = Date.now()): string | undefined {
  const ts = String(headers['x-slack-request-timestamp'] ?? '');
  const sig = String(headers['x-slack-signature'] ?? '');
  if (!ts || !sig) return 'missing X-Slack-Request-Timestamp or X-Slack-Signature';
  if (!/^\d{1,12}$/.test(ts) || Math.abs(nowMs / 1000 - Number(ts)) > SLACK_WINDOW_SEC) return 'stale or malformed X-Slack-Request-Timestamp (more than 5 minutes from this clock)';
  if (!verifyHmacSha256(secret, signed(ts, raw), sig, 'v0=')) return 'X-Slack-Signature does not match the body (DRW_SLACK_SIGNING_SECRET)';
  return undefined;
}
