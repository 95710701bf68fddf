/**
 * Ticketing systems telling drw that a remediation's ticket changed: Jira Cloud's webhook
 * (`X-Hub-Signature` with DRW_JIRA_WEBHOOK_SECRET) and a ServiceNow business rule's callback
 * (an ingest credential of source `servicenow`). A change of status becomes `ticketChanged`
 * for the remediation the ticket names (api/ticket-events.ts); anything else is answered 202
 * with why nothing was signalled, so the vendor does not retry it.
 *
 * Order: credential (401, nothing read) → JSON (415/400) → the payload's schema (400) → signal.
 */
import { z } from 'zod';
import type { Logger } from '../../common/logger';
import { route, type DrwRoute } from '../route';
import type { RemediationService, TicketChangeOutcome } from '../service';
import { fromJiraWebhook, fromServiceNowCallback, jiraWebhookSchema, serviceNowCallbackSchema, type TicketEvent } from '../ticket-events';

const outcome = z
  .union([
    z.object({ signalled: z.object({ remediation: z.string(), ticketId: z.string(), status: z.string(), closed: z.boolean() }) }),
    z.object({ ignored: z.string(), remediation: z.string().optional() }),
  ])
  .describe('`signalled`: the remediation was sent ticketChanged; `ignored`: why nothing was sent (no status change, no drw ticket, an earlier or closed remediation)');

export function integrationRoutes(d: { service: RemediationService; logger: Logger }): DrwRoute[] {
  async function deliver(system: string, event: TicketEvent): Promise<{ status: number; body: TicketChangeOutcome }> {
    const out = 'ignored' in event ? event : await d.service.ticketChanged(event.instance, event.message);
    d.logger.info({ system, ...('signalled' in out ? { signalled: out.signalled } : { ignored: out.ignored }) }, 'ticket changed');
    return { status: 202, body: out };
  }
  return [
    route({
      method: 'POST',
      path: '/v1/integrations/jira/webhook',
      operationId: 'jiraWebhook',
      summary: "Jira Cloud's webhook (jira:issue_updated): a status change of a remediation's issue signals ticketChanged",
      tags: ['integrations'],
      permission: 'submit:jira',
      body: 'json',
      schema: { body: jiraWebhookSchema, response: { 202: outcome } },
      handler: async ({ body }) => deliver('jira', fromJiraWebhook(body)),
    }),
    route({
      method: 'POST',
      path: '/v1/integrations/servicenow/callback',
      operationId: 'serviceNowCallback',
      summary: "A ServiceNow business rule's callback: a state change of a remediation's incident signals ticketChanged",
      tags: ['integrations'],
      permission: 'submit:servicenow',
      body: 'json',
      schema: { body: serviceNowCallbackSchema, response: { 202: outcome } },
      handler: async ({ body }) => deliver('servicenow', fromServiceNowCallback(body)),
    }),
  ];
}
