/**
 * Authentication and authorization for the HTTP API: who is calling, and may they do this.
 *
 * Two independent halves of authentication, each on when configured:
 * - ingest (machines): `DRW_INGEST_TOKENS`, `DRW_INGEST_HMAC_SECRETS`, `DRW_GITHUB_WEBHOOK_SECRET`,
 *   `DRW_JIRA_WEBHOOK_SECRET`; a valid credential for a source grants `submit:<that source>` and
 *   nothing else (the ticketing systems' sources, jira and servicenow, only signal a remediation
 *   that its ticket changed).
 * - people: a signed JWT (`DRW_JWT_*`); the token's groups get their permissions from
 *   policies/access.yaml (read, operate, decide, submit:<source>).
 * A half that is not configured leaves its routes open, which is allowed on loopback only:
 * `assertSafeExposure` refuses anything else at start.
 */
import type http from 'node:http';
import { ConfigError, type AuthConfig } from '../../common/config';
import type { Logger } from '../../common/logger';
import { FORMAT_NAMES } from '../../ingest';
import { allows, NATIVE_SOURCE, permissionsOf, TICKETING_SOURCES, type AccessPolicy, type Permission } from './access';
import { AuthError, forbidden } from './errors';
import { IngestAuthenticator, type IngestMethod } from './ingest';
import { createJwtVerifier, type JwtVerifier } from './jwt';
import { parsePublicKeys, type VerificationKey } from './keys';
import { UserAuthenticator, type Principal } from './users';

export { AuthError } from './errors';
export type { Principal } from './users';
export type { IngestMethod } from './ingest';
export { NATIVE_SOURCE } from './access';

/** A verified caller. */
export type Caller =
  | ({ kind: 'person'; permissions: ReadonlySet<string> } & Principal)
  | { kind: 'source'; source: string; method: IngestMethod }
  /** This half of authentication is not configured (loopback only): anyone may. */
  | { kind: 'open' };

type Headers = Pick<http.IncomingMessage, 'headers'>;

export interface ApiAuth {
  /** People must present a JWT (DRW_JWT_* configured). */
  readonly users: boolean;
  /** Detection sources must present a credential (an ingest token or secret configured). */
  readonly ingest: boolean;
  /**
   * The caller, verified (401 otherwise) and holding `needed` (403 otherwise; 503 when the
   * identity provider's keys cannot be fetched). `raw` reads the body, for signatures.
   */
  authorize(req: Headers, needed: Permission, raw: () => Promise<Buffer>): Promise<Caller>;
  /** One line per half, for the start-up log. */
  describe(): string[];
}

export interface AuthDeps {
  logger?: Logger;
  /** policies/access.yaml, loaded (api/auth/access.ts); without it a person holds no permission. */
  access?: AccessPolicy;
  now?: () => number;
}

const LOOKS_LIKE_JWT = /^Bearer[ \t]+[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*[ \t]*$/i;

const WHAT: Record<string, string> = { read: 'read remediations', operate: 'operate remediations (pause, resume, cancel, false-positive, risk, policy publish)', decide: 'approve or deny steps' };

export function createAuth(cfg: AuthConfig, deps: AuthDeps = {}): ApiAuth {
  const problems: string[] = [];
  const known = [...FORMAT_NAMES, ...TICKETING_SOURCES, NATIVE_SOURCE, '*'];
  for (const [name, map] of [['DRW_INGEST_TOKENS', cfg.ingestTokens], ['DRW_INGEST_HMAC_SECRETS', cfg.ingestHmacSecrets]] as const) {
    for (const source of Object.keys(map)) {
      if (!known.includes(source)) problems.push(`${name}: unknown source "${source}" (known: ${known.join(', ')})`);
      else if (map[source].some((s) => s.length < MIN_CREDENTIAL_CHARS)) deps.logger?.warn({ variable: name, source }, `a credential is shorter than ${MIN_CREDENTIAL_CHARS} characters (refused beyond loopback); use a long random value`);
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
      jwks: j.jwksUrl ? { url: j.jwksUrl, maxAgeMs: j.jwksMaxAgeSec * 1000 } : undefined,
      now: deps.now,
    });
  }
  const users = verifier ? new UserAuthenticator(verifier, { user: j.userClaims, groups: j.groupsClaim }) : undefined;
  const ingest = new IngestAuthenticator({ tokens: cfg.ingestTokens, hmacSecrets: cfg.ingestHmacSecrets, githubSecret: cfg.githubWebhookSecret, jiraSecret: cfg.jiraWebhookSecret, now: deps.now });
  const ingestOn = ingest.configured;

  async function person(req: Headers, needed: Permission): Promise<Caller> {
    const p = await users!.authenticate(req);
    const permissions = deps.access ? permissionsOf(deps.access, p.user, p.groups) : new Set<string>();
    if (!allows(permissions, needed)) {
      const source = needed.slice('submit:'.length);
      const what = WHAT[needed] ?? ((TICKETING_SOURCES as readonly string[]).includes(source) ? `report ticket changes from "${source}"` : `submit detections from "${source}"`);
      throw forbidden(`${p.user} may not ${what}: that needs the "${needed}" permission, which policies/access.yaml grants to none of their groups [${p.groups.join(', ')}]`);
    }
    return { kind: 'person', ...p, permissions };
  }

  return {
    users: Boolean(users),
    ingest: ingestOn,
    async authorize(req, needed, raw) {
      if (needed.startsWith('submit:')) {
        const jwt = Boolean(users) && LOOKS_LIKE_JWT.test(req.headers.authorization ?? '');
        const source = needed.slice('submit:'.length);
        if (ingest.requiredFor(source)) {
          try {
            return { kind: 'source', source, method: await ingest.authenticate(req, source, raw) };
          } catch (e) {
            // Not a source credential: a person whose groups may submit from this source still can.
            if (!(jwt && e instanceof AuthError)) throw e;
          }
        }
        return jwt ? person(req, needed) : { kind: 'open' };
      }
      return users ? person(req, needed) : { kind: 'open' };
    },
    describe: () => [
      users
        ? `people: JWT (${[j.jwksUrl ? `JWKS ${j.jwksUrl}, used for at most ${j.jwksMaxAgeSec}s` : '', publicKeys?.length ? `${publicKeys.length} static key(s)` : '', j.hs256Secret ? 'HS256 secret' : ''].filter(Boolean).join(', ')}; issuer ${j.issuer.join('|') || 'any'}; audience ${j.audience.join('|') || 'any'}; user claim ${j.userClaims.join('|')}; groups claim ${j.groupsClaim}); permissions from the access policy`
        : 'people: NOT authenticated (identity taken from request bodies; loopback only)',
      ingestOn
        ? `ingest: credentials for ${[...new Set([...Object.keys(cfg.ingestTokens), ...Object.keys(cfg.ingestHmacSecrets), ...(cfg.githubWebhookSecret ? ['github'] : []), ...(cfg.jiraWebhookSecret ? ['jira'] : [])])].join(', ')}`
        : `ingest: NOT authenticated (any caller may submit detections; loopback only)${cfg.jiraWebhookSecret ? '; Jira webhooks: signed (DRW_JIRA_WEBHOOK_SECRET)' : ''}`,
    ],
  };
}

/** The identity a caller's actions are recorded under, and rate-limited by. */
export function callerKey(c: Caller): string | undefined {
  if (c.kind === 'person') return `user:${c.user}`;
  if (c.kind === 'source') return `source:${c.source}`;
  return undefined;
}

/** Beyond loopback, a shorter ingest credential is refused at start. */
export const MIN_CREDENTIAL_CHARS = 32;

export function isLoopbackHost(host: string): boolean {
  const h = host.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Refuses to serve a non-loopback address unless both halves are configured, strictly: without
 * ingest authentication anyone could start remediations, without person authentication anyone
 * could approve as anyone; a token without issuer and audience checks could be one the identity
 * provider issued for another application; a short ingest credential can be guessed.
 */
export function assertSafeExposure(host: string, cfg: AuthConfig): void {
  if (isLoopbackHost(host)) return;
  const j = cfg.jwt;
  const users = Boolean(j.jwksUrl || j.publicKeys || j.hs256Secret);
  const ingestOn = [...Object.values(cfg.ingestTokens), ...Object.values(cfg.ingestHmacSecrets)].some((l) => l.length > 0) || Boolean(cfg.githubWebhookSecret);
  const missing: string[] = [];
  if (!users) missing.push('person authentication (DRW_JWT_JWKS_URL with DRW_JWT_ISSUER and DRW_JWT_AUDIENCE; or DRW_JWT_PUBLIC_KEYS or DRW_JWT_HS256_SECRET)');
  if (!ingestOn) missing.push('ingest authentication (DRW_INGEST_TOKENS, DRW_INGEST_HMAC_SECRETS or DRW_GITHUB_WEBHOOK_SECRET)');
  const problems: string[] = [];
  if (missing.length) {
    problems.push(`DRW_API_HOST: ${host} is not a loopback address, and without authentication anyone who can reach it could submit detections and approve steps as anyone. Configure ${missing.join(' and ')}, or listen on 127.0.0.1.`);
  }
  if (users && (!j.issuer.length || !j.audience.length)) {
    problems.push(`DRW_API_HOST: ${host} is not a loopback address: set ${[!j.issuer.length ? 'DRW_JWT_ISSUER' : '', !j.audience.length ? 'DRW_JWT_AUDIENCE' : ''].filter(Boolean).join(' and ')}, so that a token your identity provider issued for another application is not accepted (required for every key type: JWKS, DRW_JWT_PUBLIC_KEYS, DRW_JWT_HS256_SECRET)`);
  }
  const short = [
    ...Object.entries(cfg.ingestTokens).filter(([, l]) => l.some((t) => t.length < MIN_CREDENTIAL_CHARS)).map(([s]) => `DRW_INGEST_TOKENS "${s}"`),
    ...Object.entries(cfg.ingestHmacSecrets).filter(([, l]) => l.some((t) => t.length < MIN_CREDENTIAL_CHARS)).map(([s]) => `DRW_INGEST_HMAC_SECRETS "${s}"`),
    ...(cfg.githubWebhookSecret && cfg.githubWebhookSecret.length < MIN_CREDENTIAL_CHARS ? ['DRW_GITHUB_WEBHOOK_SECRET'] : []),
    ...(cfg.jiraWebhookSecret && cfg.jiraWebhookSecret.length < MIN_CREDENTIAL_CHARS ? ['DRW_JIRA_WEBHOOK_SECRET'] : []),
  ];
  if (short.length) problems.push(`DRW_API_HOST: ${host} is not a loopback address: ingest credentials must be at least ${MIN_CREDENTIAL_CHARS} characters (${short.join(', ')})`);
  if (problems.length) throw new ConfigError(problems);
}
