/** The in-process stand-in follows the same ticket lifecycle as the vendor adapters. */
import { createInProcessSystems } from '../../../activities/inprocess';

it('the in-process ticket closes with its resolution and reopens with one comment per idempotency key', async () => {
  const sys = createInProcessSystems();
  const t = sys.ticketing;
  const { ticketId } = await t.openTicket({ remediationId: 'drw-a~r1', idempotencyKey: 'drw-a~r1:open', title: 't', description: 'd', severity: 'low', priority: 'low', labels: [], assetId: 'h' });
  await t.closeTicket({ remediationId: 'drw-a~r1', idempotencyKey: 'drw-a~r1:close', ticketId, resolution: 'remediated', comment: 'done' });
  expect(await t.getTicketState({ ticketId })).toEqual({ ticketId, status: 'closed:remediated', closed: true, updatedBy: 'drw', resolution: 'remediated' });

  const reopen = { remediationId: 'drw-a~r1', idempotencyKey: 'drw-a~r1:reopen', ticketId, comment: 'verification failed' };
  await t.reopenTicket(reopen);
  await t.reopenTicket(reopen);
  expect(await t.getTicketState({ ticketId })).toEqual({ ticketId, status: 'open', closed: false, updatedBy: 'drw' });
  expect(sys.record.tickets.get(ticketId)!.comments).toEqual(['done', 'verification failed']);
});
