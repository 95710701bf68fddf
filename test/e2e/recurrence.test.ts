/**
 * A recurrence is a new remediation (issue 12, point 7): a finding that comes back after its
 * remediation closed gets its own ticket and its own pull request (idempotency keys and vendor
 * searches name the remediation's instance, not just its id), its verification checks the new
 * pull request, and its decision log names the remediation it recurs after.
 */
import { DEFAULT_POLICY, http, startHarness, type Harness } from '../helpers/harness';
import { asset, detection, statusIs, step, waitFor } from '../helpers/scenario';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policyDir: DEFAULT_POLICY });
});
afterAll(() => h?.close());

test('a vulnerability fixed and closed comes back: a new remediation with its own ticket and pull request, linked to the first', async () => {
  const host = asset('recur-1');
  const finding = detection({
    source: 'trivy',
    rule: 'CVE-2030-7',
    severity: 'high',
    category: 'vulnerability',
    asset: { id: host },
    details: { repository: 'acme/app', package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'package.json' },
  });
  const first = await http('POST', `${h.api}/v1/detections`, finding);
  expect(first.body.remediations[0].outcome).toBe('started');
  const id = first.body.remediations[0].id;
  const one = await waitFor(h, id, statusIs('remediated'), 'first remediation: remediated');
  const firstRun = (await h.app.service.handle(id).describe()).runId;

  const again = await http('POST', `${h.api}/v1/detections`, finding);
  expect(again.body.remediations[0]).toEqual({ id, outcome: 'started' });
  const two = await waitFor(h, id, (s) => s.status === 'remediated' && s.decisions.some((d: any) => d.kind === 'received' && d.previous), 'the recurrence: remediated');

  // Its own side effects: another ticket, another pull request, verified on that one.
  expect(two.ticket.ticketId).not.toBe(one.ticket.ticketId);
  const pr = (s: any) => step(s, 'vulnerability.patch').result;
  expect(pr(two).number).not.toBe(pr(one).number);
  expect(pr(two).existing).toBeUndefined();
  expect(h.systems.record.tickets.get(one.ticket.ticketId)?.status).toMatch(/^closed/);
  expect(h.systems.record.tickets.get(two.ticket.ticketId)?.status).toMatch(/^closed/);
  // And it says which remediation it follows.
  const received = two.decisions.find((d: any) => d.kind === 'received');
  // The first one ended remediated, so this is a regression, and its first plan says so.
  expect(received.previous).toMatchObject({ runId: firstRun, status: 'completed', outcome: 'remediated', closedAt: expect.any(String) });
  expect(received.summary).toContain(`regression: run ${firstRun} remediated this finding at `);
  expect(two.decisions.find((d: any) => d.kind === 'plan').trigger).toBe(`initial plan (regression: the finding came back after run ${firstRun} remediated it)`);
});
