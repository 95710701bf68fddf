/**
 * Chooses the implementation behind each kind of system from configuration. Per kind,
 * DRW_<KIND>=<provider> picks one explicitly; unset ("auto") takes the vendor whose
 * variables are set, else the in-process default. Switching one system to the real vendor
 * is configuration only.
 */
import { ConfigError } from '../common/config';
import type { ActivityDeps } from './index';
import type { Cmdb, Endpoint, Iac, Identity, Notify, Runbook, Ticketing } from './interfaces';
import { createInProcessSystems, type InProcessSystems } from './inprocess';
import { createJiraTicketing, loadJiraConfig } from './adapters/jira';
import { createServiceNowCmdb, createServiceNowTicketing, loadServiceNowConfig } from './adapters/servicenow';
import { createFileInventory, loadInventoryConfig } from './adapters/inventory';
import { createCrowdStrikeEndpoint, loadCrowdStrikeConfig } from './adapters/crowdstrike';
import { createDefenderEndpoint, loadDefenderConfig } from './adapters/defender';
import { createSlackNotify, loadSlackConfig } from './adapters/slack';
import { createWebhookNotify, loadWebhookConfig } from './adapters/webhook';
import { createGitHubIac, loadGitHubIacConfig } from './adapters/github';
import { createHttpCheckVerify } from './adapters/httpcheck';
import { createAwxRunbook, loadAwxConfig } from './adapters/awx';
import { createRundeckRunbook, loadRundeckConfig } from './adapters/rundeck';
import { createOktaIdentity, loadOktaConfig } from './adapters/okta';
import { createEntraIdentity, loadEntraConfig } from './adapters/entra';
import { createOpaPolicyEngine, loadOpaConfig } from './adapters/opa';

type Provider<T> = { name: string; load: (env: NodeJS.ProcessEnv) => T | undefined };

function pick<T>(kind: string, env: NodeJS.ProcessEnv, providers: Provider<T>[], fallback: T): { impl: T; provider: string } {
  const variable = `DRW_${kind.toUpperCase()}`;
  const wanted = (env[variable] ?? 'auto').trim().toLowerCase();
  if (wanted === 'inprocess') return { impl: fallback, provider: 'inprocess' };
  const candidates = wanted === 'auto' ? providers : providers.filter((p) => p.name === wanted);
  if (wanted !== 'auto' && candidates.length === 0) {
    throw new ConfigError([`${variable}: unknown provider "${wanted}" (one of ${['inprocess', ...providers.map((p) => p.name)].join(', ')})`]);
  }
  for (const p of candidates) {
    const impl = p.load(env);
    if (impl) return { impl, provider: p.name };
    if (wanted !== 'auto') throw new ConfigError([`${variable}=${wanted}: its variables are not set (see README, Integrations)`]);
  }
  return { impl: fallback, provider: 'inprocess' };
}

export interface Systems extends Omit<ActivityDeps, 'policy'> {
  providers: Record<string, string>;
  inprocess: InProcessSystems;
}

export function buildSystems(env: NodeJS.ProcessEnv = process.env, inprocess = createInProcessSystems()): Systems {
  const ticketing = pick<Ticketing>('ticketing', env, [
    { name: 'jira', load: (e) => ((c) => (c ? createJiraTicketing(c) : undefined))(loadJiraConfig(e)) },
    { name: 'servicenow', load: (e) => ((c) => (c ? createServiceNowTicketing(c) : undefined))(loadServiceNowConfig(e)) },
  ], inprocess.ticketing);
  const cmdb = pick<Cmdb>('cmdb', env, [
    { name: 'servicenow', load: (e) => ((c) => (c ? createServiceNowCmdb(c) : undefined))(loadServiceNowConfig(e)) },
    { name: 'inventory', load: (e) => ((c) => (c ? createFileInventory(c.path) : undefined))(loadInventoryConfig(e)) },
  ], inprocess.cmdb);
  const iac = pick<Iac>('iac', env, [{ name: 'github', load: (e) => ((c) => (c ? createGitHubIac(c) : undefined))(loadGitHubIacConfig(e)) }], inprocess.iac);
  const endpoint = pick<Endpoint>('endpoint', env, [
    { name: 'crowdstrike', load: (e) => ((c) => (c ? createCrowdStrikeEndpoint(c) : undefined))(loadCrowdStrikeConfig(e)) },
    { name: 'defender', load: (e) => ((c) => (c ? createDefenderEndpoint(c) : undefined))(loadDefenderConfig(e)) },
  ], inprocess.endpoint);
  const notify = pick<Notify>('notify', env, [
    { name: 'slack', load: (e) => ((c) => (c ? createSlackNotify(c) : undefined))(loadSlackConfig(e)) },
    { name: 'webhook', load: (e) => ((c) => (c ? createWebhookNotify(c) : undefined))(loadWebhookConfig(e)) },
  ], inprocess.notify);
  const runbook = pick<Runbook>('runbook', env, [
    { name: 'awx', load: (e) => ((c) => (c ? createAwxRunbook(c) : undefined))(loadAwxConfig(e)) },
    { name: 'rundeck', load: (e) => ((c) => (c ? createRundeckRunbook(c) : undefined))(loadRundeckConfig(e)) },
  ], inprocess.runbook);
  const identity = pick<Identity>('identity', env, [
    { name: 'okta', load: (e) => ((c) => (c ? createOktaIdentity(c) : undefined))(loadOktaConfig(e)) },
    { name: 'entra', load: (e) => ((c) => (c ? createEntraIdentity(c) : undefined))(loadEntraConfig(e)) },
  ], inprocess.identity);
  // No in-process policy engine: a decision nobody made must not look like an answer.
  const opa = loadOpaConfig(env);
  return {
    ticketing: ticketing.impl,
    cmdb: cmdb.impl,
    iac: iac.impl,
    endpoint: endpoint.impl,
    notify: notify.impl,
    runbook: runbook.impl,
    identity: identity.impl,
    policyEngine: opa ? createOpaPolicyEngine(opa) : undefined,
    httpVerify: createHttpCheckVerify({ endpoint: endpoint.impl }),
    providers: { ticketing: ticketing.provider, cmdb: cmdb.provider, iac: iac.provider, endpoint: endpoint.provider, notify: notify.provider, runbook: runbook.provider, identity: identity.provider, policyEngine: opa ? 'opa' : 'none' },
    inprocess,
  };
}

/**
 * Checks at start what an adapter can check before its first call (the ServiceNow CMDB's
 * configured fields against sys_dictionary), so a wrong field stops the process with its
 * variable's name instead of failing remediations one lookup at a time.
 */
export async function preflightSystems(systems: Pick<Systems, 'cmdb'>): Promise<void> {
  const cmdb = systems.cmdb as Cmdb & { preflight?: () => Promise<void> };
  try {
    await cmdb.preflight?.();
  } catch (e) {
    const f = e as { nonRetryable?: boolean; message?: string };
    // A vendor that cannot be reached now is not a configuration error: the activity retries later.
    if (f.nonRetryable) throw new ConfigError([String(f.message)]);
  }
}
