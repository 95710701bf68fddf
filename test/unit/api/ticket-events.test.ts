/** Vendor messages → the remediation instance and the ticketChanged message (api/ticket-events.ts). */
import { fromJiraWebhook, fromServiceNowCallback, jiraWebhookSchema, serviceNowCallbackSchema } from '../../../api/ticket-events';

const INSTANCE = 'drw-falco-web-1-abc-0123456789abcdef~0198c5e2-7f1';

test('a person reopens a Jira issue: not closed, no resolution, named by e-mail when Jira hides the display name', () => {
  const payload = jiraWebhookSchema.parse({
    timestamp: 1_764_532_800_000,
    webhookEvent: 'jira:issue_updated',
    user: { accountId: '712020:x', emailAddress: 'alice@acme.example' },
    issue: { key: 'SEC-7', fields: { status: { name: 'Reopened', statusCategory: { key: 'new' } }, resolution: null, labels: ['drw', `drw-${INSTANCE}`] }, extra: { kept: true } },
    changelog: { items: [{ field: 'status', fieldtype: 'jira', fromString: 'Done', toString: 'Reopened' }, { field: 'resolution' }] },
  });
  expect(fromJiraWebhook(payload)).toEqual({
    instance: INSTANCE,
    message: { ticketId: 'SEC-7', status: 'Reopened', closed: false, by: 'alice@acme.example', at: '2025-11-30T20:00:00.000Z', via: 'webhook' },
  });
});

test('a ServiceNow incident closed by a person carries its close code; reopened, it carries none', () => {
  const closed = serviceNowCallbackSchema.parse({ table: 'incident', sys_id: 'b'.repeat(32), number: 'INC0010002', state: '7', previous_state: '6', close_code: 'Duplicate', correlation_id: `drw:${INSTANCE}`, sys_updated_by: 'carol' });
  expect(fromServiceNowCallback(closed)).toEqual({ instance: INSTANCE, message: { ticketId: 'INC0010002', status: 'Closed', closed: true, by: 'carol', resolution: 'Duplicate', via: 'webhook' } });
  expect(fromServiceNowCallback({ ...closed, state: '2', state_label: 'In Progress' })).toEqual({ instance: INSTANCE, message: { ticketId: 'INC0010002', status: 'In Progress', closed: false, by: 'carol', via: 'webhook' } });
  expect(fromServiceNowCallback({ ...closed, correlation_id: 'PRB0001' })).toEqual({ ignored: 'INC0010002 has no correlation id naming a drw remediation (drw:<remediation>~<run>)' });
});

test('payloads that are not the vendor\'s shape fail their schema with the field named', () => {
  expect(jiraWebhookSchema.safeParse({ webhookEvent: 'jira:issue_updated' }).error?.issues.map((i) => i.path.join('.'))).toEqual(['issue']);
  expect(serviceNowCallbackSchema.safeParse({ table: 'incident', sys_id: 'x', number: 'INC0010002', state: 'Resolved' }).error?.issues.map((i) => i.path.join('.'))).toEqual(['sys_id', 'state']);
});
