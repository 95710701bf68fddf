import { ApplicationFailure } from '@temporalio/common';
import { createDefenderEndpoint, loadDefenderConfig, type DefenderConfig } from '../../../activities/adapters/defender';
import type { EndpointActionInput } from '../../../activities/interfaces';
import { type DefenderSimulator, startDefenderSimulator } from '../../../simulators/defender';
import { defenderConfigFor } from './defender-config';
import { expectNoSecrets, failureOf, retryLikeTemporal } from './temporal-like';

const WS7 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
const WS7_OLD = '0000c9d7e413ddd7902c2932e418702b84d00000';
const SRV2 = 'b3a6f1d1f0e2c3b4a5968778695a4b3c2d1e0f00';

describe('Microsoft Defender for Endpoint adapter', () => {
  let sim: DefenderSimulator;
  let config: DefenderConfig;
  const errors: unknown[] = [];

  const input = (over: Partial<EndpointActionInput> = {}): EndpointActionInput => ({
    idempotencyKey: 'rem-7:isolate',
    remediationId: 'rem-7',
    assetId: 'ws-7.corp.example.com',
    // Resolved at planning time (resolveDevice): two Defender records carry this name.
    deviceId: WS7,
    comment: 'isolate: credential theft',
    ...over,
  });
  const capture = async (p: Promise<unknown>) => {
    const f = await failureOf(p);
    errors.push(f);
    return f;
  };

  beforeEach(async () => {
    sim = await startDefenderSimulator({
      readsPerStep: 1,
      machines: [
        { id: WS7, computerDnsName: 'ws-7.corp.example.com', lastSeen: '2026-02-01T00:00:00Z' },
        { id: WS7_OLD, computerDnsName: 'ws-7.corp.example.com', lastSeen: '2024-02-01T00:00:00Z' },
        { id: SRV2, computerDnsName: 'srv-2.corp.example.com' },
      ],
    });
    config = defenderConfigFor(sim);
  });
  afterEach(() => sim.close());
  afterAll(() => expectNoSecrets(errors, ['sim~defender~']));

  it('isolates the machine resolved for the asset, polls the action to Succeeded, and releases it', async () => {
    const endpoint = createDefenderEndpoint(config);
    const isolated = await endpoint.isolateHost(input());
    expect(isolated).toMatchObject({ system: 'defender', deviceId: WS7, state: 'contained' });
    expect(sim.actionRequests('isolate')).toHaveLength(1);
    const body = sim.actionRequests('isolate')[0].body as Record<string, string>;
    expect(body).toEqual({ Comment: 'isolate: credential theft [drw rem-7:isolate]', IsolationType: 'Full' });
    const action = sim.actions.find((a) => a.id === isolated.actionId)!;
    expect(action.status).toBe('Succeeded');
    // Pending → InProgress → Succeeded took at least one poll of the action itself.
    expect(sim.served((r) => r.path === `/api/machineactions/${action.id}`).length).toBeGreaterThanOrEqual(1);
    expect(sim.isIsolated(WS7)).toBe(true);

    const state = await endpoint.getContainment({ assetId: 'ws-7.corp.example.com', deviceId: WS7 });
    expect(state).toMatchObject({ state: 'contained', actionId: isolated.actionId });

    const released = await endpoint.releaseHost(input({ idempotencyKey: 'rem-7:release' }));
    expect(released.state).toBe('normal');
    expect(sim.actionRequests('unisolate').map((r) => r.body)).toEqual([{ Comment: 'isolate: credential theft [drw rem-7:release]' }]);
    expect(sim.isIsolated(WS7)).toBe(false);
  });

  it('finds a machine by short name through its FQDN', async () => {
    const state = await createDefenderEndpoint(config).getContainment({ assetId: 'SRV-2' });
    expect(state).toMatchObject({ deviceId: SRV2, state: 'normal' });
  });

  it('finds a machine by short name when the exact-name list answers the documented 404', async () => {
    sim.emptyMachineListIs404 = true;
    const state = await createDefenderEndpoint(config).getContainment({ assetId: 'SRV-2' });
    expect(state).toMatchObject({ deviceId: SRV2, state: 'normal' });
    expect(sim.served((r) => r.path === '/api/machines').map((r) => r.query.$filter)).toEqual(["computerDnsName eq 'srv-2'", "startswith(computerDnsName,'srv-2.')"]);
  });

  it('resolves an asset known by its FQDN when Defender records the short name', async () => {
    sim.seedMachine({ id: 'c0ffeec9d7e413ddd7902c2932e418702b84d0cc', computerDnsName: 'kiosk-4' });
    const resolved = await createDefenderEndpoint(config).resolveDevice({ assetId: 'kiosk-4.shop.example.com' });
    expect(resolved).toEqual({ deviceId: 'c0ffeec9d7e413ddd7902c2932e418702b84d0cc', hostname: 'kiosk-4', via: 'edr', vendor: 'defender' });
  });

  it("falls back to the hostname when the CMDB's machine id is gone from Defender", async () => {
    const resolved = await createDefenderEndpoint(config).resolveDevice({ assetId: 'srv-2', hint: 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef' });
    expect(resolved).toMatchObject({ deviceId: SRV2, hostname: 'srv-2.corp.example.com', via: 'edr' });
    expect(sim.served((r) => r.path === '/api/machines/deadbeefdeadbeefdeadbeefdeadbeefdeadbeef')).toHaveLength(1);
  });

  it('says "no machine" when every lookup answers the documented 404', async () => {
    sim.emptyMachineListIs404 = true;
    const f = await capture(createDefenderEndpoint(config).isolateHost(input({ assetId: 'ghost-9', deviceId: undefined })));
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe('TargetNotFound');
  });

  it('returns containment_pending when the action is still running at the wait limit', async () => {
    sim.readsPerStep = 1_000;
    const result = await createDefenderEndpoint({ ...config, actionWaitMs: 30 }).isolateHost(input());
    expect(result.state).toBe('containment_pending');
    expect((await createDefenderEndpoint(config).getContainment({ assetId: 'ws-7', deviceId: WS7 })).state).toBe('containment_pending');
  });

  it('creates one isolate action for two calls with the same idempotency key', async () => {
    const endpoint = createDefenderEndpoint(config);
    const first = await endpoint.isolateHost(input());
    const second = await endpoint.isolateHost(input());
    expect(second).toEqual(first);
    expect(sim.actionRequests('isolate')).toHaveLength(1);
  });

  it('reuses the pending action when the first answer was lost after Defender acted', async () => {
    sim.delayNextActionAnswer(2_000);
    const endpoint = createDefenderEndpoint(config);
    const { result, failures } = await retryLikeTemporal(() => endpoint.isolateHost(input()));
    expect(failures).toHaveLength(1);
    expect((failures[0] as ApplicationFailure).nonRetryable).toBe(false);
    errors.push(...failures);
    expect(result.state).toBe('contained');
    expect(sim.actions).toHaveLength(1);
    expect(result.actionId).toBe(sim.actions[0].id);
  });

  it('isolates exactly once when the first request hung before Defender acted', async () => {
    sim.setFaults({ match: /\/isolate$/, queue: [{ kind: 'hang', ms: 2_000 }] });
    const endpoint = createDefenderEndpoint(config);
    const { result, failures } = await retryLikeTemporal(() => endpoint.isolateHost(input()));
    expect(failures).toHaveLength(1);
    errors.push(...failures);
    expect(result.state).toBe('contained');
    expect(sim.actions).toHaveLength(1);
  });

  it.each([
    ['ActiveRequestAlreadyExists', 'code'],
    ['the documented 400 "Action is already in progress"', 'message'],
  ] as const)('treats %s as "reuse the pending isolate"', async (_refusal, kind) => {
    sim.duplicateActionRefusal = kind;
    // Another worker's isolate is pending; this one's read of the actions is stale.
    sim.readsPerStep = 3;
    const other = await createDefenderEndpoint({ ...config, actionWaitMs: 0 }).isolateHost(input());
    expect(other.state).toBe('containment_pending');
    sim.setFaults({ match: /^GET \/api\/machineactions$/, queue: [{ kind: 'status', status: 200, body: { value: [] } }, { kind: 'status', status: 200, body: { value: [] } }] });

    const result = await createDefenderEndpoint(config).isolateHost(input());
    const refused = sim.requests.filter((r) => r.path.endsWith('/isolate'));
    expect(refused).toHaveLength(2);
    expect(result).toMatchObject({ actionId: other.actionId, state: 'contained' });
    expect(sim.actions).toHaveLength(1);
  });

  it('asks to retry later when a different isolation action blocks the request', async () => {
    const endpoint = createDefenderEndpoint(config);
    await endpoint.isolateHost(input());
    sim.readsPerStep = 1_000;
    await createDefenderEndpoint({ ...config, actionWaitMs: 0 }).releaseHost(input({ idempotencyKey: 'rem-7:release' }));
    sim.setFaults({ match: /^GET \/api\/machineactions$/, queue: [{ kind: 'status', status: 200, body: { value: [] } }, { kind: 'status', status: 200, body: { value: [] } }] });
    const f = await capture(endpoint.isolateHost(input({ idempotencyKey: 'rem-8:isolate' })));
    expect(f.nonRetryable).toBe(false);
    expect(f.type).toBe('defender.ActionConflict');
  });

  it('is a no-op to release a machine that was never isolated', async () => {
    const result = await createDefenderEndpoint(config).releaseHost(input({ idempotencyKey: 'rem-7:release' }));
    expect(result).toEqual({ system: 'defender', deviceId: WS7, actionId: undefined, state: 'normal' });
    expect(sim.actionRequests()).toHaveLength(0);
  });

  it('fails non-retryably when the action ends Failed, and isolates anew on a later step', async () => {
    sim.nextActionOutcome('Failed');
    const endpoint = createDefenderEndpoint(config);
    const f = await capture(endpoint.isolateHost(input()));
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe('defender.ActionFailed');
    expect(f.message).toMatch(/Isolate action .* ended Failed/);
    expect((await endpoint.isolateHost(input({ idempotencyKey: 'rem-7:isolate-2' }))).state).toBe('contained');
    expect(sim.actions).toHaveLength(2);
  });

  it('requests one token for many calls and refreshes it once on 401', async () => {
    const endpoint = createDefenderEndpoint(config);
    await Promise.all([1, 2, 3].map(() => endpoint.getContainment({ assetId: 'srv-2.corp.example.com' })));
    await endpoint.isolateHost(input());
    expect(sim.tokenRequests()).toHaveLength(1);
    expect(sim.tokenRequests()[0].path).toBe(`/${sim.tenantId}/oauth2/v2.0/token`);
    expect(sim.tokenRequests()[0].body).toMatchObject({ grant_type: 'client_credentials', scope: 'https://api.securitycenter.microsoft.com/.default' });

    sim.revokeTokens();
    expect((await endpoint.getContainment({ assetId: 'ws-7', deviceId: WS7 })).state).toBe('contained');
    expect(sim.tokenRequests()).toHaveLength(2);
  });

  it('fails non-retryably on a bad client secret without echoing it', async () => {
    const f = await capture(createDefenderEndpoint({ ...config, clientSecret: 'sim~defender~wrong' }).getContainment({ assetId: 'ws-7', deviceId: WS7 }));
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('invalid_client');
  });

  it('fails non-retryably with Defender\'s message on 4xx', async () => {
    sim.setFaults({
      match: /\/isolate$/,
      queue: [{ kind: 'status', status: 403, body: { error: { code: 'Forbidden', message: 'Missing application roles: Machine.Isolate', target: 't-1' } } }],
    });
    const f = await capture(createDefenderEndpoint(config).isolateHost(input()));
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('Missing application roles: Machine.Isolate');
    const unknown = await capture(createDefenderEndpoint(config).isolateHost(input({ deviceId: 'deadbeef' })));
    expect(unknown).toMatchObject({ type: 'TargetNotFound', message: 'defender: no device deadbeef' });
    const missing = await capture(createDefenderEndpoint(config).isolateHost(input({ assetId: 'ghost.corp.example.com', deviceId: undefined })));
    expect(missing.type).toBe('TargetNotFound');
  });

  it('maps 429 Retry-After to a retryable failure with that delay, and 5xx to retryable', async () => {
    // getContainment reads Isolate and Unisolate actions in parallel: fault both reads.
    sim.setFaults({ match: /^GET \/api/, queue: [{ kind: 'rateLimit', retryAfterSeconds: 3 }, { kind: 'rateLimit', retryAfterSeconds: 3 }] });
    const endpoint = createDefenderEndpoint(config);
    const limited = await capture(endpoint.getContainment({ assetId: 'ws-7', deviceId: WS7 }));
    expect(limited.nonRetryable).toBe(false);
    expect(limited.nextRetryDelay).toBe(3_000);
    sim.setFaults({ match: /^GET \/api/, queue: [{ kind: 'status', status: 500 }, { kind: 'status', status: 500 }] });
    const broken = await capture(endpoint.getContainment({ assetId: 'srv-2', deviceId: SRV2 }));
    expect(broken.nonRetryable).toBe(false);
  });

  it('keeps bearer tokens out of failures', async () => {
    const endpoint = createDefenderEndpoint(config);
    await endpoint.getContainment({ assetId: 'ws-7', deviceId: WS7 });
    sim.setFaults({ match: /^GET \/api/, queue: [{ kind: 'status', status: 502 }] });
    const f = await capture(endpoint.getContainment({ assetId: 'ws-7', deviceId: WS7 }));
    const tokens = sim.requests.map((r) => String(r.headers.authorization ?? '').replace('Bearer ', '')).filter(Boolean);
    expectNoSecrets([f], [...tokens, sim.clientSecret]);
  });
});

describe('loadDefenderConfig', () => {
  it('is undefined when Defender is not configured', () => {
    expect(loadDefenderConfig({ FALCON_CLIENT_ID: 'x' })).toBeUndefined();
  });

  it('reads a complete configuration with defaults', () => {
    const c = loadDefenderConfig({ DEFENDER_TENANT_ID: 'contoso.onmicrosoft.com', DEFENDER_CLIENT_ID: 'app', DEFENDER_CLIENT_SECRET: 'pw' });
    expect(c).toMatchObject({
      tenantId: 'contoso.onmicrosoft.com',
      apiUrl: 'https://api.securitycenter.microsoft.com',
      loginUrl: 'https://login.microsoftonline.com',
      scope: 'https://api.securitycenter.microsoft.com/.default',
    });
  });

  it('names what is missing or invalid, never a value', () => {
    let message = '';
    try {
      loadDefenderConfig({ DEFENDER_CLIENT_SECRET: 'very-secret-pw', DEFENDER_LOGIN_URL: 'ftp://login' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/DEFENDER_TENANT_ID is required/);
    expect(message).toMatch(/DEFENDER_CLIENT_ID is required/);
    expect(message).toMatch(/DEFENDER_LOGIN_URL/);
    expect(message).not.toContain('very-secret-pw');
  });
});
