/**
 * Authentication and authorization for the HTTP API.
 *
 * Two independent halves, each on when configured:
 * - ingest (machines): `DRW_INGEST_TOKENS`, `DRW_INGEST_HMAC_SECRETS`, `DRW_GITHUB_WEBHOOK_SECRET`;
 *   when any is set, every `POST /v1/detections[/{format}]` needs a valid credential for its source.
 * - people: a signed JWT (`DRW_JWT_*`); when set, reads, approvals and operator actions need a
 *   token, and the identity and groups come from it (the workflow applies the step policy).
 * With neither configured the API keeps the embedded behaviour (identity from the body), which
 * is allowed on loopback only: `assertSafeExposure` refuses anything else at start.
 */
import type http from 'node:http';
import { ConfigError, type AuthConfig } from '../../common/config';
import type { Logger } from '../../common/logger';
import { FORMAT_NAMES } from '../../ingest';
import { AuthError } from './errors';
import { IngestAuthenticator, type IngestMethod } from './ingest';
import { createJwtVerifier, RemoteJwks, type JwtVerifier } from './jwt';
import { parsePublicKeys, type VerificationKey } from './keys';
import { UserAuthenticator, type Principal } from './users';

export { AuthError } from './errors';
export type { Principal } from './users';
export type { IngestMethod } from './ingest';

/** The source name of the native `POST /v1/detections` in DRW_INGEST_TOKENS / DRW_INGEST_HMAC_SECRETS. */
export const NATIVE_SOURCE = 'drw';

export interface ApiAuth {
  /** People must present a JWT (DRW_JWT_* configured). */
  readonly users: boolean;
  /** Detection sources must present a credential (an ingest token or secret configured). */
  readonly ingest: boolean;
  /** The verified person; undefined when person authentication is not configured. Throws 401/503. */
  user(req: http.IncomingMessage): Promise<Principal | undefined>;
  /** Checks the source's credential; undefined when ingest authentication is not configured. Throws 401. */
  source(req: http.IncomingMessage, source: string, raw: () => Promise<Buffer>): Promise<IngestMethod | undefined>;
  /**
   * For the native `POST /v1/detections`: an ingest credential for "drw" (or "*"), or a person's
   * JWT. Resolves to the person when a JWT authenticated the request, else undefined.
   */
  submitter(req: http.IncomingMessage, raw: () => Promise<Buffer>): Promise<Principal | undefined>;
  /** One line per half, for the start-up log. */
  describe(): string[];
}

export interface AuthDeps {
  logger?: Logger;
  /** For the JWKS fetch (tests). */
  fetch?: typeof fetch;
  now?: () => number;
}

const LOOKS_LIKE_JWT = /^Bearer[ \t]+[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*[ \t]*$/i;

export function createAuth(cfg: AuthConfig, deps: AuthDeps = {}): ApiAuth {
  const problems: string[] = [];
  const known = [...FORMAT_NAMES, NATIVE_SOURCE, '*'];
  for (const [name, map] of [['DRW_INGEST_TOKENS', cfg.ingestTokens], ['DRW_INGEST_HMAC_SECRETS', cfg.ingestHmacSecrets]] as const) {
    for (const source of Object.keys(map)) {
      if (!known.includes(source)) problems.push(`${name}: unknown source "${source}" (known: ${known.join(', ')})`);
      else if (map[source].some((s) => s.length < 16)) deps.logger?.warn({ variable: name, source }, 'a credential is shorter than 16 characters; use a long random value');
    }
  }

  const j = cfg.jwt;
  let publicKeys: VerificationKey[] | undefined;
  if (j.publicKeys) {
    try {
      publicKeys = parsePublicKeys(j.publicKeys);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (problems.length) throw new ConfigError(problems);

  let verifier: JwtVerifier | undefined;
  if (j.jwksUrl || publicKeys?.length || j.hs256Secret) {
    verifier = createJwtVerifier({
      issuer: j.issuer,
      audience: j.audience,
      clockToleranceSec: j.clockToleranceSec,
      publicKeys,
      hs256Secret: j.hs256Secret ? Buffer.from(j.hs256Secret, 'utf8') : undefined,
      jwks: j.jwksUrl ? new RemoteJwks(j.jwksUrl, { fetch: deps.fetch, now: deps.now, onWarning: (msg) => deps.logger?.warn(msg) }) : undefined,
      now: deps.now,
    });
  }
  const users = verifier ? new UserAuthenticator(verifier, { user: j.userClaims, groups: j.groupsClaim }) : undefined;
  const ingest = new IngestAuthenticator({ tokens: cfg.ingestTokens, hmacSecrets: cfg.ingestHmacSecrets, githubSecret: cfg.githubWebhookSecret });
  const ingestOn = ingest.configured;

  return {
    users: Boolean(users),
    ingest: ingestOn,
    user: async (req) => users?.authenticate(req),
    source: async (req, source, raw) => (ingestOn ? ingest.authenticate(req, source, raw) : undefined),
    async submitter(req, raw) {
      const jwt = users && LOOKS_LIKE_JWT.test(req.headers.authorization ?? '');
      if (ingestOn) {
        try {
          await ingest.authenticate(req, NATIVE_SOURCE, raw);
          return undefined;
        } catch (e) {
          // Not a source credential: a person with a valid token may still submit by hand.
          if (!(jwt && e instanceof AuthError)) throw e;
        }
      }
      return jwt ? users.authenticate(req) : undefined;
    },
    describe: () => [
      users
        ? `people: JWT (${[j.jwksUrl ? `JWKS ${j.jwksUrl}` : '', publicKeys?.length ? `${publicKeys.length} static key(s)` : '', j.hs256Secret ? 'HS256 secret' : ''].filter(Boolean).join(', ')}; issuer ${j.issuer.join('|') || 'any'}; audience ${j.audience.join('|') || 'any'}; user claim ${j.userClaims.join('|')}; groups claim ${j.groupsClaim})`
        : 'people: NOT authenticated (identity taken from request bodies; loopback only)',
      ingestOn
        ? `ingest: credentials for ${[...new Set([...Object.keys(cfg.ingestTokens), ...Object.keys(cfg.ingestHmacSecrets), ...(cfg.githubWebhookSecret ? ['github'] : [])])].join(', ')}`
        : 'ingest: NOT authenticated (any caller may submit detections; loopback only)',
    ],
  };
}

export function isLoopbackHost(host: string): boolean {
  const h = host.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Refuses to serve a non-loopback address unless both halves are configured: without ingest
 * authentication anyone could start remediations (containment, pull requests), without person
 * authentication anyone could approve as anyone.
 */
export function assertSafeExposure(host: string, auth: Pick<ApiAuth, 'users' | 'ingest'>): void {
  if (isLoopbackHost(host)) return;
  const missing: string[] = [];
  if (!auth.users) missing.push('person authentication (DRW_JWT_JWKS_URL with DRW_JWT_ISSUER and DRW_JWT_AUDIENCE; or DRW_JWT_PUBLIC_KEYS or DRW_JWT_HS256_SECRET)');
  if (!auth.ingest) missing.push('ingest authentication (DRW_INGEST_TOKENS, DRW_INGEST_HMAC_SECRETS or DRW_GITHUB_WEBHOOK_SECRET)');
  if (missing.length === 0) return;
  throw new ConfigError([
    `DRW_API_HOST: ${host} is not a loopback address, and without authentication anyone who can reach it could submit detections and approve steps as anyone. Configure ${missing.join(' and ')}, or listen on 127.0.0.1.`,
  ]);
}
