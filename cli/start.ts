/**
 * `npm start`: drw on its embedded default. Makes sure the local Temporal dev server runs
 * (through temporal-dev.sh), starts the workers and the HTTP API, and stops what it
 * started on Ctrl-C.
 *
 * `node dist/cli/start.js --api-only`: the HTTP API alone, for deployments whose workers are
 * separate processes (node dist/workers/main.js); it starts no dev server and no simulators.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ConfigError, isLocalDevServer, loadConfig, REPO_ROOT, type DrwConfig } from '../common/config';
import { createLogger, installSdkLogger, type Logger } from '../common/logger';
import { createInProcessSystems } from '../activities/inprocess';
import { startApp } from './app';
import { assertSafeExposure, createAuth } from '../api/auth';
import { loadAccessPolicy } from '../api/auth/access';
import { buildSystems, preflightSystems } from '../activities/registry';
import { DEMO_SLACK_USERS, simulatesJira, simulatesSlack, startEmbeddedSimulators } from '../simulators/embedded';
import { codecServerUrl, LOOPBACK, startCodecServer } from '../audit/codec-server';
import { payloadCodecOf } from '../common/temporal';

/** Where this process serves the payload codec for the local Web UI; none beyond loopback (that is `drw codec-server`'s, with its token). */
function localCodecUrl(cfg: DrwConfig): string | undefined {
  const { host, port } = cfg.audit.codecServer;
  return LOOPBACK.has(host) && port > 0 ? codecServerUrl(host, port) : undefined;
}

/**
 * drw's payloads are compressed (and encrypted when keys are set): the dev server's Web UI reads
 * them through this codec server, which temporal-dev.sh names to it. A port already taken (another
 * drw, or `drw codec-server`) leaves the UI with that one.
 */
async function serveCodec(cfg: DrwConfig, logger: Logger): Promise<{ url: string; close(): Promise<void> } | undefined> {
  if (!localCodecUrl(cfg)) return undefined;
  try {
    return await startCodecServer({ ...cfg.audit.codecServer, codec: payloadCodecOf(cfg), namespace: cfg.temporal.namespace });
  } catch (e) {
    logger.warn({ err: (e as Error).message }, 'payload codec server not started; the Temporal UI shows compressed payloads unless another codec server answers there');
    return undefined;
  }
}

function devServer(command: 'start' | 'stop' | 'status', env: NodeJS.ProcessEnv): boolean {
  try {
    execFileSync(path.join(REPO_ROOT, 'temporal-dev.sh'), [command], { stdio: ['ignore', 'inherit', 'inherit'], env });
    return true;
  } catch {
    return false;
  }
}

async function main(argv: string[]): Promise<void> {
  const unknown = argv.filter((a) => a !== '--api-only');
  if (unknown.length) throw new ConfigError([`unknown argument(s) ${unknown.join(' ')} (only --api-only)`]);
  const apiOnly = argv.includes('--api-only');
  const embedded = !apiOnly && process.env.DRW_EMBEDDED_SIMULATORS !== '0';
  // The Jira simulator tells this API about tickets people close, signed as Jira signs: with a
  // secret made for this run, given to both through the environment (unless the user set one).
  if (embedded && simulatesJira(process.env) && !process.env.DRW_JIRA_WEBHOOK_SECRET) process.env.DRW_JIRA_WEBHOOK_SECRET = randomBytes(32).toString('base64url');
  // The same for the simulated Slack app: its button presses are signed with the run's signing secret, and its people are mapped.
  const slackSim = embedded && simulatesSlack(process.env) && !process.env.SLACK_BOT_TOKEN;
  if (slackSim && !process.env.DRW_SLACK_SIGNING_SECRET) {
    process.env.DRW_SLACK_SIGNING_SECRET = randomBytes(32).toString('base64url');
    process.env.DRW_SLACK_USERS ??= JSON.stringify(DEMO_SLACK_USERS);
  }
  // The simulated CAB decides when a person runs its curl: drw reads changes often, not every 5 minutes.
  if (embedded && !process.env.DRW_CHANGE_POLL_INTERVAL) process.env.DRW_CHANGE_POLL_INTERVAL = '10s';
  const cfg = loadConfig();
  const logger = createLogger(cfg.logLevel);
  installSdkLogger(logger);

  // Before starting anything: a non-loopback DRW_API_HOST needs strict authentication, and the access policy must be valid (api/auth).
  assertSafeExposure(cfg.api.host, cfg.auth);
  createAuth(cfg.auth, { access: loadAccessPolicy(cfg.api.accessPolicy) });

  let startedServer = false;
  if (!apiOnly && isLocalDevServer(cfg)) {
    const [host, port] = cfg.temporal.address.split(':');
    const codecUrl = localCodecUrl(cfg);
    const env = { ...process.env, TEMPORAL_IP: host, TEMPORAL_PORT: port, TEMPORAL_NAMESPACE: cfg.temporal.namespace, ...(codecUrl ? { TEMPORAL_UI_CODEC_ENDPOINT: codecUrl } : {}) };
    const wasUp = devServer('status', env);
    // Started, or (already up) given the search attributes this drw upserts that an older one lacked.
    if (!devServer('start', env) && !wasUp) {
      throw new Error('could not start the Temporal dev server (see the temporal-dev messages above)');
    }
    startedServer = !wasUp;
  }

  // Vendors the user has not configured are played by local simulators (DRW_EMBEDDED_SIMULATORS=0 turns them off).
  const dataDir = process.env.DRW_DATA_DIR ?? path.join(REPO_ROOT, '.drw');
  const sims = embedded ? await startEmbeddedSimulators(dataDir, process.env, { warn: (m) => logger.warn(m) }) : undefined;
  const systems = apiOnly ? undefined : buildSystems({ ...(sims?.env ?? {}), ...process.env }, createInProcessSystems({ autoMergeAfterMs: cfg.inprocessAutoMergeMs, changeApprover: cfg.inprocessCabApprover }));
  if (systems) {
    await preflightSystems(systems);
    logger.info({ providers: systems.providers, simulators: sims?.urls ?? {}, resumed: sims?.restored ?? [] }, 'integrations');
  }
  const app = await startApp({ cfg, logger, systems, workers: !apiOnly });
  const codec = isLocalDevServer(cfg) ? await serveCodec(cfg, logger) : undefined;
  const webhooks = sims && app.apiUrl ? sims.connectApi(app.apiUrl) : [];
  if (webhooks.length) logger.info({ webhooks }, 'simulator webhooks');

  const lines = [
    '',
    'drw is running',
    `  API          ${app.apiUrl}   (GET /healthz, POST /v1/detections[/{format}], GET /v1/remediations/{id})`,
    `  Temporal UI  ${cfg.temporal.uiUrl}/namespaces/${cfg.temporal.namespace}/workflows`,
    `  Temporal     ${cfg.temporal.address} (namespace ${cfg.temporal.namespace}, task queue ${cfg.taskQueue})`,
    ...(codec ? [`  Codec        ${codec.url}   (payloads are compressed: the Temporal UI and \`temporal workflow show --codec-endpoint\` read them through it)`] : []),
    `  Policy       ${cfg.policyDir} (version ${app.policy.get().version})`,
    systems
      ? `  Systems      ${Object.entries(systems.providers).map(([k, v]) => `${k}=${v}${sims?.urls[v === 'inprocess' ? '' : v] ? ' (simulator)' : ''}`).join(', ')}`
      : `  Workers      none in this process (--api-only): run node dist/workers/main.js against task queue ${cfg.taskQueue}`,
    ...(sims?.urls.jira
      ? [`  Jira (sim)   ${sims.urls.jira}; close an issue as a person: curl -XPOST ${sims.urls.jira}/_admin/issues/SEC-1/close -H 'content-type: application/json' -d '{"as":"alice"}'`]
      : []),
    ...(sims?.urls.slack && slackSim
      ? [
          `  Slack (sim)  ${sims.urls.slack}; approval requests: curl ${sims.urls.slack}/_admin/messages; approve as alice (secops): curl -XPOST ${sims.urls.slack}/_admin/messages/<ts>/click -H 'content-type: application/json' -d '{"user":"U0ALICE","action":"approve","reason":"checked"}'`,
        ]
      : []),
    ...(sims?.urls.servicenow
      ? [`  ServiceNow   ${sims.urls.servicenow}; approve a change as the CAB: curl -XPOST ${sims.urls.servicenow}/_admin/changes/CHG0030001/approve -H 'content-type: application/json' -d '{"as":"alice"}'`]
      : []),
    '  Ctrl-C stops drw' + (startedServer ? ' and the Temporal dev server it started' : ''),
    '',
  ];
  process.stderr.write(lines.join('\n') + '\n');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await app.close();
    await codec?.close();
    if (sims) {
      logger.info({ simulated: sims.summary() }, 'what the simulated vendors received');
      await sims.close();
    }
    if (startedServer) devServer('stop', process.env);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  await app.done;
}

main(process.argv.slice(2)).catch((e) => {
  if (e instanceof ConfigError) {
    process.stderr.write(`drw: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`drw: ${(e as Error).message}\n`);
  process.exit(1);
});
