/**
 * Machines: which detection sources may post to `POST /v1/detections/{format}`. Per source
 * (the format name, "drw" for the native `POST /v1/detections`, or "*" for any) a bearer token
 * and/or drw's HMAC-SHA256 signature of `${X-Drw-Timestamp}.${raw body}` (5-minute window); GitHub's own `X-Hub-Signature-256` on the
 * github route, exactly as GitHub sends it; Jira's `X-Hub-Signature` on the Jira webhook route. Every comparison is constant-time (ingest/signatures.ts). Any one valid
 * credential is enough; when none is valid the refusal names what was wrong with each.
 */
import type http from 'node:http';
import { signHmacSha256, verifyBearer, verifyHmacSha256 } from '../../ingest/signatures';
import { AuthError, bearerChallenge } from './errors';

export const DRW_SIGNATURE_HEADER = 'X-Drw-Signature-256';
/** Unix seconds; drw's signature covers `${timestamp}.${body}`, so a captured request replays only within the window. */
export const DRW_TIMESTAMP_HEADER = 'X-Drw-Timestamp';
export const SIGNATURE_WINDOW_SEC = 300;
export const GITHUB_SIGNATURE_HEADER = 'X-Hub-Signature-256';
/** Jira Cloud signs admin webhooks that have a secret: `sha256=<hex HMAC-SHA256 of the body>`, no timestamp. */
export const JIRA_SIGNATURE_HEADER = 'X-Hub-Signature';
export const INGEST_REALM = 'drw-ingest';

export interface IngestCredentials {
  /** source → accepted bearer tokens (several allow rotation); "*" applies to every source. */
  tokens: Record<string, string[]>;
  /** source → HMAC secrets for X-Drw-Signature-256; "*" applies to every source. */
  hmacSecrets: Record<string, string[]>;
  /** GitHub webhook secret for X-Hub-Signature-256 on the github route. */
  githubSecret?: string;
  /**
   * Jira webhook secret for X-Hub-Signature on the jira source. Unlike the others it does not
   * require credentials of every source: the embedded default signs its simulator's webhooks
   * while detections stay open on loopback.
   */
  jiraSecret?: string;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

/** The two headers a sender of drw's own HMAC signature adds (the CLI, tests, a relay). */
export function signIngestRequest(secret: string, body: Buffer | string, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return { [DRW_TIMESTAMP_HEADER]: timestamp, [DRW_SIGNATURE_HEADER]: signHmacSha256(secret, Buffer.concat([Buffer.from(`${timestamp}.`), Buffer.from(body)])) };
}

export type IngestMethod = 'bearer' | 'hmac' | 'github-signature' | 'jira-signature';

function header(req: Pick<http.IncomingMessage, 'headers'>, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

export class IngestAuthenticator {
  constructor(private readonly c: IngestCredentials) {}

  /** True when at least one ingest credential is configured: then every ingest request needs one. */
  get configured(): boolean {
    return Object.values(this.c.tokens).some((t) => t.length > 0) || Object.values(this.c.hmacSecrets).some((s) => s.length > 0) || Boolean(this.c.githubSecret);
  }

  /** Whether a request for `source` needs a credential: any configured at all, or the source's own webhook secret. */
  requiredFor(source: string): boolean {
    return this.configured || (source === 'jira' && Boolean(this.c.jiraSecret));
  }

  private methods(source: string) {
    const pick = (m: Record<string, string[]>) => [...(m[source] ?? []), ...(m['*'] ?? [])].filter((x) => x.length > 0);
    return {
      tokens: pick(this.c.tokens),
      hmac: pick(this.c.hmacSecrets),
      github: source === 'github' && this.c.githubSecret ? [this.c.githubSecret] : [],
      jira: source === 'jira' && this.c.jiraSecret ? [this.c.jiraSecret] : [],
    };
  }

  private challenge(source: string, error?: 'invalid_request' | 'invalid_token', description?: string): string {
    const m = this.methods(source);
    const parts: string[] = [];
    if (m.tokens.length || (!m.hmac.length && !m.github.length && !m.jira.length)) parts.push(bearerChallenge(INGEST_REALM, error, description));
    if (m.hmac.length) parts.push(`HMAC-SHA256 realm="${INGEST_REALM}", header="${DRW_SIGNATURE_HEADER}"`);
    if (m.github.length) parts.push(`HMAC-SHA256 realm="${INGEST_REALM}", header="${GITHUB_SIGNATURE_HEADER}"`);
    if (m.jira.length) parts.push(`HMAC-SHA256 realm="${INGEST_REALM}", header="${JIRA_SIGNATURE_HEADER}"`);
    return parts.join(', ');
  }

  /**
   * Resolves with the method that authenticated the request, or throws AuthError (401).
   * `raw` reads the body (with the API's size limit) and is called only to check a signature.
   */
  async authenticate(req: Pick<http.IncomingMessage, 'headers'>, source: string, raw: () => Promise<Buffer>): Promise<IngestMethod> {
    const m = this.methods(source);
    if (!m.tokens.length && !m.hmac.length && !m.github.length && !m.jira.length) {
      throw new AuthError(
        `no ingest credential is configured for "${source}": set DRW_INGEST_TOKENS or DRW_INGEST_HMAC_SECRETS for "${source}" (or "*")${source === 'github' ? ', or DRW_GITHUB_WEBHOOK_SECRET' : source === 'jira' ? ', or DRW_JIRA_WEBHOOK_SECRET' : ''}`,
        this.challenge(source),
      );
    }
    const failures: string[] = [];
    const authorization = header(req, 'authorization');
    if (authorization !== undefined) {
      if (!/^Bearer[ \t]+\S+[ \t]*$/i.test(authorization)) failures.push('malformed Authorization header: expected "Bearer <token>"');
      else if (!m.tokens.length) failures.push(`bearer tokens are not accepted for "${source}" (none configured)`);
      else if (verifyBearer(m.tokens, authorization)) return 'bearer';
      else failures.push(`bearer token not accepted for "${source}"`);
    }
    const drwSignature = header(req, DRW_SIGNATURE_HEADER);
    if (drwSignature !== undefined) {
      const timestamp = header(req, DRW_TIMESTAMP_HEADER);
      const skew = timestamp !== undefined && /^\d{1,12}$/.test(timestamp) ? Math.abs((this.c.now ?? Date.now)() / 1000 - Number(timestamp)) : undefined;
      if (!m.hmac.length) failures.push(`${DRW_SIGNATURE_HEADER} is not accepted for "${source}" (no HMAC secret configured)`);
      else if (timestamp === undefined) failures.push(`${DRW_SIGNATURE_HEADER} needs ${DRW_TIMESTAMP_HEADER} (unix seconds; the signature covers "<timestamp>.<body>")`);
      else if (skew === undefined || skew > SIGNATURE_WINDOW_SEC) failures.push(`${DRW_TIMESTAMP_HEADER} is not within ${SIGNATURE_WINDOW_SEC / 60} minutes of drw's clock`);
      else {
        const signed = Buffer.concat([Buffer.from(`${timestamp}.`), await raw()]);
        if (m.hmac.some((secret) => verifyHmacSha256(secret, signed, drwSignature))) return 'hmac';
        failures.push(`${DRW_SIGNATURE_HEADER} does not match the body (expected sha256=<hex HMAC-SHA256 of "<${DRW_TIMESTAMP_HEADER}>.<the exact bytes sent>">)`);
      }
    }
    const hubSignature = source === 'github' ? header(req, GITHUB_SIGNATURE_HEADER) : undefined;
    if (hubSignature !== undefined) {
      if (!m.github.length) failures.push(`${GITHUB_SIGNATURE_HEADER} is not accepted (DRW_GITHUB_WEBHOOK_SECRET is not set)`);
      else {
        const body = await raw();
        if (verifyHmacSha256(m.github[0], body, hubSignature)) return 'github-signature';
        failures.push(`${GITHUB_SIGNATURE_HEADER} does not match the body (check the webhook secret)`);
      }
    }
    const jiraSignature = source === 'jira' ? header(req, JIRA_SIGNATURE_HEADER) : undefined;
    if (jiraSignature !== undefined) {
      if (!m.jira.length) failures.push(`${JIRA_SIGNATURE_HEADER} is not accepted (DRW_JIRA_WEBHOOK_SECRET is not set)`);
      else {
        const body = await raw();
        if (verifyHmacSha256(m.jira[0], body, jiraSignature)) return 'jira-signature';
        failures.push(`${JIRA_SIGNATURE_HEADER} does not match the body (check the Jira webhook's secret)`);
      }
    }
    if (failures.length === 0) {
      const accepted = [
        ...(m.tokens.length ? ['Authorization: Bearer <token>'] : []),
        ...(m.hmac.length ? [`${DRW_TIMESTAMP_HEADER} and ${DRW_SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`] : []),
        ...(m.github.length ? [`${GITHUB_SIGNATURE_HEADER} (GitHub webhook secret)`] : []),
        ...(m.jira.length ? [`${JIRA_SIGNATURE_HEADER} (Jira webhook secret)`] : []),
      ];
      throw new AuthError(`missing credentials for "${source}": send ${accepted.join(' or ')}`, this.challenge(source));
    }
    const message = failures.join('; ');
    throw new AuthError(message, this.challenge(source, failures[0].startsWith('malformed') ? 'invalid_request' : 'invalid_token', failures[0]));
  }
}
