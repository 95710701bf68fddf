import type http from 'node:http';
import { AuthError } from '../../../api/auth/errors';
import { IngestAuthenticator, signIngestRequest } from '../../../api/auth/ingest';
import { signHmacSha256, verifyBearer, verifyHmacSha256 } from '../../../ingest/signatures';

const TOKEN_AM = 'alertmanager-token-0123456789abcdef';
const TOKEN_AM_NEXT = 'alertmanager-token-rotated-fedcba9876';
const TOKEN_ANY = 'any-source-token-0123456789abcdef';
const HMAC_FALCO = 'falco-hmac-secret-0123456789abcdef';
const GITHUB = 'github-webhook-secret-0123456789';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const auth = new IngestAuthenticator({
  tokens: { alertmanager: [TOKEN_AM, TOKEN_AM_NEXT], '*': [TOKEN_ANY] },
  hmacSecrets: { falco: [HMAC_FALCO] },
  githubSecret: GITHUB,
  now: () => NOW,
});
const signed = (secret: string, b: Buffer | string, at = NOW) => signIngestRequest(secret, b, at);
const body = Buffer.from('{"alerts":[]}');
const req = (headers: Record<string, string>) => ({ headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) }) as unknown as http.IncomingMessage;
const raw = jest.fn(async () => body);

async function refused(source: string, headers: Record<string, string>): Promise<AuthError> {
  const e = await auth.authenticate(req(headers), source, raw).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AuthError);
  expect((e as AuthError).status).toBe(401);
  expect((e as AuthError).headers['WWW-Authenticate']).toMatch(/realm="drw-ingest"/);
  return e as AuthError;
}

beforeEach(() => raw.mockClear());

describe('bearer tokens per source', () => {
  test('the source token, a rotated one and the "*" token are accepted; no body is read', async () => {
    expect(await auth.authenticate(req({ Authorization: `Bearer ${TOKEN_AM}` }), 'alertmanager', raw)).toBe('bearer');
    expect(await auth.authenticate(req({ Authorization: `bearer ${TOKEN_AM_NEXT}` }), 'alertmanager', raw)).toBe('bearer');
    expect(await auth.authenticate(req({ Authorization: `Bearer ${TOKEN_ANY}` }), 'trivy', raw)).toBe('bearer');
    expect(raw).not.toHaveBeenCalled();
  });

  test("another source's token, a wrong token and a malformed header are refused with precise messages", async () => {
    expect((await refused('trivy', { Authorization: `Bearer ${TOKEN_AM}` })).message).toBe('bearer token not accepted for "trivy"');
    const wrong = await refused('alertmanager', { Authorization: 'Bearer nope' });
    expect(wrong.headers['WWW-Authenticate']).toMatch(/^Bearer realm="drw-ingest", error="invalid_token"/);
    expect((await refused('alertmanager', { Authorization: `Basic ${TOKEN_AM}` })).message).toMatch(/malformed Authorization header: expected "Bearer <token>"/);
  });

  test('no credential at all names what is accepted for that source', async () => {
    expect((await refused('alertmanager', {})).message).toBe('missing credentials for "alertmanager": send Authorization: Bearer <token>');
    const f = await refused('falco', {});
    expect(f.message).toBe('missing credentials for "falco": send Authorization: Bearer <token> or X-Drw-Timestamp and X-Drw-Signature-256: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">');
    expect(f.headers['WWW-Authenticate']).toMatch(/HMAC-SHA256 realm="drw-ingest", header="X-Drw-Signature-256"/);
  });

  test('a source with no credential configured (and no "*") cannot post at all', async () => {
    const only = new IngestAuthenticator({ tokens: { alertmanager: [TOKEN_AM] }, hmacSecrets: {} });
    const e = await only.authenticate(req({ Authorization: `Bearer ${TOKEN_AM}` }), 'wazuh', raw).catch((x: unknown) => x);
    expect((e as AuthError).message).toMatch(/no ingest credential is configured for "wazuh": set DRW_INGEST_TOKENS or DRW_INGEST_HMAC_SECRETS/);
    expect(only.configured).toBe(true);
    expect(new IngestAuthenticator({ tokens: {}, hmacSecrets: {} }).configured).toBe(false);
  });
});

describe('HMAC signatures over the timestamp and the raw body', () => {
  test('X-Drw-Signature-256 over "<X-Drw-Timestamp>.<body>" with the source secret is accepted', async () => {
    expect(await auth.authenticate(req(signed(HMAC_FALCO, body)), 'falco', raw)).toBe('hmac');
    expect(raw).toHaveBeenCalled();
    // Within the 5-minute window either way (clocks drift).
    expect(await auth.authenticate(req(signed(HMAC_FALCO, body, NOW - 299_000)), 'falco', raw)).toBe('hmac');
    expect(await auth.authenticate(req(signed(HMAC_FALCO, body, NOW + 299_000)), 'falco', raw)).toBe('hmac');
  });

  test('a wrong secret or a tampered body is refused', async () => {
    expect((await refused('falco', signed('another-secret-0123456789abcdef', body))).message).toMatch(/X-Drw-Signature-256 does not match the body/);
    expect((await refused('falco', signed(HMAC_FALCO, '{"alerts":[{}]}'))).message).toMatch(/does not match the body/);
    expect((await refused('falco', { ...signed(HMAC_FALCO, body), 'X-Drw-Signature-256': 'sha256=zz' })).message).toMatch(/does not match the body/);
    expect((await refused('trivy', signed(HMAC_FALCO, body))).message).toMatch(/X-Drw-Signature-256 is not accepted for "trivy" \(no HMAC secret configured\)/);
  });

  test('an attacker replays a captured signed request after 5 minutes: refused', async () => {
    const captured = signed(HMAC_FALCO, body, NOW - 301_000);
    expect((await refused('falco', captured)).message).toBe("X-Drw-Timestamp is not within 5 minutes of drw's clock");
    // Moving the timestamp forward breaks the signature, which covers it.
    expect((await refused('falco', { ...captured, 'X-Drw-Timestamp': String(NOW / 1000) })).message).toMatch(/does not match the body/);
  });

  test('a body-only signature (no timestamp, as drw signed before) is refused with what to send', async () => {
    expect((await refused('falco', { 'X-Drw-Signature-256': signHmacSha256(HMAC_FALCO, body) })).message).toBe(
      'X-Drw-Signature-256 needs X-Drw-Timestamp (unix seconds; the signature covers "<timestamp>.<body>")',
    );
    expect((await refused('falco', { 'X-Drw-Signature-256': signHmacSha256(HMAC_FALCO, body), 'X-Drw-Timestamp': 'yesterday' })).message).toMatch(/X-Drw-Timestamp is not within 5 minutes/);
  });

  test("GitHub's X-Hub-Signature-256 on the github route only", async () => {
    expect(await auth.authenticate(req({ 'X-Hub-Signature-256': signHmacSha256(GITHUB, body) }), 'github', raw)).toBe('github-signature');
    expect((await refused('github', { 'X-Hub-Signature-256': signHmacSha256('wrong-secret-0123456789', body) })).message).toMatch(/X-Hub-Signature-256 does not match the body \(check the webhook secret\)/);
    // Elsewhere the header means nothing: the request has no credential.
    expect((await refused('alertmanager', { 'X-Hub-Signature-256': signHmacSha256(GITHUB, body) })).message).toMatch(/^missing credentials/);
  });

  test('any one valid credential is enough; every invalid one is reported', async () => {
    expect(await auth.authenticate(req({ Authorization: 'Bearer wrong', ...signed(HMAC_FALCO, body) }), 'falco', raw)).toBe('hmac');
    const both = await refused('falco', { Authorization: 'Bearer wrong', ...signed(HMAC_FALCO, body), 'X-Drw-Signature-256': 'sha256=00' });
    expect(both.message).toBe('bearer token not accepted for "falco"; X-Drw-Signature-256 does not match the body (expected sha256=<hex HMAC-SHA256 of "<X-Drw-Timestamp>.<the exact bytes sent>">)');
  });
});

describe('ingest/signatures primitives', () => {
  test('verifyHmacSha256: exact bytes, prefix, hex only, empty secret never verifies', () => {
    const sig = signHmacSha256('s3cret', body);
    expect(verifyHmacSha256('s3cret', body, sig)).toBe(true);
    expect(verifyHmacSha256('s3cret', Buffer.concat([body, Buffer.from(' ')]), sig)).toBe(false);
    expect(verifyHmacSha256('s3cret', body, sig.slice('sha256='.length))).toBe(false);
    expect(verifyHmacSha256('s3cret', body, sig.toUpperCase().replace('SHA256=', 'sha256='))).toBe(true);
    expect(verifyHmacSha256('', body, signHmacSha256('', body))).toBe(false);
    expect(verifyHmacSha256('s3cret', body, undefined)).toBe(false);
  });

  test('verifyBearer: any of the tokens, Bearer scheme only, empty tokens ignored', () => {
    expect(verifyBearer(['a-token', 'b-token'], 'Bearer b-token')).toBe(true);
    expect(verifyBearer(['a-token'], 'Bearer a-token-longer')).toBe(false);
    expect(verifyBearer(['a-token'], 'Token a-token')).toBe(false);
    expect(verifyBearer([''], 'Bearer ')).toBe(false);
    expect(verifyBearer(['a-token'], undefined)).toBe(false);
  });
});
