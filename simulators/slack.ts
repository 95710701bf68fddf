import { randomBytes } from 'node:crypto';
import { type SimRequest, type SimResponse, SimulatorServer } from './base';

/**
 * Slack incoming-webhook simulator: one URL per channel, answers as Slack documents them
 * (200 `ok` as text; 400 `invalid_payload` / `no_text` / `invalid_blocks`, 403
 * `invalid_token`, 404 `no_service` / `channel_not_found`, 410 `channel_is_archived`).
 * Rate limits come from the base server's fault injection (429 + Retry-After).
 */

export type SlackHookState = 'active' | 'revoked' | 'archived' | 'channel_deleted';

export interface SlackMessageRecord {
  channel: string;
  text?: string;
  blocks?: unknown[];
  at: number;
}

interface Hook {
  channel: string;
  state: SlackHookState;
}

export class SlackSimulator extends SimulatorServer {
  readonly messages: SlackMessageRecord[] = [];
  private readonly hooks = new Map<string, Hook>();

  constructor() {
    super('slack');
    this.route('POST', '/services/:team/:bot/:token', (r) => this.receive(r));
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

function text(status: number, body: string): SimResponse {
  return { status, body, headers: { 'Content-Type': 'text/html' } };
}

export async function startSlackSimulator(): Promise<SlackSimulator> {
  const sim = new SlackSimulator();
  await sim.start();
  return sim;
}
