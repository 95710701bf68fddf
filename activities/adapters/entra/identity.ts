import type { AccountState, Identity, IdentityActionInput } from '../../interfaces';
import { createVendorClient } from '../http';
import { FORM, OAuthSession } from '../oauth-session';
import type { EntraConfig } from './config';

export const VENDOR = 'entra';

interface GraphUser {
  id: string;
  userPrincipalName?: string;
  accountEnabled?: boolean;
}

/**
 * Microsoft Entra ID accounts through Microsoft Graph v1.0 with an app-only token (client
 * credentials, oauth-session.ts): revokeSignInSessions invalidates refresh tokens and session
 * cookies, `accountEnabled` blocks and restores sign-in. Graph application permissions:
 * User.RevokeSessions.All, User.EnableDisableAccount.All and User.Read.All. Setting
 * accountEnabled is idempotent by nature; the account is read first so the result says
 * whether anything changed.
 */
export function createEntraIdentity(config: EntraConfig, now: () => number = Date.now): Identity {
  const api = createVendorClient({ vendor: VENDOR, baseURL: `${config.graphUrl}/v1.0`, timeoutMs: config.timeoutMs });
  const login = createVendorClient({ vendor: VENDOR, baseURL: config.loginUrl, timeoutMs: config.timeoutMs });
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: config.clientId, client_secret: config.clientSecret, scope: config.scope });
  const session = new OAuthSession({
    vendor: VENDOR,
    api,
    fetchToken: () => login.post(`/${encodeURIComponent(config.tenantId)}/oauth2/v2.0/token`, form.toString(), FORM),
    refreshBeforeMs: 120_000,
    now,
  });

  // An id or a userPrincipalName; UPNs of guests carry '#', hence the encoding.
  const path = (userId: string) => `/users/${encodeURIComponent(userId)}`;
  const getUser = async (userId: string) =>
    (await session.request<GraphUser>({ method: 'GET', url: path(userId), params: { $select: 'id,userPrincipalName,accountEnabled' } })).data;

  async function setEnabled(input: IdentityActionInput, enabled: boolean) {
    const user = await getUser(input.userId);
    if (user.accountEnabled === enabled) return { ...stateOf(user), existing: true };
    await session.request({ method: 'PATCH', url: path(user.id), data: { accountEnabled: enabled }, headers: { 'Content-Type': 'application/json' } });
    return { ...stateOf({ ...user, accountEnabled: enabled }), existing: false };
  }

  return {
    async revokeSessions(input) {
      const user = await getUser(input.userId);
      await session.request({ method: 'POST', url: `${path(user.id)}/revokeSignInSessions` });
      return { ...stateOf(user), revokedAt: new Date(now()).toISOString() };
    },
    disableAccount: (input) => setEnabled(input, false),
    enableAccount: (input) => setEnabled(input, true),
    async getAccountState(input): Promise<AccountState> {
      return stateOf(await getUser(input.userId));
    },
  };
}

function stateOf(user: GraphUser): AccountState {
  const enabled = user.accountEnabled !== false;
  return { system: VENDOR, userId: user.id, login: user.userPrincipalName, enabled, status: enabled ? 'enabled' : 'disabled' };
}
