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
import { approvalRequest, outcomeMessage, type ApprovalSubject } from './approval-message';
import { normalizeChannel } from './channels';
import { RecentKeys } from './recent-keys';

const VENDOR = 'slack';
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

export interface SlackBotConfig {
  /** SLACK_BOT_TOKEN (xoxb-…, scope chat:write). */
  botToken: string;
  /** SLACK_API_URL: https://slack.com/api, or a simulator. */
  apiUrl: string;
  timeoutMs?: number;
  /**
   * SLACK_APPROVAL_CHANNELS: approver group (normalized as notify channels are) → Slack channel id
   * or name; "*" for steps none of whose groups is listed. Unlisted groups post to the channel of
   * their own name (#secops for secops), as notify steps name theirs.
   */
  approvalChannels?: Record<string, string>;
}

const channelsSchema = z.record(z.string().trim().min(1).max(200), z.string().trim().regex(/^#?[a-zA-Z0-9][a-zA-Z0-9._-]{0,79}$/, 'a Slack channel id or name'));

export function loadSlackBotConfig(env: NodeJS.ProcessEnv = process.env): SlackBotConfig | undefined {
  const token = env.SLACK_BOT_TOKEN?.trim();
  if (!token) return undefined;
  const r = z
    .object({ SLACK_API_URL: z.url().default('https://slack.com/api'), SLACK_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).optional(), SLACK_APPROVAL_CHANNELS: channelsSchema.optional() })
    .safeParse({ SLACK_API_URL: env.SLACK_API_URL?.trim() || undefined, SLACK_TIMEOUT_MS: env.SLACK_TIMEOUT_MS?.trim() || undefined, SLACK_APPROVAL_CHANNELS: jsonOrText(env.SLACK_APPROVAL_CHANNELS) });
  if (!r.success) throw new Error(`Slack configuration invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (!/^xox[bp]-/.test(token)) throw new Error('Slack configuration invalid: SLACK_BOT_TOKEN is not a bot token (xoxb-…)');
  const channels = r.data.SLACK_APPROVAL_CHANNELS;
  return {
    botToken: token,
    apiUrl: r.data.SLACK_API_URL,
    ...(r.data.SLACK_TIMEOUT_MS ? { timeoutMs: r.data.SLACK_TIMEOUT_MS } : {}),
    ...(channels ? { approvalChannels: Object.fromEntries(Object.entries(channels).map(([g, c]) => [g === '*' ? '*' : normalizeChannel(g), c])) } : {}),
  };
}

/** The variable's JSON, or its text (which the schema then refuses as not an object); never echoed in an error. */
function jsonOrText(v: string | undefined): unknown {
  if (!v?.trim()) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return 'not JSON';
  }
}

/** Where a step's approval request goes: its groups' channels (one message per channel), else "*", else none. */
export function approvalChannels(config: Pick<SlackBotConfig, 'approvalChannels'>, step: Pick<PlanStep, 'approval'>): string[] {
  const map = config.approvalChannels ?? {};
  const groups = (step.approval?.groups ?? []).map(normalizeChannel).filter(Boolean);
  const found = [...new Set(groups.map((g) => map[g] ?? g))];
  return found.length ? found : map['*'] ? [map['*']] : [];
}

export interface ApprovalRequestInput extends CallContext {
  /** A Slack channel id or name the bot is a member of. */
  channel: string;
  remediation: ApprovalSubject;
  step: PlanStep;
  /** The remediation's page (/ui/remediations/{id}). */
  pageUrl: string;
}

export interface ApprovalOutcomeInput extends CallContext {
  /** The message as chat.postMessage answered: its channel id and ts. */
  channel: string;
  ts: string;
  text: string;
}

export interface SlackApprovals {
  /** The channels the step's request goes to (SLACK_APPROVAL_CHANNELS). */
  channelsFor(step: Pick<PlanStep, 'approval'>): string[];
  postApprovalRequest(input: ApprovalRequestInput): Promise<{ channel: string; ts?: string; posted: boolean }>;
  /** Replaces the request with the step's outcome (chat.update): no buttons left to press. */
  updateApprovalRequest(input: ApprovalOutcomeInput): Promise<{ updated: boolean }>;
}

const answer = z.looseObject({ ok: z.boolean(), error: z.string().optional(), channel: z.string().optional(), ts: z.string().optional() });

export function createSlackApprovals(config: SlackBotConfig, capacity?: number): SlackApprovals {
  const client = createVendorClient({ vendor: VENDOR, baseURL: config.apiUrl.replace(/\/$/, ''), timeoutMs: config.timeoutMs, headers: { Authorization: `Bearer ${config.botToken}`, 'Content-Type': 'application/json; charset=utf-8' } });
  const posted = new RecentKeys<{ channel: string; ts?: string }>(capacity);
  /** Slack's answer to a Web API method, or the failure it means. */
  const call = async (method: string, body: Record<string, unknown>) => {
    const res = await client.post(`/${method}`, body);
    const a = answer.safeParse(res.data);
    if (!a.success) throw ApplicationFailure.create({ message: `${VENDOR}: ${method} answered something that is not Slack's shape`, type: `${VENDOR}.BadAnswer` });
    if (!a.data.ok) {
      const error = a.data.error ?? 'unknown_error';
      if (TRANSIENT.has(error)) throw ApplicationFailure.create({ message: `${VENDOR}: ${method}: ${error}`, type: `${VENDOR}.Transient` });
      throw nonRetryable(VENDOR, `${method} refused: ${error}`, 'Refused');
    }
    return a.data;
  };
  return {
    channelsFor: (step) => approvalChannels(config, step),
    async postApprovalRequest(input) {
      const key = `${input.channel}\n${input.idempotencyKey}`;
      const before = posted.get(key);
      if (before) return { ...before, posted: false };
      const a = await call('chat.postMessage', { channel: input.channel, ...approvalRequest(input.remediation, input.step, input.pageUrl) });
      const message = { channel: a.channel ?? input.channel, ...(a.ts ? { ts: a.ts } : {}) };
      posted.add(key, message);
      return { ...message, posted: true };
    },
    async updateApprovalRequest(input) {
      // chat.update with the same content is harmless: a retry needs no memory of its own.
      await call('chat.update', { channel: input.channel, ts: input.ts, ...outcomeMessage(input.text) });
      return { updated: true };
    },
  };
}
