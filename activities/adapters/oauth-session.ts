import type { AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';

/** Token endpoints answer expires_in as a number (Falcon) or a numeric string (some Entra ID versions). */
const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive() });

interface CachedToken {
  value: string;
  refreshAt: number;
}

export interface OAuthSessionOptions {
  vendor: string;
  /** The API calls are made with this client (createVendorClient). */
  api: AxiosInstance;
  /** POSTs the client-credentials form to the vendor's token endpoint. */
  fetchToken: () => Promise<AxiosResponse<unknown>>;
  /** Refresh this long before expiry (at most half the token's lifetime). */
  refreshBeforeMs: number;
  now?: () => number;
}

/**
 * OAuth2 client-credentials access to a vendor API: the token is cached until shortly before
 * it expires (vendors rate-limit token requests hard), one fetch is shared by concurrent calls,
 * and a call answered 401 (revoked or rotated client) is repeated once with a fresh token — a
 * 401 is refused before anything happens, so the repeat is safe.
 */
export class OAuthSession {
  private token?: CachedToken;
  private pending?: Promise<CachedToken>;
  private readonly now: () => number;

  constructor(private readonly o: OAuthSessionOptions) {
    this.now = o.now ?? Date.now;
  }

  async request<T>(req: AxiosRequestConfig): Promise<AxiosResponse<T>> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      try {
        return await this.o.api.request<T>({ ...req, headers: { ...(req.headers as Record<string, string>), Authorization: `Bearer ${token.value}` } });
      } catch (err) {
        if (attempt === 0 && statusOf(err) === 401) {
          if (this.token === token) this.token = undefined;
          continue;
        }
        throw err;
      }
    }
  }

  private async accessToken(): Promise<CachedToken> {
    if (this.token && this.now() < this.token.refreshAt) return this.token;
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    this.token = await this.pending;
    return this.token;
  }

  private async fetch(): Promise<CachedToken> {
    const res = await this.o.fetchToken();
    const parsed = tokenSchema.safeParse(res.data);
    // The body holds the token: the message must not quote it.
    if (!parsed.success) throw ApplicationFailure.retryable(`${this.o.vendor}: token answer has no access_token/expires_in`, `${this.o.vendor}.BadTokenResponse`);
    const lifetimeMs = parsed.data.expires_in * 1000;
    return { value: parsed.data.access_token, refreshAt: this.now() + lifetimeMs - Math.min(this.o.refreshBeforeMs, lifetimeMs / 2) };
  }
}

/** The HTTP status an adapter failure (adapters/http.ts) carries, if any. */
export function statusOf(err: unknown): number | undefined {
  if (!(err instanceof ApplicationFailure)) return undefined;
  const d = err.details?.[0] as { status?: unknown } | undefined;
  return typeof d?.status === 'number' ? d.status : undefined;
}

export const FORM = { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };
