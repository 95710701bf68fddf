/**
 * The approval request in Slack: drw's Block Kit message with Approve / Deny buttons, posted with
 * the Web API's chat.postMessage and a bot token (incoming webhooks cannot carry buttons). The
 * clicks come back to the API (POST /v1/integrations/slack/interactivity).
 *
 * Slack answers HTTP 200 with `{ok: false, error}` for refusals: its own transient errors are
 * retryable, every other one (invalid_auth, channel_not_found, not_in_channel, invalid_blocks…)
 * is not. chat.postMessage takes no idempotency key: as for notify, this process remembers the
 * keys it posted (bounded), with the same residual risk of a second post after a worker crash.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { CallContext } from '../../interfaces';
import type { PlanStep } from '../../../planner/types';
import { createVendorClient, nonRetryable } from '../http';
import { approvalRequest, type ApprovalSubject } from './approval-message';
import { RecentKeys } from './recent-keys';

const VENDOR = 'slack';
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

export interface SlackBotConfig {
  /** SLACK_BOT_TOKEN (xoxb-…, scope chat:write). */
  botToken: string;
  /** SLACK_API_URL: https://slack.com/api, or a simulator. */
  apiUrl: string;
  timeoutMs?: number;
}

export function loadSlackBotConfig(env: NodeJS.ProcessEnv = process.env): SlackBotConfig | undefined {
  const token = env.SLACK_BOT_TOKEN?.trim();
  if (!token) return undefined;
  const r = z.object({ SLACK_API_URL: z.url().default('https://slack.com/api'), SLACK_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).optional() }).safeParse({ SLACK_API_URL: env.SLACK_API_URL?.trim() || undefined, SLACK_TIMEOUT_MS: env.SLACK_TIMEOUT_MS?.trim() || undefined });
  if (!r.success) throw new Error(`Slack configuration invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (!/^xox[bp]-/.test(token)) throw new Error('Slack configuration invalid: SLACK_BOT_TOKEN is not a bot token (xoxb-…)');
  return { botToken: token, apiUrl: r.data.SLACK_API_URL, ...(r.data.SLACK_TIMEOUT_MS ? { timeoutMs: r.data.SLACK_TIMEOUT_MS } : {}) };
}

export interface ApprovalRequestInput extends CallContext {
  /** A Slack channel id or name the bot is a member of. */
  channel: string;
  remediation: ApprovalSubject;
  step: PlanStep;
  /** The remediation's page (/ui/remediations/{id}). */
  pageUrl: string;
}

export interface SlackApprovals {
  postApprovalRequest(input: ApprovalRequestInput): Promise<{ channel: string; ts?: string; posted: boolean }>;
}

const answer = z.looseObject({ ok: z.boolean(), error: z.string().optional(), channel: z.string().optional(), ts: z.string().optional() });

export function createSlackApprovals(config: SlackBotConfig, capacity?: number): SlackApprovals {
  const client = createVendorClient({ vendor: VENDOR, baseURL: config.apiUrl.replace(/\/$/, ''), timeoutMs: config.timeoutMs, headers: { Authorization: `Bearer ${config.botToken}`, 'Content-Type': 'application/json; charset=utf-8' } });
  const posted = new RecentKeys(capacity);
  return {
    async postApprovalRequest(input) {
      const key = `${input.channel}\n${input.idempotencyKey}`;
      if (posted.has(key)) return { channel: input.channel, posted: false };
      const res = await client.post('/chat.postMessage', { channel: input.channel, ...approvalRequest(input.remediation, input.step, input.pageUrl) });
      const a = answer.safeParse(res.data);
      if (!a.success) throw ApplicationFailure.create({ message: `${VENDOR}: chat.postMessage answered something that is not Slack's shape`, type: `${VENDOR}.BadAnswer` });
      if (!a.data.ok) {
        const error = a.data.error ?? 'unknown_error';
        if (TRANSIENT.has(error)) throw ApplicationFailure.create({ message: `${VENDOR}: chat.postMessage: ${error}`, type: `${VENDOR}.Transient` });
        throw nonRetryable(VENDOR, `chat.postMessage refused: ${error}`, 'Refused');
      }
      posted.add(key);
      return { channel: a.data.channel ?? input.channel, ...(a.data.ts ? { ts: a.data.ts } : {}), posted: true };
    },
  };
}
