import type { AxiosRequestConfig } from 'axios';
import { createVendorClient } from '../http';
import { FORM, OAuthSession, statusOf } from '../oauth-session';
import type { CrowdStrikeConfig } from './config';

export const VENDOR = 'crowdstrike';

/** Falcon's envelope for every API answer, errors included. */
export interface FalconEnvelope<T> {
  meta?: Record<string, unknown>;
  resources?: T[] | null;
  errors?: Array<{ code?: number; message?: string }> | null;
}

/**
 * Authenticated Falcon API access (OAuth2 client credentials, oauth-session.ts); Falcon
 * rate-limits token requests hard, so the token is reused until a minute before expiry.
 */
export class FalconApi {
  private readonly session: OAuthSession;

  constructor(config: CrowdStrikeConfig, now: () => number = Date.now) {
    const http = createVendorClient({ vendor: VENDOR, baseURL: config.baseUrl, timeoutMs: config.timeoutMs });
    const form = new URLSearchParams({ client_id: config.clientId, client_secret: config.clientSecret });
    if (config.memberCid) form.set('member_cid', config.memberCid);
    this.session = new OAuthSession({ vendor: VENDOR, api: http, fetchToken: () => http.post('/oauth2/token', form.toString(), FORM), refreshBeforeMs: 60_000, now });
  }

  async request<T>(req: AxiosRequestConfig): Promise<FalconEnvelope<T>> {
    return (await this.session.request<FalconEnvelope<T>>(req)).data ?? {};
  }
}

export { statusOf };

/** Falcon sometimes answers 2xx with an empty `resources` and the reason in `errors`. */
export function envelopeErrors(env: FalconEnvelope<unknown>): string | undefined {
  const msgs = (env.errors ?? []).map((e) => [e.code, e.message].filter((x) => x !== undefined).join(' ')).filter(Boolean);
  return msgs.length ? msgs.join('; ') : undefined;
}
