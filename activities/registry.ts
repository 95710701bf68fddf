/**
 * Chooses the implementation behind each kind of system from configuration. Per kind,
 * DRW_<KIND>=<provider> picks one explicitly; unset ("auto") takes the vendor whose
 * variables are set, else — on the embedded default, or with DRW_ALLOW_INPROCESS=1 — the
 * in-process stand-in; otherwise none: the kind fails closed (its steps are blocked with the
 * reason), never a fake that answers "contained". Switching one system to the real vendor is
 * configuration only.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ConfigError } from '../common/config';
import { NO_PROVIDER } from '../remediation/routing';
import type { ActivityDeps } from './index';
import type { ChangeControl, Cmdb, Endpoint, Iac, Identity, Notify, Runbook, Ticketing } from './interfaces';
import { createInProcessSystems, type InProcessSystems } from './inprocess';
import { createJiraTicketing, loadJiraConfig } from './adapters/jira';
import { createServiceNowChange, createServiceNowCmdb, createServiceNowTicketing, loadServiceNowConfig } from './adapters/servicenow';
import { createFileInventory, loadInventoryConfig } from './adapters/inventory';
import { createCrowdStrikeEndpoint, loadCrowdStrikeConfig } from './adapters/crowdstrike';
import { createDefenderEndpoint, loadDefenderConfig } from './adapters/defender';
import { createSlackApprovals, createSlackNotify, loadSlackBotConfig, loadSlackConfig } from './adapters/slack';
import { createWebhookNotify, loadWebhookConfig } from './adapters/webhook';
import { createGitHubIac, loadGitHubIacConfig } from './adapters/github';
import { createHttpCheckVerify } from './adapters/httpcheck';
import { createAwxRunbook, loadAwxConfig } from './adapters/awx';
import { createRundeckRunbook, loadRundeckConfig } from './adapters/rundeck';
import { createOktaIdentity, loadOktaConfig } from './adapters/okta';
import { createEntraIdentity, loadEntraConfig } from './adapters/entra';
import { createOpaPolicyEngine, loadOpaConfig } from './adapters/opa';
import { buildFindingSources } from './finding-sources';

type Provider<T> = { name: string; load: (env: NodeJS.ProcessEnv) => T | undefined };

/** What a kind with no provider does: every call fails, non-retryably, saying what to configure (the workflow blocks the step). */
function none<T extends object>(why: string): T {
  return new Proxy({} as T, {
    get: (_t, name) => (typeof name === 'string' && name !== 'then' ? () => Promise.reject(ApplicationFailure.nonRetryable(why, NO_PROVIDER)) : undefined),
  });
}

function pick<T extends object>(kind: string, env: NodeJS.ProcessEnv, providers: Provider<T>[], fallback: T | undefined): { impl: T; provider: string; unprovided?: string } {
  const variable = `DRW_${kind.toUpperCase()}`;
  const wanted = (env[variable] ?? 'auto').trim().toLowerCase();
  if (wanted === 'inprocess') return { impl: fallback ?? inprocessOnly(kind, env), provider: 'inprocess' };
  const candidates = wanted === 'auto' ? providers : providers.filter((p) => p.name === wanted);
  if (wanted !== 'auto' && candidates.length === 0) {
    throw new ConfigError([`${variable}: unknown provider "${wanted}" (one of ${['inprocess', ...providers.map((p) => p.name)].join(', ')})`]);
  }
  for (const p of candidates) {
    const impl = p.load(env);
    if (impl) return { impl, provider: p.name };
    if (wanted !== 'auto') throw new ConfigError([`${variable}=${wanted}: its variables are not set (see README, Integrations)`]);
  }
  if (fallback) return { impl: fallback, provider: 'inprocess' };
  const why = `no ${kind} provider is configured on this worker: set DRW_${kind.toUpperCase()} (${providers.map((p) => p.name).join(', ')}) and its variables (README, Integrations)`;
  return { impl: none<T>(why), provider: 'none', unprovided: why };
}

/** DRW_<KIND>=inprocess asked for explicitly: the stand-in is built for it. */
function inprocessOnly<T>(kind: string, env: NodeJS.ProcessEnv): T {
  return (createInProcessSystems(inProcessOptions(env)) as unknown as Record<string, T>)[kind];
}

/** The stand-ins' settings a worker's environment may give: who plays the CAB (unset: nobody, changes wait). */
function inProcessOptions(env: NodeJS.ProcessEnv): { changeApprover?: string } {
  const cab = env.DRW_INPROCESS_CAB_APPROVER?.trim();
  return cab ? { changeApprover: cab } : {};
}

export interface Systems extends Omit<ActivityDeps, 'policy'> {
  providers: Record<string, string>;
  /** Kinds with no provider, and why: what planning blocks (workers pass only the kinds they serve). */
  unprovided: Record<string, string>;
  /** The stand-ins, when this process may use them. */
  inprocess?: InProcessSystems;
}

/**
 * `inprocess`: the stand-ins for kinds no vendor is configured for — the embedded default passes
 * them; a production worker gets them only with DRW_ALLOW_INPROCESS=1 (else those kinds fail closed).
 */
export function buildSystems(
  env: NodeJS.ProcessEnv = process.env,
  inprocess: InProcessSystems | undefined = allowInProcess(env) ? createInProcessSystems(inProcessOptions(env)) : undefined,
): Systems {
  const stand = <K extends keyof InProcessSystems>(k: K): InProcessSystems[K] | undefined => inprocess?.[k];
  const ticketing = pick<Ticketing>('ticketing', env, [
    { name: 'jira', load: (e) => ((c) => (c ? createJiraTicketing(c) : undefined))(loadJiraConfig(e)) },
    { name: 'servicenow', load: (e) => ((c) => (c ? createServiceNowTicketing(c) : undefined))(loadServiceNowConfig(e)) },
  ], stand('ticketing'));
  const cmdb = pick<Cmdb>('cmdb', env, [
    { name: 'servicenow', load: (e) => ((c) => (c ? createServiceNowCmdb(c) : undefined))(loadServiceNowConfig(e)) },
    { name: 'inventory', load: (e) => ((c) => (c ? createFileInventory(c.path) : undefined))(loadInventoryConfig(e)) },
  ], stand('cmdb'));
  const iac = pick<Iac>('iac', env, [{ name: 'github', load: (e) => ((c) => (c ? createGitHubIac(c) : undefined))(loadGitHubIacConfig(e)) }], stand('iac'));
  const endpoint = pick<Endpoint>('endpoint', env, [
    { name: 'crowdstrike', load: (e) => ((c) => (c ? createCrowdStrikeEndpoint(c) : undefined))(loadCrowdStrikeConfig(e)) },
    { name: 'defender', load: (e) => ((c) => (c ? createDefenderEndpoint(c) : undefined))(loadDefenderConfig(e)) },
  ], stand('endpoint'));
  const notify = pick<Notify>('notify', env, [
    { name: 'slack', load: (e) => ((c) => (c ? createSlackNotify(c) : undefined))(loadSlackConfig(e)) },
    { name: 'webhook', load: (e) => ((c) => (c ? createWebhookNotify(c) : undefined))(loadWebhookConfig(e)) },
  ], stand('notify'));
  const runbook = pick<Runbook>('runbook', env, [
    { name: 'awx', load: (e) => ((c) => (c ? createAwxRunbook(c) : undefined))(loadAwxConfig(e)) },
    { name: 'rundeck', load: (e) => ((c) => (c ? createRundeckRunbook(c) : undefined))(loadRundeckConfig(e)) },
  ], stand('runbook'));
  const identity = pick<Identity>('identity', env, [
    { name: 'okta', load: (e) => ((c) => (c ? createOktaIdentity(c) : undefined))(loadOktaConfig(e)) },
    { name: 'entra', load: (e) => ((c) => (c ? createEntraIdentity(c) : undefined))(loadEntraConfig(e)) },
  ], stand('identity'));
  // The in-process stand-in opens changes that wait for decideChange: it approves nothing by itself.
  const change = pick<ChangeControl>('change', env, [
    { name: 'servicenow', load: (e) => ((c) => (c ? createServiceNowChange(c) : undefined))(loadServiceNowConfig(e)) },
  ], stand('change'));
  // No in-process policy engine: a decision nobody made must not look like an answer.
  const opa = loadOpaConfig(env);
  // Nor an in-process finding source: a source nobody asked must not say the finding is gone.
  const sources = buildFindingSources(env);
  // Approval requests in chat only with a bot token (the embedded default's Slack simulator gives one): no stand-in posts them.
  const bot = loadSlackBotConfig(env);
  return {
    ticketing: ticketing.impl,
    cmdb: cmdb.impl,
    iac: iac.impl,
    endpoint: endpoint.impl,
    notify: notify.impl,
    runbook: runbook.impl,
    identity: identity.impl,
    change: change.impl,
    policyEngine: opa ? createOpaPolicyEngine(opa) : undefined,
    httpVerify: createHttpCheckVerify({ endpoint: endpoint.impl }),
    unprovided: Object.fromEntries(Object.entries({ ticketing, cmdb, iac, endpoint, notify, runbook, identity, change }).flatMap(([k, v]) => (v.unprovided ? [[k, v.unprovided]] : []))),
    findingSources: sources.sources,
    ...(bot ? { approvalMessages: createSlackApprovals(bot) } : {}),
    providers: { ticketing: ticketing.provider, cmdb: cmdb.provider, iac: iac.provider, endpoint: endpoint.provider, notify: notify.provider, runbook: runbook.provider, identity: identity.provider, change: change.provider, policyEngine: opa ? 'opa' : 'none', source: sources.provider },
    ...(inprocess ? { inprocess } : {}),
  };
}

/** The kinds without a provider among those a worker serves (all when it serves every kind). */
export function unprovidedServed(unprovided: Record<string, string>, roles: readonly string[] | undefined): Record<string, string> {
  return roles ? Object.fromEntries(Object.entries(unprovided).filter(([k]) => roles.includes(k))) : unprovided;
}

/** DRW_ALLOW_INPROCESS=1: a worker may use the in-process stand-ins for kinds without a vendor (demos, tests). */
export function allowInProcess(env: NodeJS.ProcessEnv): boolean {
  const v = (env.DRW_ALLOW_INPROCESS ?? '').trim();
  if (v !== '' && v !== '0' && v !== '1') throw new ConfigError([`DRW_ALLOW_INPROCESS: 1 or 0 (got "${v.slice(0, 20)}")`]);
  return v === '1';
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
