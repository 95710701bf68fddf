/**
 * The approval pages' and Slack approvals' settings: a half-configured identity provider or Slack
 * app stops drw at start with the variable named, never a secret.
 */
import { ConfigError, loadConfig } from '../../../common/config';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
};
const JWT = { DRW_JWT_JWKS_URL: 'https://idp.example.com/jwks', DRW_JWT_ISSUER: 'https://idp.example.com', DRW_JWT_AUDIENCE: 'drw' };

test('an identity provider without the API’s person authentication, or without its client, is refused', () => {
  expect(problems({ DRW_OIDC_ISSUER: 'https://idp.example.com', DRW_OIDC_CLIENT_ID: 'drw-ui' })).toEqual([expect.stringMatching(/^DRW_OIDC_ISSUER: the browser sign-in needs person authentication too/)]);
  expect(problems({ ...JWT, DRW_OIDC_ISSUER: 'https://idp.example.com' })).toEqual([expect.stringMatching(/^DRW_OIDC_CLIENT_ID: required with DRW_OIDC_ISSUER/)]);
  expect(problems({ ...JWT, DRW_OIDC_ISSUER: 'http://idp.example.com', DRW_OIDC_CLIENT_ID: 'c' })).toEqual(['DRW_OIDC_ISSUER: must be https; plain http is accepted only on loopback']);
  expect(problems({ ...JWT, DRW_OIDC_ISSUER: 'https://idp.example.com', DRW_OIDC_CLIENT_ID: 'c', DRW_OIDC_SCOPES: 'profile' })).toEqual(['DRW_OIDC_SCOPES: must include "openid"']);
  expect(loadConfig({ ...JWT, DRW_OIDC_ISSUER: 'https://idp.example.com', DRW_OIDC_CLIENT_ID: 'c' }).api.ui.oidc).toEqual({ issuer: 'https://idp.example.com', clientId: 'c', scopes: 'openid profile email groups' });
});

test('Slack users without a signing secret, or a malformed user map, are refused without echoing the secret', () => {
  expect(problems({ DRW_SLACK_USERS: '{}' })).toEqual([expect.stringMatching(/^DRW_SLACK_USERS: set, but DRW_SLACK_SIGNING_SECRET is not/)]);
  const secret = 'a-signing-secret-0123456789';
  const p = problems({ DRW_SLACK_SIGNING_SECRET: secret, DRW_SLACK_USERS: '{"alice": {"user": "alice"}}' });
  expect(p).toEqual([expect.stringMatching(/^DRW_SLACK_USERS\.alice: /)]);
  expect(p.join()).not.toContain(secret);
  expect(loadConfig({ DRW_SLACK_SIGNING_SECRET: secret, DRW_SLACK_USERS: '{"U024BE7LH": {"user": "alice", "groups": ["secops"]}}' }).api.slack).toEqual({ signingSecret: secret, users: { U024BE7LH: { user: 'alice', groups: ['secops'] } } });
});
