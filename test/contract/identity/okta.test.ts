import { generateKeyPairSync } from 'node:crypto';
import { createOktaIdentity, loadOktaConfig, type OktaConfig } from '../../../activities/adapters/okta';
import type { IdentityActionInput } from '../../../activities/interfaces';
import { type OktaSimulator, startOktaSimulator } from '../../../simulators/okta';
import { expectNoSecrets, failureOf, retryLikeTemporal } from '../endpoint/temporal-like';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('Okta identity adapter', () => {
  let sim: OktaSimulator;
  let config: OktaConfig;
  const errors: unknown[] = [];
  let aliceId: string;

  const input = (over: Partial<IdentityActionInput> = {}): IdentityActionInput => ({
    idempotencyKey: 'rem-9:disable',
    remediationId: 'rem-9',
    userId: 'alice@acme.example',
    reason: 'impossible travel sign-in',
    ...over,
  });

  beforeEach(async () => {
    sim = await startOktaSimulator({
      serviceApp: { clientId: '0oa-drw-service', publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes: ['okta.users.manage'] },
      users: [{ login: 'alice@acme.example', sessions: 3 }, { login: 'bob@acme.example', status: 'LOCKED_OUT' }, { login: 'carol@acme.example', status: 'DEPROVISIONED' }],
    });
    aliceId = sim.user('alice@acme.example')!.id;
    config = { orgUrl: sim.baseUrl, apiToken: sim.apiToken, timeoutMs: 750 };
  });
  afterEach(() => sim.close());
  afterAll(() => expectNoSecrets(errors, [sim.apiToken, 'PRIVATE KEY']));

  it('revokes every session of an account found by its login, with its OAuth tokens', async () => {
    const result = await createOktaIdentity(config).revokeSessions(input({ idempotencyKey: 'rem-9:revoke' }));
    expect(result).toMatchObject({ system: 'okta', userId: aliceId, login: 'alice@acme.example', enabled: true, status: 'ACTIVE' });
    expect(Date.parse(result.revokedAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(sim.user(aliceId)!.sessions).toBe(0);
    expect(sim.served((r) => r.method === 'DELETE')[0]).toMatchObject({ path: `/api/v1/users/${aliceId}/sessions`, query: { oauthTokens: 'true' } });
  });

  it('suspends an active account, and unsuspends it as the compensation', async () => {
    const identity = createOktaIdentity(config);
    expect(await identity.disableAccount(input())).toMatchObject({ enabled: false, status: 'SUSPENDED', existing: false });
    expect(sim.user(aliceId)!.status).toBe('SUSPENDED');
    expect(await identity.getAccountState({ userId: aliceId })).toMatchObject({ enabled: false, status: 'SUSPENDED' });
    expect(await identity.enableAccount(input({ idempotencyKey: 'rem-9:enable' }))).toMatchObject({ enabled: true, status: 'ACTIVE', existing: false });
    expect(sim.lifecycleRequests().map((r) => r.path.split('/').pop())).toEqual(['suspend', 'unsuspend']);
  });

  it('changes nothing when the account is already as wanted', async () => {
    const identity = createOktaIdentity(config);
    await identity.disableAccount(input());
    expect(await identity.disableAccount(input())).toMatchObject({ status: 'SUSPENDED', existing: true });
    expect(await identity.disableAccount(input({ userId: 'carol@acme.example' }))).toMatchObject({ enabled: false, status: 'DEPROVISIONED', existing: true });
    expect(await identity.enableAccount(input({ userId: 'bob@acme.example' }))).toMatchObject({ enabled: true, status: 'LOCKED_OUT', existing: true });
    expect(sim.lifecycleRequests()).toHaveLength(1);
  });

  it('suspends exactly once, and says so, when the answer was lost after Okta suspended', async () => {
    sim.delayNextLifecycleAnswer(2_000);
    const result = await createOktaIdentity(config).disableAccount(input());
    expect(result).toMatchObject({ status: 'SUSPENDED', enabled: false, existing: true });
    expect(sim.lifecycleRequests('suspend')).toHaveLength(1);
  });

  it('retries a suspend refused with 503 without reading the account again', async () => {
    sim.setFaults({ match: /lifecycle/, queue: [{ kind: 'status', status: 503, body: { errorCode: 'E0000009', errorSummary: 'Internal Server Error' } }] });
    const identity = createOktaIdentity(config);
    const { result, failures } = await retryLikeTemporal(() => identity.disableAccount(input()));
    expect(failures).toHaveLength(1);
    errors.push(...failures);
    expect(failures[0]).toMatchObject({ type: 'okta.ServerError', nonRetryable: false });
    expect((failures[0] as Error).message).toMatch(/503: E0000009: Internal Server Error/);
    expect(result).toMatchObject({ status: 'SUSPENDED', existing: false });
    expect(sim.served((r) => r.method === 'GET')).toHaveLength(2);
  });

  it('leaves a locked-out or deactivated account to a person instead of forcing it', async () => {
    const identity = createOktaIdentity(config);
    const locked = await failureOf(identity.disableAccount(input({ userId: 'bob@acme.example' })));
    expect(locked).toMatchObject({ type: 'okta.CannotSuspend', nonRetryable: true });
    expect(locked.message).toMatch(/bob@acme.example is LOCKED_OUT/);
    const deactivated = await failureOf(identity.enableAccount(input({ userId: 'carol@acme.example' })));
    expect(deactivated).toMatchObject({ type: 'okta.CannotUnsuspend', nonRetryable: true });
    errors.push(locked, deactivated);
    expect(sim.lifecycleRequests()).toHaveLength(0);
  });

  it('waits for the rate-limit window Okta names in X-Rate-Limit-Reset', async () => {
    sim.rateLimitPerMinute = 1;
    const identity = createOktaIdentity(config);
    await identity.getAccountState({ userId: aliceId });
    const f = await failureOf(identity.getAccountState({ userId: aliceId }));
    errors.push(f);
    expect(f).toMatchObject({ type: 'okta.RateLimited', nonRetryable: false });
    expect(f.message).toMatch(/429: E0000047: API call exceeded rate limit/);
    expect(f.nextRetryDelay).toBeGreaterThan(0);
    expect(Number(f.nextRetryDelay)).toBeLessThanOrEqual(61_000);
  });

  it('says which account does not exist, and does not retry it', async () => {
    const f = await failureOf(createOktaIdentity(config).disableAccount(input({ userId: 'mallory@acme.example' })));
    errors.push(f);
    expect(f).toMatchObject({ type: 'okta.ClientError', nonRetryable: true });
    expect(f.message).toMatch(/404: E0000007: Not found: Resource not found: mallory@acme.example \(User\)/);
  });

  it('authenticates as an OAuth service app with a signed client assertion, and reuses its token', async () => {
    const oauth = loadOktaConfig({ OKTA_ORG_URL: sim.baseUrl, OKTA_CLIENT_ID: '0oa-drw-service', OKTA_PRIVATE_KEY: PRIVATE_PEM })!;
    const identity = createOktaIdentity(oauth);
    await identity.revokeSessions(input());
    await identity.disableAccount(input());
    expect(sim.user(aliceId)!.status).toBe('SUSPENDED');
    expect(sim.served((r) => r.path === '/oauth2/v1/token')).toHaveLength(1);
    expect(sim.served((r) => r.path.startsWith('/api/')).every((r) => String(r.headers.authorization).startsWith('Bearer '))).toBe(true);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const forged = await failureOf(createOktaIdentity(loadOktaConfig({ OKTA_ORG_URL: sim.baseUrl, OKTA_CLIENT_ID: '0oa-drw-service', OKTA_PRIVATE_KEY: other })!).getAccountState({ userId: aliceId }));
    expect(forged).toMatchObject({ nonRetryable: true });
    expect(forged.message).toMatch(/401.*signature is invalid/);
    errors.push(forged);
  });

  it('reads its configuration from the environment and names what is wrong, never a value', () => {
    expect(loadOktaConfig({})).toBeUndefined();
    let message = '';
    try {
      loadOktaConfig({ OKTA_ORG_URL: 'http://acme.okta.com', OKTA_CLIENT_ID: 'x', OKTA_SCOPES: 'Users.Manage!' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/OKTA_ORG_URL: must use https/);
    expect(message).toMatch(/OKTA_API_TOKEN: is required \(or OKTA_CLIENT_ID and OKTA_PRIVATE_KEY/);
    expect(message).toMatch(/OKTA_SCOPES/);
    expect(() => loadOktaConfig({ OKTA_ORG_URL: 'https://acme.okta.com', OKTA_CLIENT_ID: 'x', OKTA_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----' })).toThrow(
      /^invalid Okta configuration: OKTA_PRIVATE_KEY: not an RSA private key in PEM$/,
    );
  });
});
