/**
 * `drw codec-server` with person authentication: the Temporal UI's "pass access token" sends the
 * user's JWT, which decodes only when it verifies and grants read (policies/access.yaml).
 */
import { codecHandler } from '../../../audit/codec-server';
import { EncryptionCodec } from '../../../audit/codec';
import { personAuthorizer } from '../../../cli/commands/audit';
import { loadConfig } from '../../../common/config';
import { testKeys } from '../../helpers/archive-suite';
import { AUDIENCE, ISSUER, claims, signJwt } from '../auth/tokens';

const HS = 'codec-server-test-secret-0123456789abcdef';
const cfg = loadConfig({ DRW_JWT_HS256_SECRET: HS, DRW_JWT_ISSUER: ISSUER, DRW_JWT_AUDIENCE: AUDIENCE, DRW_ARCHIVE: 'off' });
const token = (groups: string[]) => signJwt(claims({ sub: 'ada', groups }), { alg: 'HS256', key: HS });

test("the UI's forwarded JWT: an auditor (read) decodes; a user without read, a forged token and no token are 401", async () => {
  const authorize = await personAuthorizer(cfg);
  expect(authorize).toBeDefined();
  const handle = codecHandler({ codec: new EncryptionCodec(testKeys()), namespace: 'default', corsOrigins: ['http://localhost:8233'], authorize });
  const decode = (authorization?: string) =>
    handle({ method: 'POST', path: '/decode', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify({ payloads: [] }) });
  expect((await decode(`Bearer ${token(['auditors'])}`)).status).toBe(200);
  expect((await decode(`Bearer ${token(['devs'])}`)).status).toBe(401);
  expect((await decode(`Bearer ${signJwt(claims({ groups: ['auditors'] }), { alg: 'HS256', key: 'another-secret-of-enough-length-000000' })}`)).status).toBe(401);
  expect((await decode()).status).toBe(401);
});

test('without person authentication there is nothing to forward: the codec server relies on its own token (or loopback)', async () => {
  expect(await personAuthorizer(loadConfig({ DRW_ARCHIVE: 'off' }))).toBeUndefined();
});
