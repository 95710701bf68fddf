import { ApplicationFailure } from '@temporalio/common';
import { createCrowdStrikeEndpoint, loadCrowdStrikeConfig, type CrowdStrikeConfig } from '../../../activities/adapters/crowdstrike';
import type { EndpointActionInput } from '../../../activities/interfaces';
import { FalconApi } from '../../../activities/adapters/crowdstrike/falcon-api';
import { type CrowdStrikeSimulator, startCrowdStrikeSimulator } from '../../../simulators/crowdstrike';
import { expectNoSecrets, failureOf, retryLikeTemporal } from './temporal-like';

const WEB01 = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const WEB01_STALE = '0000c3d4e5f60718293a4b5c6d7e0000';
const DB01 = 'ffeeddccbbaa99887766554433221100';

describe('CrowdStrike Falcon endpoint adapter', () => {
  let sim: CrowdStrikeSimulator;
  let config: CrowdStrikeConfig;
  const errors: unknown[] = [];

  const input = (over: Partial<EndpointActionInput> = {}): EndpointActionInput => ({
    idempotencyKey: 'rem-1:isolate',
    remediationId: 'rem-1',
    assetId: 'web-01',
    // Resolved at planning time (resolveDevice): two Falcon records carry this hostname.
    deviceId: WEB01,
    comment: 'contain: ransomware detection',
    ...over,
  });
  const capture = async (p: Promise<unknown>) => {
    const f = await failureOf(p);
    errors.push(f);
    return f;
  };

  beforeEach(async () => {
    sim = await startCrowdStrikeSimulator({
      readsUntilEffective: 2,
      devices: [
        { deviceId: WEB01, hostname: 'web-01', lastSeen: '2026-01-10T00:00:00Z' },
        { deviceId: WEB01_STALE, hostname: 'web-01', lastSeen: '2025-03-01T00:00:00Z' },
        { deviceId: DB01, hostname: 'db-01' },
      ],
    });
    config = { baseUrl: sim.baseUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, timeoutMs: 750, pollIntervalMs: 5, settleWaitMs: 2_000 };
  });
  afterEach(() => sim.close());

  afterAll(() => {
    // Every failure any test provoked, checked against the credentials it was made with.
    expectNoSecrets(errors, ['sim-falcon-secret-']);
  });

  it('contains the device resolved for the asset, waits for it, and lifts containment', async () => {
    const endpoint = createCrowdStrikeEndpoint(config);
    const isolated = await endpoint.isolateHost(input());
    expect(isolated).toEqual({ system: 'crowdstrike', deviceId: WEB01, state: 'contained' });
    expect(sim.actionRequests('contain').map((r) => r.body)).toEqual([{ ids: [WEB01] }]);
    expect(sim.devices.get(WEB01_STALE)!.status).toBe('normal');

    expect((await endpoint.getContainment({ assetId: 'web-01', deviceId: WEB01 })).state).toBe('contained');
    const released = await endpoint.releaseHost(input({ idempotencyKey: 'rem-1:release' }));
    expect(released.state).toBe('normal');
    expect(sim.actionRequests('lift_containment')).toHaveLength(1);
  });

  it('returns the pending state when containment does not take effect in time', async () => {
    sim.readsUntilEffective = 1_000;
    const endpoint = createCrowdStrikeEndpoint({ ...config, settleWaitMs: 50 });
    expect((await endpoint.isolateHost(input())).state).toBe('containment_pending');
  });

  it('sends one contain for two calls with the same idempotency key', async () => {
    const endpoint = createCrowdStrikeEndpoint(config);
    const first = await endpoint.isolateHost(input());
    const second = await endpoint.isolateHost(input());
    expect(second).toEqual(first);
    expect(sim.actionRequests('contain')).toHaveLength(1);
  });

  it('does not contain again when the first answer was lost after Falcon acted', async () => {
    sim.delayNextActionAnswer(2_000);
    const endpoint = createCrowdStrikeEndpoint(config);
    const { result, failures } = await retryLikeTemporal(() => endpoint.isolateHost(input()));
    expect(failures).toHaveLength(1);
    expect((failures[0] as ApplicationFailure).nonRetryable).toBe(false);
    errors.push(...failures);
    expect(result.state).toBe('contained');
    expect(sim.actionRequests('contain')).toHaveLength(1);
  });

  it('contains exactly once when the first request hung before Falcon acted', async () => {
    sim.setFaults({ match: /devices-actions/, queue: [{ kind: 'hang', ms: 2_000 }] });
    const endpoint = createCrowdStrikeEndpoint(config);
    const { result, failures } = await retryLikeTemporal(() => endpoint.isolateHost(input()));
    expect(failures).toHaveLength(1);
    errors.push(...failures);
    expect(result.state).toBe('contained');
    expect(sim.actionRequests('contain')).toHaveLength(1);
  });

  it('asks to retry later while the opposite change is pending', async () => {
    sim.readsUntilEffective = 1_000;
    sim.devices.get(WEB01)!.status = 'lift_containment_pending';
    const f = await capture(createCrowdStrikeEndpoint(config).isolateHost(input({ deviceId: WEB01 })));
    expect(f.nonRetryable).toBe(false);
    expect(f.type).toBe('crowdstrike.ActionConflict');
    expect(sim.actionRequests()).toHaveLength(0);
  });

  it('requests one token for many calls and refreshes it once on 401', async () => {
    const endpoint = createCrowdStrikeEndpoint(config);
    await Promise.all([1, 2, 3].map(() => endpoint.getContainment({ assetId: 'db-01' })));
    for (let i = 0; i < 4; i++) await endpoint.getContainment({ assetId: 'web-01', deviceId: WEB01 });
    expect(sim.tokenRequests()).toHaveLength(1);
    expect(sim.tokenRequests()[0].body).toEqual({ client_id: sim.clientId, client_secret: sim.clientSecret });

    sim.revokeTokens();
    expect((await endpoint.getContainment({ assetId: 'db-01' })).state).toBe('normal');
    expect(sim.tokenRequests()).toHaveLength(2);
  });

  it('sends member_cid when configured', async () => {
    await createCrowdStrikeEndpoint({ ...config, memberCid: 'abc123' }).getContainment({ assetId: 'db-01' });
    expect(sim.tokenRequests()[0].body).toMatchObject({ member_cid: 'abc123' });
  });

  it('fails non-retryably with Falcon\'s message on 4xx', async () => {
    sim.setFaults({
      match: /devices-actions/,
      queue: [{ kind: 'status', status: 400, body: { meta: {}, resources: [], errors: [{ code: 400, message: 'Device is offline-managed by policy' }] } }],
    });
    const f = await capture(createCrowdStrikeEndpoint(config).isolateHost(input()));
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('Device is offline-managed by policy');
  });

  it('fails non-retryably on bad client credentials without echoing them', async () => {
    const f = await capture(createCrowdStrikeEndpoint({ ...config, clientSecret: 'sim-falcon-secret-wrong' }).getContainment({ assetId: 'db-01' }));
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('access denied, invalid client');
  });

  it('tells a tenant refused by autodiscovery that a GovCloud tenant names its cloud', async () => {
    const wrongCloud = { ...config, clientSecret: 'sim-falcon-secret-govcloud', followRegion: true, autodiscover: true };
    const f = await capture(createCrowdStrikeEndpoint(wrongCloud).getContainment({ assetId: 'db-01' }));
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('access denied, invalid client');
    expect(f.message).toContain('a GovCloud tenant sets FALCON_CLOUD=us-gov-1 or us-gov-2');
    // A named cloud refusing the credentials says only what Falcon said.
    const named = await capture(createCrowdStrikeEndpoint({ ...wrongCloud, autodiscover: false }).getContainment({ assetId: 'db-01' }));
    expect(named.message).not.toContain('GovCloud');
  });

  it('fails non-retryably for unknown hosts and unsearchable asset ids', async () => {
    const endpoint = createCrowdStrikeEndpoint(config);
    const notFound = await capture(endpoint.isolateHost(input({ assetId: 'nope-99', deviceId: undefined })));
    expect(notFound.nonRetryable).toBe(true);
    expect(notFound.type).toBe('TargetNotFound');
    const injection = await capture(endpoint.isolateHost(input({ assetId: "x' OR hostname:'*", deviceId: undefined })));
    expect(injection.nonRetryable).toBe(true);
    expect(sim.served((r) => r.path.startsWith('/devices/queries')).length).toBe(1);
  });

  it('resolves an asset known by its FQDN through the short name Falcon records', async () => {
    const resolved = await createCrowdStrikeEndpoint(config).resolveDevice({ assetId: 'db-01.corp.example.com' });
    expect(resolved).toEqual({ deviceId: DB01, hostname: 'db-01', via: 'edr', vendor: 'crowdstrike' });
    expect(sim.served((r) => r.path === '/devices/queries/devices/v1').map((r) => r.query.filter)).toEqual(["hostname:'db-01.corp.example.com'", "hostname:'db-01'"]);
  });

  it("falls back to the hostname when the CMDB's device id is gone from Falcon", async () => {
    const resolved = await createCrowdStrikeEndpoint(config).resolveDevice({ assetId: 'db-01', hint: 'deadbeefdeadbeefdeadbeefdeadbeef' });
    expect(resolved).toMatchObject({ deviceId: DB01, via: 'edr' });
  });

  it('says TargetNotFound when Falcon has no device for the asset', async () => {
    const f = await capture(createCrowdStrikeEndpoint(config).resolveDevice({ assetId: 'nope-99', hostname: 'nope-99.corp.example.com' }));
    expect(f).toMatchObject({ type: 'TargetNotFound', nonRetryable: true });
    expect(f.message).toBe('crowdstrike: no device named "nope-99.corp.example.com"');
  });

  it('waits as long as Falcon\'s 429 says in X-Ratelimit-Retryafter (epoch seconds)', async () => {
    sim.setFaults({ match: /^GET \/devices/, queue: [{ kind: 'rateLimit', retryAfterSeconds: 3 }] });
    const f = await capture(createCrowdStrikeEndpoint(config).getContainment({ assetId: 'db-01' }));
    const answer = sim.requests.at(-1)!;
    expect(answer.path).toBe('/devices/queries/devices/v1');
    expect(f.nonRetryable).toBe(false);
    expect(f.type).toBe('crowdstrike.RateLimited');
    // Whole epoch seconds: the wait is 3 s plus the part of the current second left.
    expect(f.nextRetryDelay).toBeGreaterThanOrEqual(2_000);
    expect(f.nextRetryDelay).toBeLessThanOrEqual(4_000);
  });

  it('maps 5xx and resets to retryable failures', async () => {
    sim.setFaults({ match: /^GET \/devices/, queue: [{ kind: 'status', status: 503 }, { kind: 'reset' }] });
    const endpoint = createCrowdStrikeEndpoint(config);
    const f503 = await capture(endpoint.getContainment({ assetId: 'db-01' }));
    expect(f503.nonRetryable).toBe(false);
    expect(f503.message).toContain('503');
    const reset = await capture(endpoint.getContainment({ assetId: 'db-01' }));
    expect(reset.nonRetryable).toBe(false);
  });

  it('keeps bearer tokens out of failures', async () => {
    const endpoint = createCrowdStrikeEndpoint(config);
    await endpoint.getContainment({ assetId: 'db-01' });
    sim.setFaults({ match: /^GET \/devices/, queue: [{ kind: 'status', status: 500 }] });
    const f = await capture(endpoint.getContainment({ assetId: 'db-01' }));
    const tokens = sim.requests.map((r) => String(r.headers.authorization ?? '').replace('Bearer ', '')).filter(Boolean);
    expectNoSecrets([f], [...tokens, sim.clientSecret]);
  });
});

describe('loadCrowdStrikeConfig', () => {
  it('is undefined when CrowdStrike is not configured', () => {
    expect(loadCrowdStrikeConfig({})).toBeUndefined();
  });

  it('reads a complete configuration with defaults', () => {
    expect(loadCrowdStrikeConfig({ FALCON_CLIENT_ID: 'id', FALCON_CLIENT_SECRET: 's3cr3t', FALCON_POLL_INTERVAL_MS: '250' })).toEqual({
      baseUrl: 'https://api.crowdstrike.com',
      followRegion: true,
      autodiscover: true,
      clientId: 'id',
      clientSecret: 's3cr3t',
      memberCid: undefined,
      timeoutMs: undefined,
      pollIntervalMs: 250,
      settleWaitMs: undefined,
    });
  });

  it('starts at the named cloud, or pins FALCON_BASE_URL without following regions', () => {
    expect(loadCrowdStrikeConfig({ FALCON_CLIENT_ID: 'id', FALCON_CLIENT_SECRET: 's', FALCON_CLOUD: 'EU-1' })).toMatchObject({ baseUrl: 'https://api.eu-1.crowdstrike.com', followRegion: true, autodiscover: false });
    expect(loadCrowdStrikeConfig({ FALCON_CLIENT_ID: 'id', FALCON_CLIENT_SECRET: 's', FALCON_CLOUD: 'us-gov-1' })).toMatchObject({ baseUrl: 'https://api.laggar.gcw.crowdstrike.com' });
    expect(loadCrowdStrikeConfig({ FALCON_CLIENT_ID: 'id', FALCON_CLIENT_SECRET: 's', FALCON_CLOUD: 'us-3' })).toMatchObject({ baseUrl: 'https://api.us-3.crowdstrike.com' });
    expect(loadCrowdStrikeConfig({ FALCON_CLIENT_ID: 'id', FALCON_CLIENT_SECRET: 's', FALCON_BASE_URL: 'https://falcon-proxy.example.com/' })).toMatchObject({
      baseUrl: 'https://falcon-proxy.example.com',
      followRegion: false,
      autodiscover: false,
    });
    expect(() => loadCrowdStrikeConfig({ FALCON_CLIENT_ID: 'id', FALCON_CLIENT_SECRET: 's', FALCON_CLOUD: 'mars-1' })).toThrow(/FALCON_CLOUD must be autodiscover or one of us-1, us-2, us-3, eu-1, us-gov-1, us-gov-2/);
  });

  it('names the missing or invalid variable, never a value', () => {
    expect(() => loadCrowdStrikeConfig({ FALCON_CLIENT_ID: 'id-value' })).toThrow(/FALCON_CLIENT_SECRET is required/);
    let message = '';
    try {
      loadCrowdStrikeConfig({ FALCON_CLIENT_ID: 'id', FALCON_CLIENT_SECRET: 'top-secret-value', FALCON_BASE_URL: 'http://falcon.example.com' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/FALCON_BASE_URL must be an https URL/);
    expect(message).not.toContain('top-secret-value');
    expect(message).not.toContain('falcon.example.com');
  });
});

describe('CrowdStrike Falcon adapter for a tenant in another cloud', () => {
  let us1: CrowdStrikeSimulator;
  let eu1: CrowdStrikeSimulator;
  const creds = { clientId: 'eu-tenant-client', clientSecret: 'sim-falcon-secret-eu-tenant' };

  afterEach(async () => {
    await us1.close();
    await eu1.close();
  });

  async function clouds(answer: 308 | 201): Promise<CrowdStrikeConfig> {
    us1 = await startCrowdStrikeSimulator({ ...creds, tenantElsewhere: { region: 'eu-1', answer } });
    eu1 = await startCrowdStrikeSimulator({ ...creds, region: 'eu-1', readsUntilEffective: 0, devices: [{ deviceId: DB01, hostname: 'db-01' }] });
    // The real cloud hosts, played by the two simulators.
    return { baseUrl: us1.baseUrl, ...creds, followRegion: true, cloudUrls: { 'us-1': us1.baseUrl, 'eu-1': eu1.baseUrl }, timeoutMs: 750, pollIntervalMs: 5 };
  }

  it.each([201, 308] as const)('follows X-Cs-Region from a %s token answer of US-1 and contains the host in EU-1', async (answer) => {
    const config = await clouds(answer);
    const api = new FalconApi(config);
    const result = await createCrowdStrikeEndpoint(config, api).isolateHost({ idempotencyKey: 'rem-eu:isolate', remediationId: 'rem-eu', assetId: 'db-01', comment: 'contain' });
    expect(result).toEqual({ system: 'crowdstrike', deviceId: DB01, state: 'contained' });
    expect(api.baseUrl).toBe(eu1.baseUrl);
    expect(us1.tokenRequests()).toHaveLength(1);
    expect(us1.served((r) => r.path.startsWith('/devices'))).toHaveLength(0);
    expect(eu1.tokenRequests()).toHaveLength(1);
    expect(eu1.actionRequests('contain')).toHaveLength(1);
  });

  it('stays on a pinned FALCON_BASE_URL and says which cloud the tenant is in', async () => {
    const config = { ...(await clouds(308)), followRegion: false };
    const f = await failureOf(createCrowdStrikeEndpoint(config).getContainment({ assetId: 'db-01' }));
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('sent this client to the eu-1 cloud');
    expect(eu1.requests).toHaveLength(0);
  });
});
