/**
 * A compromised account through the identity system (in-process default here; Okta and Entra ID
 * adapters are proved against their simulators in test/contract/identity): sessions revoked at
 * once, the account disabled after secops approves and verified; a false positive disables nothing.
 * (Re-enabling a disabled account on a false positive is the step's compensation: test/unit/core.)
 */
import { DEFAULT_POLICY, startHarness, type Harness } from '../helpers/harness';
import { approve, asset, detection, operator, statusIs, step, submit, waitFor } from '../helpers/scenario';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policyDir: DEFAULT_POLICY });
});
afterAll(async () => {
  await h?.close();
});

const signIn = (user: string) => detection({ source: 'msgraph', rule: 'unfamiliarFeatures', title: `Unfamiliar sign-in properties for ${user}`, category: 'identity', riskScore: 70, asset: { id: user, type: 'user' } });

test('an approver confirms: sessions revoked, the account disabled and verified disabled, remediated', async () => {
  const user = `${asset('dana')}@contoso.example`;
  const id = await submit(h, signIn(user));
  await waitFor(h, id, (s) => s.status === 'awaiting_approval' && step(s, 'identity-compromise.revoke').status === 'done', 'sessions revoked, disabling awaits approval');
  expect(h.systems.record.accounts.get(user)).toEqual({ enabled: true, revocations: 1 });
  expect((await approve(h, id, 'identity-compromise.disable', { approver: 'alice', groups: ['secops'] })).status).toBe(200);
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(step(done, 'identity-compromise.disable').result).toMatchObject({ system: 'inprocess', userId: user, enabled: false });
  expect(step(done, 'identity-compromise.verify').result).toMatchObject({ verified: true });
  expect(h.systems.record.accounts.get(user)).toEqual({ enabled: false, revocations: 1 });
});

test('a false positive before anyone approved: the account is never disabled, the remediation resolves', async () => {
  const user = `${asset('erin')}@contoso.example`;
  const id = await submit(h, signIn(user));
  await waitFor(h, id, (s) => s.status === 'awaiting_approval' && step(s, 'identity-compromise.ticket').status === 'done', 'awaiting approval');
  expect((await operator(h, id, 'false-positive', 'oscar', 'the user was travelling')).status).toBe(202);
  const done = await waitFor(h, id, statusIs('resolved'), 'resolved as a false positive');
  expect(done.resolution).toBe('false_positive');
  expect(step(done, 'identity-compromise.disable').status).not.toBe('done');
  expect(h.systems.record.accounts.get(user)).toEqual({ enabled: true, revocations: 1 });
});
