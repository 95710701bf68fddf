import axios, { AxiosError, AxiosInstance, AxiosRequestConfig } from 'axios';
import { ApplicationFailure } from '@temporalio/common';

/**
 * The one place where vendor HTTP errors become Temporal failures, so every adapter is
 * equally honest about them:
 * - 4xx (but 408 and 429): the request itself is wrong; retrying cannot help, so a
 *   non-retryable ApplicationFailure carries the vendor's own message;
 * - 429: retryable, and the vendor's wait (Retry-After, or Falcon's X-Ratelimit-Retryafter)
 *   becomes the next retry delay;
 * - 5xx, 408, connection resets and timeouts: retryable with the activity's backoff.
 */

export interface VendorClientOptions {
  /** Short vendor name for failure types and messages, e.g. "jira". */
  vendor: string;
  baseURL: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
  auth?: AxiosRequestConfig['auth'];
}

export function createVendorClient(opts: VendorClientOptions): AxiosInstance {
  const client = axios.create({
    baseURL: opts.baseURL,
    timeout: opts.timeoutMs ?? 15_000,
    headers: { Accept: 'application/json', ...opts.headers },
    auth: opts.auth,
    // Redirects to another host could leak credentials; vendors' APIs do not need them.
    maxRedirects: 0,
  });
  client.interceptors.response.use(undefined, (err: unknown) => {
    throw toVendorFailure(opts.vendor, err);
  });
  return client;
}

/** Parses Retry-After (seconds or HTTP date) into milliseconds, bounded to something sane. */
export function retryAfterMs(header: unknown, now = Date.now()): number | undefined {
  if (typeof header !== 'string' && typeof header !== 'number') return undefined;
  const text = String(header).trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), 10 * 60_000);
}

/**
 * When a 429 says to come back as an epoch time in seconds rather than a delay: CrowdStrike
 * Falcon's X-Ratelimit-Retryafter (as gofalcon and PSFalcon read it) and Okta's
 * X-Rate-Limit-Reset (the UTC second its rate-limit window resets).
 */
export function rateLimitResetMs(header: unknown, now = Date.now()): number | undefined {
  const text = typeof header === 'string' || typeof header === 'number' ? String(header).trim() : '';
  if (!/^\d{9,11}$/.test(text)) return undefined;
  return Math.min(Math.max(Number(text) * 1000 - now, 0), 10 * 60_000);
}

/** Extracts the vendor's human message from the error bodies the supported vendors document. */
export function vendorMessage(data: unknown): string {
  if (data == null) return '';
  if (typeof data === 'string') return data.slice(0, 500);
  if (typeof data !== 'object') return String(data);
  const d = data as Record<string, any>;
  const parts: string[] = [];
  // Jira: { errorMessages: [], errors: { field: msg } }
  if (Array.isArray(d.errorMessages)) parts.push(...d.errorMessages.map(String));
  if (d.errors && typeof d.errors === 'object' && !Array.isArray(d.errors)) {
    for (const [k, v] of Object.entries(d.errors)) parts.push(`${k}: ${String(v)}`);
  }
  // CrowdStrike: { errors: [{ code, message }] }
  if (Array.isArray(d.errors)) parts.push(...d.errors.map((e: any) => (e && e.message ? String(e.message) : JSON.stringify(e))));
  // ServiceNow: { error: { message, detail } }; Microsoft Graph / Defender: { error: { code, message } }
  if (d.error && typeof d.error === 'object') {
    parts.push([d.error.code, d.error.message, d.error.detail].filter(Boolean).join(': '));
  } else if (typeof d.error === 'string') parts.push(d.error);
  // OAuth 2.0 token endpoints (RFC 6749 §5.2): { error, error_description }
  if (typeof d.error_description === 'string') parts.push(d.error_description.split(/\r?\n/)[0]);
  // GitHub: { message, errors: [...] }; Slack: plain text; Rundeck: { error: true, errorCode, message }; OPA: { code, message }
  if (typeof d.message === 'string') parts.push(d.message);
  // Okta: { errorCode, errorSummary, errorCauses: [{ errorSummary }] }
  if (typeof d.errorSummary === 'string') parts.push([d.errorCode, d.errorSummary].filter(Boolean).join(': '));
  if (Array.isArray(d.errorCauses)) parts.push(...d.errorCauses.map((c: any) => String(c?.errorSummary ?? '')));
  // AWX / Django REST framework: { detail }
  if (typeof d.detail === 'string') parts.push(d.detail);
  return parts.filter(Boolean).join('; ').slice(0, 500) || JSON.stringify(d).slice(0, 500);
}

export function toVendorFailure(vendor: string, err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  if (!axios.isAxiosError(err)) return err instanceof Error ? err : new Error(String(err));
  const e = err as AxiosError;
  const method = (e.config?.method ?? 'GET').toUpperCase();
  const where = `${method} ${e.config?.url ?? ''}`;
  if (!e.response) {
    // Timeouts, resets, refused connections: transient from the workflow's point of view.
    return ApplicationFailure.retryable(`${vendor}: ${where} failed: ${e.code ?? ''} ${e.message}`.trim(), `${vendor}.Unavailable`);
  }
  const status = e.response.status;
  const message = `${vendor}: ${where} answered ${status}${vendorMessage(e.response.data) ? `: ${vendorMessage(e.response.data)}` : ''}`;
  if (status === 429) {
    const headers = e.response.headers ?? {};
    const delay = retryAfterMs(headers['retry-after']) ?? rateLimitResetMs(headers['x-ratelimit-retryafter']) ?? rateLimitResetMs(headers['x-rate-limit-reset']);
    return ApplicationFailure.create({
      message,
      type: `${vendor}.RateLimited`,
      nonRetryable: false,
      nextRetryDelay: delay ?? undefined,
      details: [{ status }],
    });
  }
  if (status >= 500 || status === 408) {
    return ApplicationFailure.create({ message, type: `${vendor}.ServerError`, nonRetryable: false, details: [{ status }] });
  }
  return ApplicationFailure.create({ message, type: `${vendor}.ClientError`, nonRetryable: true, details: [{ status }] });
}

/** A refusal decided by the adapter itself (bad input, a state only a person can resolve): retrying cannot help. */
export function nonRetryable(vendor: string, message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message: `${vendor}: ${message}`, type: `${vendor}.${type}`, nonRetryable: true });
}
