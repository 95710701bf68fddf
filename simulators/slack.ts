import { randomBytes } from 'node:crypto';
import { slackSignature } from '../api/slack/signature';
import { type SimRequest, type SimResponse, SimulatorServer } from './base';

/**
 * Slack simulator. Incoming webhooks: one URL per channel, answers as Slack documents them
 * (200 `ok` as text; 400 `invalid_payload` / `no_text` / `invalid_blocks`, 403
 * `invalid_token`, 404 `no_service` / `channel_not_found`, 410 `channel_is_archived`).
 * Rate limits come from the base server's fault injection (429 + Retry-After).
 *
 * The Web API's chat.postMessage with a bot token (`{ok, channel, ts}`, or `{ok: false, error}`
 * with HTTP 200 as Slack answers), and interactivity as a Slack app receives it: `click` sends a
 * person's button press on a posted message to the app's Request URL as Slack does (form field
 * `payload` with a block_actions JSON, signed v0 with the app's signing secret), and the message's
 * response_url (here /actions/<ts>) takes the app's replacement of the message. chat.update
 * replaces a posted message (`message_not_found` for an unknown channel/ts).
 *
 * People: `GET /_admin/messages` lists the bot's messages (ts, channel, text, buttons);
 * `POST /_admin/messages/{ts}/click` `{"user": "U0ALICE", "action": "approve"|"deny",
 * "reason": "…"}` presses a button of a posted message as that Slack user, signed and sent to
 * `requestUrl` (the app's Interactivity Request URL; `npm start` points it at drw's API); the
 * answer carries the app's HTTP status.
 */

export type SlackHookState = 'active' | 'revoked' | 'archived' | 'channel_deleted';

export interface SlackMessageRecord {
  channel: string;
  text?: string;
  blocks?: unknown[];
  at: number;
  /** Messages posted through chat.postMessage: their timestamp id. */
  ts?: string;
  /** Answers the app sent through the message's response_url (replacements and ephemeral replies). */
  responses?: { replace_original?: boolean; response_type?: string; text?: string; blocks?: unknown[] }[];
  /** Replacements through chat.update, oldest first. */
  updates?: { text?: string; blocks?: unknown[]; at: number }[];
}

interface SlackButton {
  type: 'button';
  action_id: string;
  value?: string;
}

interface Hook {
  channel: string;
  state: SlackHookState;
}

export class SlackSimulator extends SimulatorServer {
  readonly messages: SlackMessageRecord[] = [];
  private readonly hooks = new Map<string, Hook>();

  /** The bot token chat.postMessage accepts, and the app's signing secret its interactivity requests carry. */
  readonly botToken = `xoxb-${randomBytes(12).toString('hex')}`;
  readonly signingSecret: string;
  /** The app's Interactivity Request URL, where the admin route's clicks go. */
  requestUrl?: string;
  private seq = 0;

  /** `signingSecret`: the app's (npm start gives drw's API and this simulator the same one); else a fresh one. */
  constructor(o: { signingSecret?: string } = {}) {
    super('slack');
    this.signingSecret = o.signingSecret ?? randomBytes(16).toString('hex');
    this.route('POST', '/services/:team/:bot/:token', (r) => this.receive(r));
    this.route('POST', '/api/chat.postMessage', (r) => this.postMessage(r));
    this.route('POST', '/api/chat.update', (r) => this.update(r));
    this.route('POST', '/actions/:ts', (r) => this.respond(r));
    this.route('POST', '/_admin/messages/:ts/click', (r) => this.adminClick(r));
    this.route('GET', '/_admin/messages', () => ({ status: 200, body: this.messages.filter((m) => m.ts).map((m) => ({ ts: m.ts, channel: m.channel, text: m.text ?? null, buttons: buttonsOf(m).map((b) => b.action_id) })) }));
  }

  /** The approval message buttons' action ids, by what a person means. */
  private static readonly BUTTONS: Record<string, string> = { approve: 'drw_approve', deny: 'drw_deny' };

  private async adminClick(r: SimRequest): Promise<SimResponse> {
    const b = (typeof r.body === 'object' && r.body !== null ? r.body : {}) as { user?: unknown; action?: unknown; reason?: unknown };
    const m = this.messages.find((x) => x.ts === r.params.ts);
    if (!m) return { status: 404, body: { error: `no message ${r.params.ts}` } };
    if (!this.requestUrl) return { status: 409, body: { error: 'no Interactivity Request URL is set (requestUrl)' } };
    if (typeof b.user !== 'string' || !/^[UW][A-Z0-9]{2,30}$/.test(b.user)) return { status: 400, body: { error: 'say who clicks: {"user": "<Slack user id, U…>"}' } };
    const actionId = typeof b.action === 'string' ? SlackSimulator.BUTTONS[b.action] : undefined;
    if (!actionId) return { status: 400, body: { error: 'action: approve or deny' } };
    if (b.reason !== undefined && typeof b.reason !== 'string') return { status: 400, body: { error: 'reason must be a string' } };
    try {
      const status = await this.click(this.requestUrl, { ts: m.ts!, userId: b.user, actionId, ...(b.reason !== undefined ? { reason: b.reason } : {}) });
      return { status: 200, body: { ts: m.ts, app: { status }, text: m.text ?? null, responses: (m.responses ?? []).map((x) => x.text ?? null) } };
    } catch (e) {
      return { status: 409, body: { error: (e as Error).message } };
    }
  }

  /**
   * A person (Slack user id) presses a button of a posted message, having typed `reason` in its
   * input; sent to the app's Request URL as Slack sends it. `at`: the request time (a stale one is
   * a replay). Returns the app's HTTP status.
   */
  async click(requestUrl: string, o: { ts: string; userId: string; actionId: string; reason?: string; at?: number; secret?: string }): Promise<number> {
    const m = this.messages.find((x) => x.ts === o.ts);
    if (!m) throw new Error(`no message ${o.ts}`);
    const button = buttonsOf(m).find((b) => b.action_id === o.actionId);
    if (!button) throw new Error(`message ${o.ts} has no button ${o.actionId}`);
    const input = (m.blocks ?? []).find((b) => (b as { type?: string }).type === 'input') as { block_id: string; element: { action_id: string } } | undefined;
    const payload = {
      type: 'block_actions',
      user: { id: o.userId, username: o.userId.toLowerCase(), team_id: 'T0SIM' },
      team: { id: 'T0SIM', domain: 'sim' },
      container: { type: 'message', message_ts: o.ts, channel_id: m.channel },
      channel: { id: m.channel },
      message: { ts: o.ts, text: m.text, blocks: m.blocks },
      response_url: `${this.baseUrl}/actions/${o.ts}`,
      trigger_id: randomBytes(8).toString('hex'),
      actions: [{ type: 'button', action_id: button.action_id, block_id: 'drw_decision', value: button.value, action_ts: String(Date.now() / 1000) }],
      state: { values: input ? { [input.block_id]: { [input.element.action_id]: { type: 'plain_text_input', value: o.reason ?? null } } } : {} },
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const ts = String(Math.floor((o.at ?? Date.now()) / 1000));
    const signature = slackSignature(o.secret ?? this.signingSecret, ts, body);
    const res = await fetch(requestUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': signature }, body });
    await res.arrayBuffer();
    return res.status;
  }

  private postMessage(r: SimRequest): SimResponse {
    if (r.headers.authorization !== `Bearer ${this.botToken}`) return json({ ok: false, error: r.headers.authorization ? 'invalid_auth' : 'not_authed' });
    const body = (typeof r.body === 'object' && r.body !== null ? r.body : {}) as { channel?: unknown; text?: unknown; blocks?: unknown };
    if (typeof body.channel !== 'string' || !body.channel) return json({ ok: false, error: 'channel_not_found' });
    if (body.blocks !== undefined && (!Array.isArray(body.blocks) || body.blocks.length > 50)) return json({ ok: false, error: 'invalid_blocks' });
    if (!(typeof body.text === 'string' && body.text.trim()) && !(Array.isArray(body.blocks) && body.blocks.length)) return json({ ok: false, error: 'no_text' });
    const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.seq).padStart(6, '0')}`;
    this.messages.push({ channel: body.channel, text: body.text as string | undefined, blocks: body.blocks as unknown[] | undefined, at: Date.now(), ts, responses: [] });
    return json({ ok: true, channel: body.channel, ts, message: { text: body.text, blocks: body.blocks } });
  }

  private update(r: SimRequest): SimResponse {
    if (r.headers.authorization !== `Bearer ${this.botToken}`) return json({ ok: false, error: r.headers.authorization ? 'invalid_auth' : 'not_authed' });
    const body = (typeof r.body === 'object' && r.body !== null ? r.body : {}) as { channel?: unknown; ts?: unknown; text?: unknown; blocks?: unknown };
    if (typeof body.channel !== 'string' || !body.channel) return json({ ok: false, error: 'channel_not_found' });
    const m = this.messages.find((x) => x.ts !== undefined && x.ts === body.ts && x.channel === body.channel);
    if (!m) return json({ ok: false, error: 'message_not_found' });
    if (body.blocks !== undefined && (!Array.isArray(body.blocks) || body.blocks.length > 50)) return json({ ok: false, error: 'invalid_blocks' });
    if (!(typeof body.text === 'string' && body.text.trim()) && !(Array.isArray(body.blocks) && body.blocks.length)) return json({ ok: false, error: 'no_text' });
    m.text = body.text as string | undefined;
    m.blocks = body.blocks as unknown[] | undefined;
    (m.updates ??= []).push({ text: m.text, blocks: m.blocks, at: Date.now() });
    return json({ ok: true, channel: m.channel, ts: m.ts, text: m.text });
  }

  private respond(r: SimRequest): SimResponse {
    const m = this.messages.find((x) => x.ts === r.params.ts);
    if (!m) return text(404, 'no_such_message');
    const body = (typeof r.body === 'object' && r.body !== null ? r.body : {}) as NonNullable<SlackMessageRecord['responses']>[number];
    (m.responses ??= []).push(body);
    if (body.replace_original) {
      m.text = body.text;
      m.blocks = body.blocks;
    }
    return text(200, 'ok');
  }

  /** Registers a channel's webhook and returns its URL (a secret, as Slack's are). */
  addWebhook(channel: string, state: SlackHookState = 'active'): string {
    const path = `/services/T${randomBytes(4).toString('hex').toUpperCase()}/B${randomBytes(4).toString('hex').toUpperCase()}/${randomBytes(12).toString('base64url')}`;
    this.hooks.set(path, { channel, state });
    return `${this.baseUrl}${path}`;
  }

  setWebhookState(url: string, state: SlackHookState): void {
    const hook = this.hooks.get(new URL(url).pathname);
    if (hook) hook.state = state;
  }

  messagesFor(channel: string): SlackMessageRecord[] {
    return this.messages.filter((m) => m.channel === channel);
  }

  private receive(r: SimRequest): SimResponse {
    const hook = this.hooks.get(r.path);
    if (!hook) return text(404, 'no_service');
    if (hook.state === 'revoked') return text(403, 'invalid_token');
    if (hook.state === 'archived') return text(410, 'channel_is_archived');
    if (hook.state === 'channel_deleted') return text(404, 'channel_not_found');
    if (typeof r.body !== 'object' || r.body === null) return text(400, 'invalid_payload');
    const body = r.body as { text?: unknown; blocks?: unknown };
    if (body.blocks !== undefined && !Array.isArray(body.blocks)) return text(400, 'invalid_blocks');
    if (Array.isArray(body.blocks) && body.blocks.length > 50) return text(400, 'invalid_blocks');
    const hasText = typeof body.text === 'string' && body.text.trim() !== '';
    if (!hasText && !(Array.isArray(body.blocks) && body.blocks.length)) return text(400, 'no_text');
    this.messages.push({ channel: hook.channel, text: body.text as string | undefined, blocks: body.blocks as unknown[] | undefined, at: Date.now() });
    return text(200, 'ok');
  }
}

function buttonsOf(m: SlackMessageRecord): SlackButton[] {
  return (m.blocks ?? []).flatMap((b) => ((b as { type?: string }).type === 'actions' ? ((b as { elements: SlackButton[] }).elements ?? []) : []));
}

function json(body: unknown): SimResponse {
  return { status: 200, body, headers: { 'Content-Type': 'application/json' } };
}

function text(status: number, body: string): SimResponse {
  return { status, body, headers: { 'Content-Type': 'text/html' } };
}

export async function startSlackSimulator(o: { signingSecret?: string } = {}): Promise<SlackSimulator> {
  const sim = new SlackSimulator(o);
  await sim.start();
  return sim;
}
