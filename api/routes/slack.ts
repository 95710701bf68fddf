/**
 * Approve/Deny buttons clicked in Slack: `POST /v1/integrations/slack/interactivity` (the Slack
 * app's Interactivity Request URL). Order: Slack's v0 signature within 5 minutes (401, nothing
 * read further) → the block_actions payload (400) → the Slack user mapped to a drw identity
 * (DRW_SLACK_USERS) → the same authorization as the pages and the API (the `decide` permission in
 * policies/access.yaml, the step's rule) → RemediationService.decide with the digest the message
 * showed (signed by this API, refused by the workflow if the step changed). The outcome or the
 * refusal replaces the message through the payload's response_url (Slack's hooks only).
 */
import axios from 'axios';
import { z } from 'zod';
import type { Logger } from '../../common/logger';
import { REMEDIATION_ID_PATTERN } from '../../domain/ids';
import { DIGEST_PATTERN } from '../../planner/digest';
import { permissionsOf, type AccessPolicy } from '../auth/access';
import { ApiError } from '../errors';
import { isLoopbackHost } from '../auth';
import { route, type DrwRoute } from '../route';
import type { RemediationService } from '../service';
import { APPROVE_ACTION, approvalRequest, DENY_ACTION, outcomeMessage, REASON_ACTION, REASON_BLOCK } from '../../activities/adapters/slack/approval-message';
import type { SlackApprovals } from '../slack/config';
import { slackRequestProblem } from '../slack/signature';
import { whyNotDecide } from '../ui/decide-rule';

export interface SlackRouteDeps {
  service: Pick<RemediationService, 'state' | 'decide'>;
  access: AccessPolicy;
  slack: SlackApprovals;
  /** DRW_PUBLIC_URL: the remediation page linked from the message. */
  publicUrl: string;
  logger: Logger;
  now?: () => number;
}

const buttonValue = z.object({ r: z.string().regex(REMEDIATION_ID_PATTERN), s: z.string().min(1).max(200), d: z.string().regex(DIGEST_PATTERN) });
const blockActions = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id: z.string().min(1).max(64), username: z.string().optional() }),
  response_url: z.url(),
  actions: z.array(z.looseObject({ action_id: z.string(), value: z.string().max(2000).optional() })).min(1),
  state: z.looseObject({ values: z.record(z.string(), z.record(z.string(), z.looseObject({ value: z.string().nullish() }))) }).optional(),
});

/** Only Slack's own hooks (or a loopback simulator) receive the answer: a payload cannot aim drw at another host. */
export function isSlackResponseUrl(u: string): boolean {
  const url = new URL(u);
  return (url.protocol === 'https:' && url.hostname === 'hooks.slack.com') || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

export function slackRoutes(d: SlackRouteDeps): DrwRoute[] {
  const reply = async (responseUrl: string, body: Record<string, unknown>) => {
    try {
      await axios.post(responseUrl, body, { timeout: 5000 });
    } catch (e) {
      d.logger.warn({ err: (e as Error).message }, 'could not update the Slack message');
    }
  };
  return [
    route({
      method: 'POST',
      path: '/v1/integrations/slack/interactivity',
      operationId: 'slackInteractivity',
      summary: "Slack's interactivity request: an Approve or Deny button of drw's approval message (v0 signature, DRW_SLACK_SIGNING_SECRET)",
      tags: ['approvals'],
      permission: 'public',
      body: 'raw',
      schema: {
        response: {
          200: z.object({}).describe('Handled: the message is updated through response_url with the outcome or the refusal'),
          400: z.object({ error: z.string() }).describe('Not a block_actions payload from drw\'s message'),
          401: z.object({ error: z.string() }).describe('Bad or stale Slack signature: nothing was read or changed'),
        },
      },
      handler: async ({ headers, raw }) => {
        const problem = slackRequestProblem(headers, raw, d.slack.signingSecret, (d.now ?? Date.now)());
        if (problem) throw new ApiError(401, problem);
        const form = new URLSearchParams(raw.toString('utf8'));
        let payload: z.infer<typeof blockActions>;
        try {
          payload = blockActions.parse(JSON.parse(form.get('payload') ?? ''));
        } catch {
          throw new ApiError(400, 'expected a block_actions payload (form field "payload")');
        }
        if (!isSlackResponseUrl(payload.response_url)) throw new ApiError(400, 'response_url is not a Slack hook');
        const action = payload.actions.find((a) => a.action_id === APPROVE_ACTION || a.action_id === DENY_ACTION);
        const value = action ? buttonValue.safeParse(JSON.parse(action.value ?? 'null')) : undefined;
        if (!action || !value?.success) throw new ApiError(400, 'no drw Approve/Deny action in the payload');
        const { r: id, s: stepId, d: digest } = value.data;
        const kind = action.action_id === APPROVE_ACTION ? 'approve' : 'deny';
        const refuse = async (text: string) => {
          d.logger.warn({ slackUser: payload.user.id, remediation: id, step: stepId, refusal: text }, 'action refused');
          await reply(payload.response_url, { response_type: 'ephemeral', replace_original: false, ...outcomeMessage(`Nothing was decided: ${text}`) });
          return { status: 200, body: {} };
        };
        const who = d.slack.users[payload.user.id];
        if (!who) return refuse(`Slack user ${payload.user.id} is not mapped to a drw identity (DRW_SLACK_USERS)`);
        const reason = payload.state?.values?.[REASON_BLOCK]?.[REASON_ACTION]?.value?.trim();
        if (!reason) return refuse('write a reason in the message first');
        const person = { ...who, permissions: permissionsOf(d.access, who.user, who.groups) };
        let step;
        try {
          step = (await d.service.state(id)).plan.steps.find((x) => x.id === stepId);
        } catch (e) {
          if (e instanceof ApiError) return refuse(e.message);
          throw e;
        }
        const why = step && step.status === 'awaiting_approval' ? whyNotDecide(person, step) : person.permissions.has('decide') ? undefined : `${who.user} may not approve or deny steps`;
        if (why && !/already approved/.test(why)) return refuse(`${who.user}: ${why}`);
        try {
          const plan = await d.service.decide(id, kind, { stepId, approver: who.user, groups: who.groups, reason, digest });
          const after = plan.steps.find((x) => x.id === stepId);
          const at = new Date((d.now ?? Date.now)()).toISOString();
          const outcome = `${kind === 'approve' ? 'Approved' : 'Denied'} by ${who.user} at ${at}: ${reason} (step ${stepId}, digest ${digest.slice(0, 12)}…; now ${after?.status.replace(/_/g, ' ') ?? 'gone from the plan'}${after?.note ? `, ${after.note}` : ''})`;
          // A quorum still open keeps its buttons for the next approver.
          const message = after?.status === 'awaiting_approval' ? approvalRequest(await d.service.state(id), after, pageUrl(d.publicUrl, id)) : outcomeMessage(outcome);
          if (after?.status === 'awaiting_approval') message.blocks.splice(1, 0, { type: 'context', elements: [{ type: 'mrkdwn', text: outcome }] });
          await reply(payload.response_url, { replace_original: true, ...message });
          return { status: 200, body: {} };
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          const type = (e.details as { type?: string } | undefined)?.type;
          if (type === 'DigestMismatch' || type === 'ChangeNotPreviewed') return refuse(`the step changed since this message was posted: review it at ${pageUrl(d.publicUrl, id)}`);
          return refuse(e.message);
        }
      },
    }),
  ];
}

export const pageUrl = (base: string, id: string) => `${base.replace(/\/$/, '')}/ui/remediations/${encodeURIComponent(id)}`;
