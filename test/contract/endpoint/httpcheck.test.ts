import { createCrowdStrikeEndpoint } from '../../../activities/adapters/crowdstrike';
import { createHttpCheckVerify } from '../../../activities/adapters/httpcheck';
import { SimulatorServer } from '../../../simulators/base';
import { type CrowdStrikeSimulator, startCrowdStrikeSimulator } from '../../../simulators/crowdstrike';
import { failureOf } from './temporal-like';

const DEVICE = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

describe('HTTP check verifier', () => {
  let site: SimulatorServer;
  let falcon: CrowdStrikeSimulator;

  beforeAll(async () => {
    site = new SimulatorServer('site')
      .route('GET', '/health', () => ({ status: 200, body: 'status: healthy' }))
      .route('GET', '/down', () => ({ status: 503, body: 'maintenance' }))
      .route('GET', '/moved', () => ({ status: 301, headers: { Location: '/health' } }));
    await site.start();
    falcon = await startCrowdStrikeSimulator({ readsUntilEffective: 0, devices: [{ deviceId: DEVICE, hostname: 'web-01' }] });
  });
  afterAll(async () => {
    await site.close();
    await falcon.close();
  });

  const verifier = (timeoutMs = 300) =>
    createHttpCheckVerify({
      timeoutMs,
      endpoint: createCrowdStrikeEndpoint({ baseUrl: falcon.baseUrl, clientId: falcon.clientId, clientSecret: falcon.clientSecret, timeoutMs: 300, pollIntervalMs: 5 }),
    });

  it('passes on a 2xx whose body includes the expected text', async () => {
    const r = await verifier().verify({ check: { kind: 'http', url: `${site.baseUrl}/health`, expectBodyIncludes: 'healthy' } });
    expect(r).toEqual({ ok: true, detail: `GET ${site.baseUrl}/health: status 200, body matches` });
  });

  it('reports a wrong status or body as ok:false, not as an error', async () => {
    const down = await verifier().verify({ check: { kind: 'http', url: `${site.baseUrl}/down` } });
    expect(down).toEqual({ ok: false, detail: `GET ${site.baseUrl}/down: status 503, expected 2xx` });
    const body = await verifier().verify({ check: { kind: 'http', url: `${site.baseUrl}/health`, expectBodyIncludes: 'degraded' } });
    expect(body.ok).toBe(false);
    expect(body.detail).toContain('body does not include the expected text');
  });

  it('compares redirects as statuses instead of following them', async () => {
    expect((await verifier().verify({ check: { kind: 'http', url: `${site.baseUrl}/moved`, expectStatus: 301 } })).ok).toBe(true);
    expect((await verifier().verify({ check: { kind: 'http', url: `${site.baseUrl}/moved` } })).ok).toBe(false);
  });

  it('reports network errors and timeouts as ok:false with the reason', async () => {
    const refused = await verifier().verify({ check: { kind: 'http', url: 'http://127.0.0.1:1/health' } });
    expect(refused).toEqual({ ok: false, detail: 'GET http://127.0.0.1:1/health: no answer (ECONNREFUSED)' });
    site.setFaults({ queue: [{ kind: 'hang', ms: 1_000 }] });
    const hung = await verifier(100).verify({ check: { kind: 'http', url: `${site.baseUrl}/health` } });
    expect(hung.ok).toBe(false);
    expect(hung.detail).toMatch(/no answer \((ECONNABORTED|ETIMEDOUT)\)/);
    expect((await verifier().verify({ check: { kind: 'http', url: 'file:///etc/passwd' } })).ok).toBe(false);
  });

  it('keeps query strings (which may hold tokens) out of the detail', async () => {
    const r = await verifier().verify({ check: { kind: 'http', url: `${site.baseUrl}/health?token=abc123` } });
    expect(r.detail).not.toContain('abc123');
  });

  it('checks containment through the endpoint adapter', async () => {
    const v = verifier();
    expect(await v.verify({ check: { kind: 'host_released', assetId: 'web-01' } })).toEqual({
      ok: true,
      detail: `crowdstrike device ${DEVICE} of asset web-01 is normal`,
    });
    expect((await v.verify({ check: { kind: 'host_contained', assetId: 'web-01', deviceId: DEVICE } })).ok).toBe(false);
    await createCrowdStrikeEndpoint({ baseUrl: falcon.baseUrl, clientId: falcon.clientId, clientSecret: falcon.clientSecret, pollIntervalMs: 5 }).isolateHost({
      idempotencyKey: 'r:1',
      remediationId: 'r',
      assetId: 'web-01',
      comment: 'test',
    });
    expect((await v.verify({ check: { kind: 'host_contained', assetId: 'web-01' } })).ok).toBe(true);
  });

  it('throws (retryably) when the EDR cannot be read, rather than calling the host uncontained', async () => {
    falcon.setFaults({ match: /^GET \/devices/, queue: [{ kind: 'status', status: 503 }] });
    const f = await failureOf(verifier().verify({ check: { kind: 'host_contained', assetId: 'web-01' } }));
    expect(f.nonRetryable).toBe(false);
  });

  it('says which checks it cannot do', async () => {
    expect((await createHttpCheckVerify().verify({ check: { kind: 'host_contained', assetId: 'web-01' } })).ok).toBe(false);
    const f = await failureOf(createHttpCheckVerify().verify({ check: { kind: 'pr_merged', repository: 'o/r', number: 1 } }));
    expect(f.nonRetryable).toBe(true);
    expect(createHttpCheckVerify().supports('http')).toBe(true);
    expect(createHttpCheckVerify().supports('ticket_state')).toBe(false);
  });
});
