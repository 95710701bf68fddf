import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { createVendorClient } from '../http';
import type { CrowdStrikeConfig } from './config';

export const VENDOR = 'crowdstrike';

const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });

/** Falcon's envelope for every API answer, errors included. */
export interface FalconEnvelope<T> {
  meta?: Record<string, unknown>;
  resources?: T[] | null;
  errors?: Array<{ code?: number; message?: string }> | null;
}

interface CachedToken {
  value: string;
  refreshAt: number;
}

/**
 * Authenticated Falcon API access: an OAuth2 client-credentials token cached until shortly
 * before it expires (Falcon rate-limits token requests hard), shared by concurrent calls, and
 * refreshed once when the API answers 401 (revoked or rotated client).
 */
export class FalconApi {
  private readonly http: AxiosInstance;
  private token?: CachedToken;
  private pending?: Promise<CachedToken>;

  constructor(
    private readonly config: CrowdStrikeConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.http = createVendorClient({ vendor: VENDOR, baseURL: config.baseUrl, timeoutMs: config.timeoutMs });
  }

  async request<T>(req: AxiosRequestConfig): Promise<FalconEnvelope<T>> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      try {
        const res = await this.http.request<FalconEnvelope<T>>({
          ...req,
          headers: { ...(req.headers as Record<string, string>), Authorization: `Bearer ${token.value}` },
        });
        return res.data ?? {};
      } catch (err) {
        // A 401 means the call was refused before it acted, so repeating it once is safe.
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
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    this.token = await this.pending;
    return this.token;
  }

  private async fetchToken(): Promise<CachedToken> {
    const form = new URLSearchParams({ client_id: this.config.clientId, client_secret: this.config.clientSecret });
    if (this.config.memberCid) form.set('member_cid', this.config.memberCid);
    const res = await this.http.post('/oauth2/token', form.toString(), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    const parsed = tokenSchema.safeParse(res.data);
    // The body holds the token: the message must not quote it.
    if (!parsed.success) throw ApplicationFailure.retryable(`${VENDOR}: token answer has no access_token/expires_in`, `${VENDOR}.BadTokenResponse`);
    const lifetimeMs = parsed.data.expires_in * 1000;
    return { value: parsed.data.access_token, refreshAt: this.now() + lifetimeMs - Math.min(60_000, lifetimeMs / 2) };
  }
}

export function statusOf(err: unknown): number | undefined {
  if (!(err instanceof ApplicationFailure)) return undefined;
  const d = err.details?.[0] as { status?: unknown } | undefined;
  return typeof d?.status === 'number' ? d.status : undefined;
}

/** Falcon sometimes answers 2xx with an empty `resources` and the reason in `errors`. */
export function envelopeErrors(env: FalconEnvelope<unknown>): string | undefined {
  const msgs = (env.errors ?? []).map((e) => [e.code, e.message].filter((x) => x !== undefined).join(' ')).filter(Boolean);
  return msgs.length ? msgs.join('; ') : undefined;
}
