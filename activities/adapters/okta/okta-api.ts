import { randomUUID, sign, type KeyObject } from 'node:crypto';
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import { createVendorClient } from '../http';
import { FORM, OAuthSession } from '../oauth-session';
import type { OktaConfig } from './config';

export const VENDOR = 'okta';

/**
 * Authenticated Okta management API access: an API token (`Authorization: SSWS`), or a service
 * app's OAuth 2.0 client credentials with a signed client assertion (private_key_jwt), the only
 * client authentication Okta accepts for its API scopes; the token is cached (oauth-session.ts).
 */
export class OktaApi {
  private readonly http: AxiosInstance;
  private readonly session?: OAuthSession;

  constructor(config: OktaConfig, now: () => number = Date.now) {
    this.http = createVendorClient({
      vendor: VENDOR,
      baseURL: config.orgUrl,
      timeoutMs: config.timeoutMs,
      headers: config.apiToken ? { Authorization: `SSWS ${config.apiToken}` } : {},
    });
    const oauth = config.oauth;
    if (oauth) {
      const tokenUrl = `${config.orgUrl}/oauth2/v1/token`;
      this.session = new OAuthSession({
        vendor: VENDOR,
        api: this.http,
        fetchToken: () =>
          this.http.post(
            '/oauth2/v1/token',
            new URLSearchParams({
              grant_type: 'client_credentials',
              scope: oauth.scopes,
              client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
              client_assertion: clientAssertion(oauth.clientId, tokenUrl, oauth.privateKey, oauth.keyId, now),
            }).toString(),
            FORM,
          ),
        refreshBeforeMs: 120_000,
        now,
      });
    }
  }

  async request<T>(req: AxiosRequestConfig): Promise<T> {
    return (this.session ? await this.session.request<T>(req) : await this.http.request<T>(req)).data;
  }
}

/** RFC 7523 client assertion: iss = sub = client id, aud = the token endpoint, valid five minutes, unique jti. */
export function clientAssertion(clientId: string, audience: string, key: KeyObject, keyId: string | undefined, now: () => number): string {
  const iat = Math.floor(now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'RS256', typ: 'JWT', ...(keyId ? { kid: keyId } : {}) })}.${part({ iss: clientId, sub: clientId, aud: audience, iat, exp: iat + 300, jti: randomUUID() })}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), key).toString('base64url')}`;
}
