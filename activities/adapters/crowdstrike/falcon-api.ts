import type { AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import { createVendorClient } from '../http';
import { FORM, OAuthSession, statusOf } from '../oauth-session';
import { cloudUrl, type CrowdStrikeConfig } from './config';

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
 * The token answer names the tenant's cloud in X-Cs-Region (as a 201, or a 308 to that
 * cloud's token URL); like CrowdStrike's SDKs, drw then talks to that cloud, asking it for a
 * token of its own (gofalcon's autodiscovery), since another cloud's API refuses the token.
 */
export class FalconApi {
  private readonly session: OAuthSession;
  private readonly http: AxiosInstance;

  constructor(private readonly config: CrowdStrikeConfig, now: () => number = Date.now) {
    this.http = createVendorClient({ vendor: VENDOR, baseURL: config.baseUrl, timeoutMs: config.timeoutMs });
    this.session = new OAuthSession({ vendor: VENDOR, api: this.http, fetchToken: () => this.fetchToken(), refreshBeforeMs: 60_000, now });
  }

  /** The API base URL in use (the tenant's cloud once a token answer named it). */
  get baseUrl(): string {
    return String(this.http.defaults.baseURL);
  }

  private async fetchToken(): Promise<AxiosResponse<unknown>> {
    const discovering = this.config.autodiscover && this.baseUrl === this.config.baseUrl;
    let res = await this.postToken().catch((err: unknown) => {
      throw discovering ? withGovCloudHint(err) : err;
    });
    const region = header(res, 'x-cs-region');
    const target = region && this.config.followRegion ? cloudUrl(region, this.config.cloudUrls) : undefined;
    if (target && target !== this.baseUrl) {
      this.http.defaults.baseURL = target;
      res = await this.postToken();
    }
    if (res.status === 308) {
      throw ApplicationFailure.create({
        message: `${VENDOR}: the token endpoint sent this client to the ${region ?? 'unknown'} cloud (${String(header(res, 'location') ?? '')}); set FALCON_CLOUD, or FALCON_BASE_URL to that cloud`,
        type: `${VENDOR}.WrongCloud`,
        nonRetryable: true,
        details: [{ status: 308 }],
      });
    }
    return res;
  }

  private postToken(): Promise<AxiosResponse<unknown>> {
    const form = new URLSearchParams({ client_id: this.config.clientId, client_secret: this.config.clientSecret });
    if (this.config.memberCid) form.set('member_cid', this.config.memberCid);
    // A 308 names the right cloud: it is read here, not followed (redirects are off: credentials).
    return this.http.post('/oauth2/token', form.toString(), { ...FORM, validateStatus: (s) => (s >= 200 && s < 300) || s === 308 });
  }

  async request<T>(req: AxiosRequestConfig): Promise<FalconEnvelope<T>> {
    return (await this.session.request<FalconEnvelope<T>>(req)).data ?? {};
  }
}

export { statusOf };

/** US-1 refuses GovCloud credentials like wrong ones: the refusal names the likelier fix too. */
function withGovCloudHint(err: unknown): unknown {
  const status = statusOf(err);
  if (!(err instanceof ApplicationFailure) || (status !== 401 && status !== 403)) return err;
  return ApplicationFailure.create({
    message: `${err.message}; a GovCloud tenant sets FALCON_CLOUD=us-gov-1 or us-gov-2 (autodiscovery through US-1 does not reach GovCloud)`,
    type: err.type ?? undefined,
    nonRetryable: err.nonRetryable ?? undefined,
    details: err.details ? [...err.details] : undefined,
  });
}

function header(res: AxiosResponse<unknown>, name: string): string | undefined {
  const v = (res.headers as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** Falcon sometimes answers 2xx with an empty `resources` and the reason in `errors`. */
export function envelopeErrors(env: FalconEnvelope<unknown>): string | undefined {
  const msgs = (env.errors ?? []).map((e) => [e.code, e.message].filter((x) => x !== undefined).join(' ')).filter(Boolean);
  return msgs.length ? msgs.join('; ') : undefined;
}
