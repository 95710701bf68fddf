import { createEntraIdentity, loadEntraConfig, type EntraConfig } from '../../../activities/adapters/entra';
import type { IdentityActionInput } from '../../../activities/interfaces';
import { type EntraSimulator, startEntraSimulator } from '../../../simulators/entra';
import { expectNoSecrets, failureOf, retryLikeTemporal } from '../endpoint/temporal-like';

describe('Microsoft Entra ID identity adapter', () => {
  let sim: EntraSimulator;
  let config: EntraConfig;
  const errors: unknown[] = [];
  let aliceId: string;

  const input = (over: Partial<IdentityActionInput> = {}): IdentityActionInput => ({
    idempotencyKey: 'rem-3:disable',
    remediationId: 'rem-3',
    userId: 'alice@contoso.example',
    reason: 'token theft',
    ...over,
  });

  beforeEach(async () => {
    sim = await startEntraSimulator({ users: [{ userPrincipalName: 'alice@contoso.example', sessions: 2 }, { userPrincipalName: 'guest_fabrikam.example#EXT#@contoso.example' }] });
    aliceId = sim.user('alice@contoso.example')!.id;
    config = loadEntraConfig({
      ENTRA_TENANT_ID: sim.tenantId,
      ENTRA_CLIENT_ID: sim.clientId,
      ENTRA_CLIENT_SECRET: sim.clientSecret,
      ENTRA_GRAPH_URL: sim.baseUrl,
      ENTRA_LOGIN_URL: sim.baseUrl,
      ENTRA_TIMEOUT_MS: '750',
    })!;
  });
  afterEach(() => sim.close());
  afterAll(() => expectNoSecrets(errors, [sim.clientSecret]));

  it('revokes the sign-in sessions of an account found by its user principal name', async () => {
    const result = await createEntraIdentity(config).revokeSessions(input({ idempotencyKey: 'rem-3:revoke' }));
    expect(result).toMatchObject({ system: 'entra', userId: aliceId, login: 'alice@contoso.example', enabled: true, status: 'enabled' });
    expect(sim.user(aliceId)!.sessions).toBe(0);
    expect(sim.served((r) => r.method === 'POST' && r.path.endsWith('/revokeSignInSessions')).map((r) => r.path)).toEqual([`/v1.0/users/${aliceId}/revokeSignInSessions`]);
    expect(sim.served((r) => r.method === 'GET')[0].query).toEqual({ $select: 'id,userPrincipalName,accountEnabled' });
  });

  it('blocks sign-in with accountEnabled=false and restores it as the compensation', async () => {
    const identity = createEntraIdentity(config);
    expect(await identity.disableAccount(input())).toMatchObject({ enabled: false, status: 'disabled', existing: false });
    expect(sim.user(aliceId)!.accountEnabled).toBe(false);
    expect(sim.patches().map((r) => r.body)).toEqual([{ accountEnabled: false }]);
    expect(await identity.getAccountState({ userId: 'alice@contoso.example' })).toMatchObject({ enabled: false });
    expect(await identity.enableAccount(input({ idempotencyKey: 'rem-3:enable' }))).toMatchObject({ enabled: true, existing: false });
    expect(sim.user(aliceId)!.accountEnabled).toBe(true);
  });

  it('changes nothing when the account is already disabled, and acts on guest accounts', async () => {
    const identity = createEntraIdentity(config);
    await identity.disableAccount(input());
    expect(await identity.disableAccount(input())).toMatchObject({ enabled: false, existing: true });
    expect(sim.patches()).toHaveLength(1);
    const guest = await identity.disableAccount(input({ userId: 'guest_fabrikam.example#EXT#@contoso.example' }));
    expect(guest).toMatchObject({ enabled: false, login: 'guest_fabrikam.example#EXT#@contoso.example' });
  });

  it('disables exactly once when the answer was lost after Graph applied it', async () => {
    sim.delayNextPatchAnswer(2_000);
    const identity = createEntraIdentity(config);
    const { result, failures } = await retryLikeTemporal(() => identity.disableAccount(input()));
    expect(failures).toHaveLength(1);
    errors.push(...failures);
    expect(failures[0]).toMatchObject({ type: 'entra.Unavailable', nonRetryable: false });
    expect(result).toMatchObject({ enabled: false, existing: true });
    expect(sim.patches()).toHaveLength(1);
  });

  it('honours Graph throttling: 429 retries after Retry-After', async () => {
    sim.setFaults({ match: /revokeSignInSessions/, queue: [{ kind: 'rateLimit', retryAfterSeconds: 3 }] });
    const identity = createEntraIdentity(config);
    const { failures } = await retryLikeTemporal(() => identity.revokeSessions(input()));
    errors.push(...failures);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ type: 'entra.RateLimited', nonRetryable: false, nextRetryDelay: 3_000 });
    expect(sim.user(aliceId)!.sessions).toBe(0);
  });

  it('quotes Graph when the account does not exist, and Entra ID when the secret is wrong, never the secret', async () => {
    const missing = await failureOf(createEntraIdentity(config).disableAccount(input({ userId: 'mallory@contoso.example' })));
    expect(missing).toMatchObject({ type: 'entra.ClientError', nonRetryable: true });
    expect(missing.message).toMatch(/404: Request_ResourceNotFound: Resource 'mallory@contoso.example' does not exist/);
    const wrong = await failureOf(createEntraIdentity({ ...config, clientSecret: 'wrong-secret-value' }).getAccountState({ userId: aliceId }));
    expect(wrong).toMatchObject({ type: 'entra.ClientError', nonRetryable: true });
    expect(wrong.message).toMatch(/401: invalid_client; AADSTS7000215: Invalid client secret provided\.$/);
    errors.push(missing, wrong);
  });

  it('reads its configuration from the environment and names what is wrong, never a value', () => {
    expect(loadEntraConfig({})).toBeUndefined();
    expect(loadEntraConfig({ ENTRA_TENANT_ID: 'contoso.onmicrosoft.com', ENTRA_CLIENT_ID: 'app', ENTRA_CLIENT_SECRET: 's' })).toMatchObject({
      graphUrl: 'https://graph.microsoft.com',
      loginUrl: 'https://login.microsoftonline.com',
      scope: 'https://graph.microsoft.com/.default',
    });
    let message = '';
    try {
      loadEntraConfig({ ENTRA_CLIENT_SECRET: 'very-secret-value', ENTRA_GRAPH_URL: 'http://graph.example.com' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/ENTRA_TENANT_ID: is required/);
    expect(message).toMatch(/ENTRA_CLIENT_ID: is required/);
    expect(message).toMatch(/ENTRA_GRAPH_URL: must use https/);
    expect(message).not.toContain('very-secret-value');
  });
});
