/**
 * What a ticketing system's own message says about a remediation's ticket: Jira Cloud's
 * `jira:issue_updated` webhook, or the ServiceNow state-change business rule's callback
 * (simulators/servicenow.ts IncidentCallback). Each becomes the remediation instance its ticket
 * names (a Jira label, a ServiceNow correlation id) and the `ticketChanged` message, or the reason
 * there is nothing to tell a remediation. Pure: the routes validate, this reads, the service signals.
 */
import { z } from 'zod';
import { remediationRefOfLabels } from '../activities/adapters/jira/label';
import { remediationRefOfCorrelation } from '../activities/adapters/servicenow/correlation';
import { CLOSED_STATES, INCIDENT_STATES } from '../activities/adapters/servicenow/incident-states';
import type { TicketChanged } from '../signals/messages';

export type TicketEvent = { instance: string; message: TicketChanged } | { ignored: string };

const name = z.string().max(1000);
const jiraUser = z.looseObject({ accountId: name.optional(), displayName: name.optional(), emailAddress: name.optional(), name: name.optional() });
const jiraIssue = z.looseObject({
  id: z.string().max(64).optional(),
  key: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*-\d{1,18}$/, { error: 'must be a Jira issue key like SEC-12' }),
  fields: z.looseObject({
    status: z.looseObject({ name: z.string().trim().min(1).max(200), statusCategory: z.looseObject({ key: z.string().max(64) }).optional() }),
    resolution: z.looseObject({ name: z.string().max(200) }).nullish(),
    labels: z.array(z.string().max(255)).max(1000).optional(),
  }),
});

/** The fields drw reads of Jira's webhook; the rest of Jira's payload is accepted as it comes. */
export const jiraWebhookSchema = z
  .looseObject({
    webhookEvent: z.string().min(1).max(200),
    timestamp: z.number().int().nonnegative().optional(),
    issue_event_type_name: z.string().max(200).optional(),
    user: jiraUser.optional(),
    issue: jiraIssue.optional(),
    changelog: z.looseObject({ items: z.array(z.looseObject({ field: z.string().max(200).optional(), fieldId: z.string().max(200).optional() })).max(1000) }).nullish(),
  })
  .superRefine((p, ctx) => {
    if (p.webhookEvent.startsWith('jira:issue_') && !p.issue) ctx.addIssue({ code: 'custom', path: ['issue'], message: `${p.webhookEvent} carries the issue` });
  })
  .describe("Jira Cloud's webhook body as Jira sends it (jira:issue_updated is read; other events are ignored)");
export type JiraWebhook = z.infer<typeof jiraWebhookSchema>;

/** What the state-change business rule sends (see README, Integrations, for the script's fields). */
export const serviceNowCallbackSchema = z
  .object({
    table: z.literal('incident'),
    sys_id: z.string().regex(/^[0-9a-f]{32}$/, { error: 'must be the incident sys_id (32 hex characters)' }),
    number: z.string().regex(/^[A-Z]{2,8}\d{4,12}$/, { error: 'must be the incident number like INC0010001' }),
    state: z.string().regex(/^-?\d{1,4}$/, { error: "must be the state's value, e.g. \"6\"" }),
    state_label: z.string().max(200).nullish(),
    previous_state: z.string().max(10).nullish(),
    close_code: z.string().max(200).nullish(),
    correlation_id: z.string().max(100).nullish(),
    sys_updated_by: z.string().max(200).nullish(),
    sys_updated_on: z.string().max(64).nullish(),
  })
  .describe("A ServiceNow business rule's report of an incident's state change");
export type ServiceNowCallback = z.infer<typeof serviceNowCallbackSchema>;

const trimmed = (s: string | null | undefined, max = 200): string | undefined => {
  const t = s?.trim();
  return t ? t.slice(0, max) : undefined;
};

export function fromJiraWebhook(p: JiraWebhook): TicketEvent {
  if (p.webhookEvent !== 'jira:issue_updated' || !p.issue) return { ignored: `${p.webhookEvent.slice(0, 100)} does not change a ticket's status` };
  const issue = p.issue;
  const statusChanged = (p.changelog?.items ?? []).some((i) => (i.fieldId ?? i.field) === 'status' || i.field === 'status');
  if (!statusChanged) return { ignored: `${issue.key}: no status change (${p.issue_event_type_name?.slice(0, 100) ?? 'update'})` };
  const instance = remediationRefOfLabels(issue.fields.labels ?? []);
  if (!instance) return { ignored: `${issue.key} carries no label naming a drw remediation (drw-<remediation>~<run>)` };
  const by = trimmed(p.user?.displayName) ?? trimmed(p.user?.emailAddress) ?? trimmed(p.user?.name) ?? trimmed(p.user?.accountId);
  const resolution = trimmed(issue.fields.resolution?.name);
  return {
    instance,
    message: {
      ticketId: issue.key,
      status: issue.fields.status.name,
      closed: issue.fields.status.statusCategory?.key === 'done',
      ...(by ? { by } : {}),
      ...(resolution ? { resolution } : {}),
      ...(p.timestamp !== undefined ? { at: new Date(p.timestamp).toISOString() } : {}),
      via: 'webhook',
    },
  };
}

export function fromServiceNowCallback(p: ServiceNowCallback): TicketEvent {
  if (p.previous_state != null && p.previous_state === p.state) return { ignored: `${p.number}: no state change` };
  const instance = remediationRefOfCorrelation(p.correlation_id);
  if (!instance) return { ignored: `${p.number} has no correlation id naming a drw remediation (drw:<remediation>~<run>)` };
  const closed = CLOSED_STATES.has(p.state);
  const by = trimmed(p.sys_updated_by);
  const resolution = closed ? trimmed(p.close_code) : undefined;
  // sys_updated_on is the instance's UTC "yyyy-MM-dd HH:mm:ss" in the Table API's raw form.
  const at = p.sys_updated_on && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(p.sys_updated_on) ? `${p.sys_updated_on.replace(' ', 'T')}Z` : undefined;
  return {
    instance,
    message: {
      ticketId: p.number,
      status: trimmed(p.state_label) ?? INCIDENT_STATES[p.state] ?? p.state,
      closed,
      ...(by ? { by } : {}),
      ...(resolution ? { resolution } : {}),
      ...(at ? { at } : {}),
      via: 'webhook',
    },
  };
}
