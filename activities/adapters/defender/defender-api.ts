import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { createVendorClient } from '../http';
import type { DefenderConfig } from './config';

export const VENDOR = 'defender';

const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive() });

interface CachedToken {
  value: string;
  refreshAt: number;
}

/**
 * Authenticated Defender for Endpoint API access: an Entra ID client-credentials token cached
 * until shortly before expiry, shared by concurrent calls, refreshed once on a 401.
 */
export class DefenderApi {
  private readonly api: AxiosInstance;
  private readonly login: AxiosInstance;
  private token?: CachedToken;
  private pending?: Promise<CachedToken>;

  constructor(
    private readonly config: DefenderConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.api = createVendorClient({ vendor: VENDOR, baseURL: config.apiUrl, timeoutMs: config.timeoutMs });
    this.login = createVendorClient({ vendor: VENDOR, baseURL: config.loginUrl, timeoutMs: config.timeoutMs });
  }

  async request<T>(req: AxiosRequestConfig): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      try {
        const res = await this.api.request<T>({
          ...req,
          headers: { ...(req.headers as Record<string, string>), Authorization: `Bearer ${token.value}` },
        });
        return res.data;
      } catch (err) {
        // A 401 is refused before anything happens, so one repeat with a fresh token is safe.
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
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.config.clientId,
      client_secret: this.config.clientSecret,
      scope: this.config.scope,
    });
    const res = await this.login.post(`/${encodeURIComponent(this.config.tenantId)}/oauth2/v2.0/token`, form.toString(), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    const parsed = tokenSchema.safeParse(res.data);
    // The body holds the token: the message must not quote it.
    if (!parsed.success) throw ApplicationFailure.retryable(`${VENDOR}: token answer has no access_token/expires_in`, `${VENDOR}.BadTokenResponse`);
    const lifetimeMs = parsed.data.expires_in * 1000;
    return { value: parsed.data.access_token, refreshAt: this.now() + lifetimeMs - Math.min(120_000, lifetimeMs / 2) };
  }
}

export function statusOf(err: unknown): number | undefined {
  if (!(err instanceof ApplicationFailure)) return undefined;
  const d = err.details?.[0] as { status?: unknown } | undefined;
  return typeof d?.status === 'number' ? d.status : undefined;
}
