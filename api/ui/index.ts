/**
 * The approval pages, assembled from the API's parts: the service (and so its signed approval
 * path), the access policy, the person authentication (OIDC tokens are verified by it) and the
 * Temporal Web UI's address. `startApp` (cli/app.ts) hands the result to createApi.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { ConfigError, type DrwConfig } from '../../common/config';
import type { Logger } from '../../common/logger';
import type { ApiAuth } from '../auth';
import type { AccessPolicy } from '../auth/access';
import type { RemediationService } from '../service';
import { serviceBackend } from './backend';
import { createOidcLogin } from './oidc';
import { registerUi } from './routes';
import { loadSessionKey } from './session';

export interface UiAssembly {
  cfg: DrwConfig;
  service: RemediationService;
  client: Client;
  access: AccessPolicy;
  auth: ApiAuth;
  logger: Logger;
}

export function approvalPages(a: UiAssembly): (app: FastifyInstance) => Promise<void> {
  const ui = a.cfg.api.ui;
  let session: ReturnType<typeof loadSessionKey>;
  try {
    session = loadSessionKey(ui.sessionKeyFile);
  } catch (e) {
    throw new ConfigError([`DRW_UI_SESSION_KEY_FILE: ${(e as Error).message}`]);
  }
  const { key, created } = session;
  a.logger.info({ sessionKey: `${ui.sessionKeyFile}${created ? ' (created)' : ''}`, signIn: a.auth.users ? (ui.oidc ? `OpenID Connect ${ui.oidc.issuer}` : 'none (set DRW_OIDC_*)') : 'local identity picker (loopback default)' }, 'approval pages at /ui');
  const redirectUrl = ui.oidc?.redirectUrl ?? `${a.cfg.api.publicUrl.replace(/\/$/, '')}/ui/auth/callback`;
  const oidc =
    ui.oidc && a.auth.users
      ? createOidcLogin(ui.oidc, {
          redirectUrl,
          identify: async (token) => {
            const c = await a.auth.authorize({ headers: { authorization: `Bearer ${token}` } }, 'read', async () => Buffer.alloc(0));
            if (c.kind !== 'person') throw new Error('the access token names no person');
            return { user: c.user, groups: c.groups };
          },
        })
      : undefined;
  return (app) =>
    registerUi(app, {
      backend: serviceBackend(a.service, a.client, a.cfg.taskQueue),
      access: a.access,
      settings: ui,
      sessionKey: key,
      localPicker: !a.auth.users,
      ...(oidc ? { oidc } : {}),
      secureCookies: a.cfg.api.publicUrl.startsWith('https:'),
      temporalUi: { url: a.cfg.temporal.uiUrl, namespace: a.cfg.temporal.namespace },
      logger: a.logger,
    });
}
