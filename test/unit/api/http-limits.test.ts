/**
 * The API's own limits on a real fastify server (no Temporal: the service answers "no such
 * remediation"): per-identity rate limits, the connection cap and the server timeouts.
 */
import net from 'node:net';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createAuth } from '../../../api/auth';
import { parseAccessPolicy } from '../../../api/auth/access';
import { apiRoutes } from '../../../api/routes';
import { createApi, listen } from '../../../api/server';
import { ApiError, type RemediationService } from '../../../api/service';
import { loadConfig } from '../../../common/config';
import { createLogger } from '../../../common/logger';
import { AUDIENCE, claims, ISSUER, signJwt } from '../auth/tokens';

const HS = 'an-hs256-secret-for-the-http-limits-test';
const ID = 'drw-limits-test-0001';
const service = { state: async (id: string) => Promise.reject(new ApiError(404, `no remediation ${id}`)) } as unknown as RemediationService;

async function server(env: Record<string, string>): Promise<{ app: FastifyInstance; url: string }> {
  const cfg = loadConfig({ DRW_JWT_HS256_SECRET: HS, DRW_JWT_ISSUER: ISSUER, DRW_JWT_AUDIENCE: AUDIENCE, ...env });
  const auth = createAuth(cfg.auth, { access: parseAccessPolicy('version: 1\ngroups:\n  readers: [read]\n', 'access.yaml') });
  const logger = createLogger('silent');
  const app = await createApi({ logger, ready: () => true, auth, host: '127.0.0.1', settings: cfg.api, routes: apiRoutes({ service, client: {} as Client, logger, users: true }) });
  return { app, url: await listen(app, '127.0.0.1', 0) };
}

const as = (user: string) => ({ authorization: `Bearer ${signJwt(claims({ sub: user, groups: ['readers'] }), { alg: 'HS256', key: HS })}` });

describe('rate limit per verified identity', () => {
  let s: Awaited<ReturnType<typeof server>>;
  beforeAll(async () => (s = await server({ DRW_API_RATE_LIMIT: '3', DRW_API_RATE_LIMIT_WINDOW_MS: '60000' })));
  afterAll(async () => s?.app.close());

  test('a user past the limit gets 429 with Retry-After; another user behind the same address is not throttled', async () => {
    const get = (user: string) => fetch(`${s.url}/v1/remediations/${ID}`, { headers: as(user) });
    const alice = [];
    for (let i = 0; i < 4; i++) alice.push(await get('alice'));
    expect(alice.map((r) => r.status)).toEqual([404, 404, 404, 429]);
    expect(Number(alice[3].headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await alice[3].json()) as { error: string }).error).toMatch(/^rate limit: at most 3 requests per 60 s for user:alice; retry in/);
    expect((await get('bob')).status).toBe(404);
    // Health probes are not counted.
    for (let i = 0; i < 5; i++) expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });
});

test('on the loopback default (no credentials configured) this machine’s callers are not throttled', async () => {
  const cfg = loadConfig({ DRW_API_RATE_LIMIT: '2' });
  const logger = createLogger('silent');
  const app = await createApi({ logger, ready: () => true, auth: createAuth(cfg.auth), host: '127.0.0.1', settings: cfg.api, routes: apiRoutes({ service, client: {} as Client, logger, users: false }) });
  try {
    const url = await listen(app, '127.0.0.1', 0);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${url}/v1/remediations/${ID}`)).status);
    expect(statuses).toEqual([404, 404, 404, 404, 404]);
  } finally {
    await app.close();
  }
});

describe('connection cap and timeouts', () => {
  let s: Awaited<ReturnType<typeof server>>;
  beforeAll(async () => (s = await server({ DRW_API_MAX_CONNECTIONS: '2', DRW_API_HEADERS_TIMEOUT_MS: '2000', DRW_API_KEEP_ALIVE_TIMEOUT_MS: '1500', DRW_API_REQUEST_TIMEOUT_MS: '4000' })));
  afterAll(async () => s?.app.close());

  test('connections beyond the cap are closed unanswered while the first ones stay open', async () => {
    const port = Number(new URL(s.url).port);
    const open = (): Promise<net.Socket> => new Promise((resolve, reject) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { resolve(this); }).once('error', reject));
    const held = [await open(), await open()];
    const third = await open();
    let timer: NodeJS.Timeout | undefined;
    const closed = await new Promise<boolean>((resolve) => {
      third.once('close', () => resolve(true));
      third.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      timer = setTimeout(() => resolve(false), 3000);
    });
    clearTimeout(timer);
    expect(closed).toBe(true);
    held.forEach((x) => x.destroy());
  });

  test('the configured timeouts are the server’s', () => {
    expect([s.app.server.headersTimeout, s.app.server.keepAliveTimeout, s.app.server.requestTimeout, s.app.server.maxConnections]).toEqual([2000, 1500, 4000, 2]);
  });
});
