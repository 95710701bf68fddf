/**
 * Slack approvals (read with the API's settings; problems name the variable):
 *
 *   DRW_SLACK_SIGNING_SECRET  the Slack app's signing secret: interactivity requests carry its
 *                             v0 signature (POST /v1/integrations/slack/interactivity)
 *   DRW_SLACK_USERS           JSON: Slack user id → drw identity, e.g.
 *                             {"U024BE7LH": {"user": "alice", "groups": ["secops"]}}; the user id
 *                             is what Slack's signed request asserts; anyone else is refused
 */
import { z } from 'zod';

export interface SlackApprovals {
  signingSecret: string;
  users: Record<string, { user: string; groups: string[] }>;
}

const usersSchema = z.record(
  z.string().regex(/^[UW][A-Z0-9]{2,30}$/, 'a Slack user id (U… or W…)'),
  z.object({ user: z.string().trim().min(1).max(200), groups: z.array(z.string().trim().min(1).max(200)).max(100).default([]) }).strict(),
);

export function loadSlackApprovals(env: NodeJS.ProcessEnv, problems: string[]): SlackApprovals | undefined {
  const secret = env.DRW_SLACK_SIGNING_SECRET?.trim();
  const usersText = env.DRW_SLACK_USERS?.trim();
  if (!secret) {
    if (usersText) problems.push('DRW_SLACK_USERS: set, but DRW_SLACK_SIGNING_SECRET is not: Slack approvals need the app\'s signing secret');
    return undefined;
  }
  if (secret.length < 16) problems.push('DRW_SLACK_SIGNING_SECRET: too short to be a Slack signing secret');
  let users: SlackApprovals['users'] = {};
  if (usersText) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(usersText);
    } catch {
      problems.push('DRW_SLACK_USERS: not JSON (an object of Slack user id → {"user", "groups"})');
    }
    if (parsed !== undefined) {
      const r = usersSchema.safeParse(parsed);
      if (r.success) users = r.data;
      else for (const i of r.error.issues) problems.push(`DRW_SLACK_USERS${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`);
    }
  }
  return { signingSecret: secret, users };
}
