import axios, { AxiosError, AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { createVendorClient, retryAfterMs, vendorMessage } from '../http';

/**
 * The GitHub REST client: the shared vendor client (error classification, no redirects) with
 * GitHub's headers, plus GitHub's own way of saying "rate limited". GitHub answers a primary
 * rate limit with 403 (or 429) and `x-ratelimit-remaining: 0` + `x-ratelimit-reset`, and a
 * secondary one with 403/429 and `retry-after` (or just a message). The shared client would
 * call such a 403 a permanent client error, so the adapter is wrapped and these answers
 * become retryable failures, with the delay GitHub asks for, before that classification runs
 * (it lets ApplicationFailures through untouched).
 */

export interface GitHubClientOptions {
  apiUrl: string;
  token: string;
  timeoutMs?: number;
}

const MAX_DELAY_MS = 10 * 60_000;
/** GitHub's documented minimum wait for a secondary rate limit without retry-after. */
const SECONDARY_DEFAULT_MS = 60_000;

export function createGitHubClient(opts: GitHubClientOptions): AxiosInstance {
  const client = createVendorClient({
    vendor: 'github',
    baseURL: opts.apiUrl,
    timeoutMs: opts.timeoutMs,
    headers: {
      Authorization: `Bearer ${opts.token}`,
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
      'User-Agent': 'drw-remediation',
    },
  });
  const transport = axios.getAdapter(client.defaults.adapter);
  client.defaults.adapter = async (config) => {
    try {
      return await transport(config);
    } catch (err) {
      throw rateLimitFailure(err) ?? err;
    }
  };
  return client;
}

function header(err: AxiosError, name: string): string | undefined {
  const h = err.response?.headers as Record<string, unknown> | undefined;
  const v = h?.[name];
  return v === undefined || v === null ? undefined : String(v);
}

/** A retryable failure for GitHub's rate-limit answers; undefined for anything else. */
export function rateLimitFailure(err: unknown, now = Date.now()): ApplicationFailure | undefined {
  if (!axios.isAxiosError(err) || !err.response) return undefined;
  const status = err.response.status;
  if (status !== 403 && status !== 429) return undefined;
  // The adapter sees the body before axios parses it.
  let data: unknown = err.response.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      // keep the text
    }
  }
  const message = vendorMessage(data);
  const remaining = header(err, 'x-ratelimit-remaining');
  const reset = header(err, 'x-ratelimit-reset');
  const retryAfter = header(err, 'retry-after');
  const limited = status === 429 || remaining === '0' || retryAfter !== undefined || /rate limit|abuse detection/i.test(message);
  if (!limited) return undefined;

  let delay: number | undefined = retryAfterMs(retryAfter, now);
  if (delay === undefined && remaining === '0' && reset && /^\d+$/.test(reset)) {
    // Reset is epoch seconds; one extra second absorbs clock skew.
    delay = Math.min(Math.max(Number(reset) * 1000 - now, 0) + 1000, MAX_DELAY_MS);
  }
  if (delay === undefined) delay = SECONDARY_DEFAULT_MS;
  const where = `${(err.config?.method ?? 'GET').toUpperCase()} ${err.config?.url ?? ''}`;
  return ApplicationFailure.create({
    message: `github: ${where} answered ${status}${message ? `: ${message}` : ''} (rate limited, retry in ${Math.round(delay / 1000)} s)`,
    type: 'github.RateLimited',
    nonRetryable: false,
    nextRetryDelay: delay,
    details: [{ status, rateLimitRemaining: remaining, rateLimitReset: reset }],
  });
}
