import type { AxiosRequestConfig } from 'axios';
import { createVendorClient } from '../http';
import { FORM, OAuthSession, statusOf } from '../oauth-session';
import type { DefenderConfig } from './config';

export const VENDOR = 'defender';

/**
 * Authenticated Defender for Endpoint API access: an Entra ID client-credentials token
 * (oauth-session.ts), refreshed two minutes before expiry.
 */
export class DefenderApi {
  private readonly session: OAuthSession;

  constructor(config: DefenderConfig, now: () => number = Date.now) {
    const api = createVendorClient({ vendor: VENDOR, baseURL: config.apiUrl, timeoutMs: config.timeoutMs });
    const login = createVendorClient({ vendor: VENDOR, baseURL: config.loginUrl, timeoutMs: config.timeoutMs });
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: config.clientId, client_secret: config.clientSecret, scope: config.scope });
    this.session = new OAuthSession({
      vendor: VENDOR,
      api,
      fetchToken: () => login.post(`/${encodeURIComponent(config.tenantId)}/oauth2/v2.0/token`, form.toString(), FORM),
      refreshBeforeMs: 120_000,
      now,
    });
  }

  async request<T>(req: AxiosRequestConfig): Promise<T> {
    return (await this.session.request<T>(req)).data;
  }
}

export { statusOf };
