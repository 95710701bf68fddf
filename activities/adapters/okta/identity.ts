import type { AccountState, Identity, IdentityActionInput, IdentityActionResult } from '../../interfaces';
import { nonRetryable } from '../http';
import { statusOf } from '../oauth-session';
import type { OktaConfig } from './config';
import { OktaApi, VENDOR } from './okta-api';

interface OktaUser {
  id: string;
  status: string;
  profile?: { login?: string };
}

/** Statuses in which nobody can sign in: suspended, deactivated, or never activated. */
const SIGN_IN_IMPOSSIBLE = new Set(['SUSPENDED', 'DEPROVISIONED', 'STAGED']);

/**
 * Okta accounts through the Users and User Lifecycle APIs. Disabling is a *suspend*, not a
 * deactivation: suspend keeps the user's app assignments, groups, factors and password, and
 * unsuspend returns the very same account to ACTIVE, which is what the compensation on a false
 * positive needs; deactivation deprovisions the user from downstream apps and can only be undone
 * by a new activation (a fresh password or activation email). Okta has no idempotency key:
 * every change reads the user's status first and does nothing when it is already as wanted.
 */
export function createOktaIdentity(config: OktaConfig, api = new OktaApi(config)): Identity {
  const getUser = (userId: string) => api.request<OktaUser>({ method: 'GET', url: `/api/v1/users/${encodeURIComponent(userId)}` });

  async function lifecycle(user: OktaUser, op: 'suspend' | 'unsuspend', want: string): Promise<IdentityActionResult> {
    try {
      await api.request({ method: 'POST', url: `/api/v1/users/${user.id}/lifecycle/${op}` });
    } catch (err) {
      // A refused transition (400: wrong status) or a lost answer: another attempt, a person, or
      // this very request may have made the change. Anything else (429, 5xx) is retried as is.
      const status = statusOf(err);
      if (status !== undefined && status !== 400) throw err;
      const now = await getUser(user.id);
      if (now.status === want) return { ...stateOf(now), existing: true };
      throw err;
    }
    return { ...stateOf({ ...user, status: want }), existing: false };
  }

  return {
    async revokeSessions(input: IdentityActionInput) {
      const user = await getUser(input.userId);
      // oauthTokens: refresh and access tokens issued to apps die with the sessions.
      await api.request({ method: 'DELETE', url: `/api/v1/users/${user.id}/sessions`, params: { oauthTokens: true } });
      return { ...stateOf(user), revokedAt: new Date().toISOString() };
    },
    async disableAccount(input) {
      const user = await getUser(input.userId);
      if (!stateOf(user).enabled) return { ...stateOf(user), existing: true };
      if (user.status !== 'ACTIVE') {
        throw nonRetryable(VENDOR, `user ${user.profile?.login ?? user.id} is ${user.status}; Okta suspends only ACTIVE users, so a person must decide (unlock then suspend, or deactivate)`, 'CannotSuspend');
      }
      return lifecycle(user, 'suspend', 'SUSPENDED');
    },
    async enableAccount(input) {
      const user = await getUser(input.userId);
      if (user.status === 'SUSPENDED') return lifecycle(user, 'unsuspend', 'ACTIVE');
      if (stateOf(user).enabled) return { ...stateOf(user), existing: true };
      throw nonRetryable(VENDOR, `user ${user.profile?.login ?? user.id} is ${user.status}, not suspended; drw only undoes its own suspension, so reactivating is for a person in Okta`, 'CannotUnsuspend');
    },
    async getAccountState(input): Promise<AccountState> {
      return stateOf(await getUser(input.userId));
    },
  };
}

function stateOf(user: OktaUser): AccountState {
  return { system: VENDOR, userId: user.id, login: user.profile?.login, enabled: !SIGN_IN_IMPOSSIBLE.has(user.status), status: user.status };
}
