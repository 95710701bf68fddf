/**
 * The Block Kit message that asks for a step's approval in Slack (sent with chat.postMessage: only
 * a bot's message can carry buttons), and the one that replaces it with the outcome. The buttons'
 * value names the remediation, the step and the digest shown: a click decides exactly that content.
 */
import type { PlanStep } from '../../../planner/types';
import type { RemediationView } from '../../../signals';
import { escapeMrkdwn } from './message';

export const APPROVE_ACTION = 'drw_approve';
export const DENY_ACTION = 'drw_deny';
export const REASON_BLOCK = 'drw_reason';
export const REASON_ACTION = 'reason';

export interface ButtonValue {
  r: string;
  s: string;
  d: string;
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

function targetLine(step: PlanStep): string {
  const t = step.target;
  if (!t) return `\`${escapeMrkdwn(step.action)}\``;
  const c = t.change;
  return `${t.kind} \`${escapeMrkdwn(t.id)}\`${t.name ? ` (${escapeMrkdwn(t.name)})` : ''}${c ? `: ${c.files.map((f) => `\`${escapeMrkdwn(f)}\``).join(', ') || 'no file changes'}${c.summary ? ` — ${escapeMrkdwn(c.summary)}` : ''}` : ''}`;
}

/** What the message tells of the remediation. */
export type ApprovalSubject = Pick<RemediationView, 'id' | 'title' | 'severity' | 'riskScore'> & { asset: { id: string } };

export function approvalRequest(v: ApprovalSubject, step: PlanStep, pageUrl: string): { text: string; blocks: unknown[] } {
  const value = JSON.stringify({ r: v.id, s: step.id, d: step.digest } satisfies ButtonValue);
  const who = step.approval ? [...step.approval.users, ...step.approval.groups.map((g) => `@${g}`)].join(', ') : '';
  const diff = step.target?.change?.diff;
  return {
    text: clip(`Approval needed: ${escapeMrkdwn(step.title || step.action)} on ${escapeMrkdwn(v.asset.id)}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(`Approval needed: ${step.title || step.action}`, 150) } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: clip(`*${escapeMrkdwn(v.title)}* (${v.severity}, risk ${v.riskScore})\n*What will be done:* ${targetLine(step)}\n*Why:* playbook \`${escapeMrkdwn(step.reason.playbook)}\`, rule \`${escapeMrkdwn(step.reason.rule)}\`\n*Who may decide:* ${escapeMrkdwn(who)}`, 3000) },
      },
      ...(diff ? [{ type: 'section', text: { type: 'mrkdwn', text: clip(`\`\`\`${diff.replace(/```/g, "'''")}\`\`\``, 3000) } }] : []),
      { type: 'context', elements: [{ type: 'mrkdwn', text: `digest \`${step.digest}\`${pageUrl ? ` · <${pageUrl}|open in drw>` : ''}` }] },
      { type: 'input', block_id: REASON_BLOCK, optional: false, label: { type: 'plain_text', text: 'Reason' }, element: { type: 'plain_text_input', action_id: REASON_ACTION, max_length: 2000 } },
      {
        type: 'actions',
        block_id: 'drw_decision',
        elements: [
          { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value },
          { type: 'button', action_id: DENY_ACTION, style: 'danger', text: { type: 'plain_text', text: 'Deny' }, value },
        ],
      },
    ],
  };
}

/** The message after a click: the outcome (who, when, why) or the refusal, without buttons. */
export function outcomeMessage(text: string): { text: string; blocks: unknown[] } {
  return { text: clip(text, 3000), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(text), 3000) } }] };
}
