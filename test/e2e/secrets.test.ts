/**
 * Secrets come only from the environment and never leave it: with distinctive credentials for
 * every vendor (Jira token, ServiceNow password, Falcon client secret, GitHub token, Slack
 * webhook URLs), one remediation runs through every system (CMDB, ticket, notification,
 * containment, pull request, verification, release) with vendor errors on the way (5xx, 429,
 * a connection reset, a 401 that makes the Falcon adapter re-authenticate, and a Jira 400 that
 * fails closing the ticket for good). Then no secret, in any encoding the adapters use, may
 * appear in the app's log output (pino at debug, the SDK's logs, the console, stdout/stderr),
 * the workflow history, its search attributes and memo, the query results or the API's answer.
 * Positive controls show the secrets really were sent to the vendors and that the error
 * messages really are in the logs and the history that were searched.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSystems } from '../../activities/registry';
import { startApp, type App } from '../../cli/app';
import { loadConfig } from '../../common/config';
import { createLogger, installSdkLogger } from '../../common/logger';
import { decisionsQuery, planQuery, stateQuery } from '../../signals';
import { decompressed } from '../helpers/payloads';
import {
  adapterSystems,
  http,
  injectFaults,
  leaks,
  ROOT,
  searchableJson,
  secretForms,
  startVendorSims,
  until,
  type Credentials,
  type FaultTally,
  type VendorSims,
} from '../helpers/sims';

// Everything the app logs, from the first line on: its own logger (debug) also carries the SDK's logs.
const logLines: string[] = [];
const logger = createLogger('debug', { write: (line: string) => void logLines.push(line) });
installSdkLogger(logger);

const tag = randomBytes(5).toString('hex');
const credentials: Credentials = {
  jiraEmail: 'drw-bot@example.com',
  jiraToken: `JIRAtok${tag}Xq7Vs3cr3t`,
  serviceNowUser: 'drw.integration',
  serviceNowPassword: `SNpw${tag}Zk2Ms3cr3t`,
  falconClientId: `falcon-client-${tag}`,
  falconClientSecret: `FALCONsec${tag}Wp9Ls3cr3t`,
  githubToken: `ghp_${tag}GitHubS3cr3tT0ken`,
};
const host = { name: `sec-${tag}`, deviceId: `sec${tag}000001` };
const PLAYBOOK = 'critical-vuln-internet-prod';

let dataDir: string;
let sims: VendorSims;
let app: App;
let api: string;
const tallies: Record<string, FaultTally> = {};
const printed: string[] = [];
const restore: (() => void)[] = [];

beforeAll(async () => {
  // Whatever reaches the console or the process's stdout/stderr is log output too.
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args.map((a) => (typeof a === 'string' ? a : searchableJson(a))).join(' ')));
    restore.push(() => spy.mockRestore());
  }
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => (stream.write = write as typeof stream.write));
  }

  dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-secrets-'));
  sims = await startVendorSims({ dataDir, credentials, hosts: [host], autoMergeAfterMs: 0 });
  tallies.servicenow = injectFaults(sims.servicenow.server, { queue: [{ kind: 'status', status: 500 }] });
  tallies.slack = injectFaults(sims.slack, { queue: [{ kind: 'status', status: 503 }, { kind: 'reset' }] });
  tallies.crowdstrike = injectFaults(sims.crowdstrike, {
    // On the device API: the 401 makes the adapter fetch a new token (sending the client secret again).
    queue: [{ kind: 'status', status: 503 }, { kind: 'rateLimit', retryAfterSeconds: 1 }, { kind: 'status', status: 401, body: { errors: [{ code: 401, message: 'access denied, invalid bearer token' }] } }],
    match: /^\w+ \/devices\//,
  });
  tallies.github = injectFaults(sims.github.server, { queue: [{ kind: 'status', status: 502 }] });
  // Closing the ticket comments first; Jira refuses that comment with a 400, a permanent error.
  tallies.jira = injectFaults(sims.jira.server, {
    queue: [{ kind: 'status', status: 400, body: { errorMessages: [], errors: { comment: 'Comment body can not be empty!' } } }],
    match: /^POST \/rest\/api\/3\/issue\/[^/]+\/comment$/,
  });

  const cfg = loadConfig({
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    DRW_TASK_QUEUE: `drw-secrets-${randomUUID().slice(0, 8)}`,
    DRW_API_PORT: '1',
    DRW_POLICY_DIR: path.join(ROOT, 'policies', 'default'),
    DRW_TIME_SCALE: '0.01',
    DRW_LOG_LEVEL: 'debug',
  });
  cfg.api.port = 0;
  const systems = buildSystems(sims.env);
  expect(systems.providers).toMatchObject({ ticketing: 'jira', cmdb: 'servicenow', iac: 'github', endpoint: 'crowdstrike', notify: 'slack' });
  app = await startApp({
    cfg,
    logger,
    systems: adapterSystems(systems),
    workflowBundle: process.env.DRW_TEST_WORKFLOW_BUNDLE ? { codePath: process.env.DRW_TEST_WORKFLOW_BUNDLE } : undefined,
  });
  api = app.apiUrl!;
});

afterAll(async () => {
  await app?.close();
  await sims?.close();
  for (const r of restore.reverse()) r();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('no configured secret appears in logs, history, search attributes, memo, queries or the API', async () => {
  const started = await http('POST', `${api}/v1/detections`, {
    source: 'trivy',
    rule: 'CVE-2021-23337',
    title: `lodash command injection on ${host.name}`,
    severity: 'critical',
    category: 'vulnerability',
    asset: { id: host.name, type: 'host' },
    details: { repository: 'acme/infra', package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'app/package.json' },
  });
  expect(started.status).toBe(202);
  const id: string = started.body.remediations[0].id;
  let last: any;
  const state = async () => {
    const r = await http('GET', `${api}/v1/remediations/${id}`);
    last = r.body;
    return r.status === 200 ? r.body : undefined;
  };
  const seen = () => `status ${last?.status}; ${JSON.stringify(last?.decisions?.slice(-14)?.map((d: any) => d.summary))}`;
  // While activities retry, their last failure (with the vendor's message) is visible through
  // describe() and the UI, though not in history: sample it for the whole run.
  const handle = app.service.handle(id);
  const pendingSamples: string[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const d = await handle.describe().catch(() => undefined);
      if (d?.raw.pendingActivities?.length) pendingSamples.push(searchableJson(await decompressed(d.raw.pendingActivities)));
      await new Promise((r) => setTimeout(r, 150));
    }
  })();

  await until(async () => ((await state())?.plan?.steps?.find((s: any) => s.id === `${PLAYBOOK}.contain`)?.status === 'awaiting_approval' ? true : undefined), 'contain awaiting approval', 30_000, seen);
  const ok = await http('POST', `${api}/v1/remediations/${id}/steps/${PLAYBOOK}.contain/approve`, { approver: 'alice', groups: ['secops'], reason: 'confirmed' });
  expect(ok.status).toBe(200);
  const done = await until(async () => ((await state())?.status === 'remediated' ? last : undefined), 'remediated', 60_000, seen).finally(() => (sampling = false));
  await sampler;

  // Every system was used.
  expect(done.plan.steps.map((s: any) => [s.id.replace(`${PLAYBOOK}.`, ''), s.status])).toEqual([
    ['ticket', 'done'],
    ['notify', 'done'],
    ['contain', 'done'],
    ['patch', 'done'],
    ['verify', 'done'],
    ['release', 'done'],
  ]);
  expect(done.decisions.some((d: any) => /CMDB .* found/.test(d.summary))).toBe(true);
  // The Jira 400 was permanent: closing the ticket failed with the vendor's message.
  const closeNote = done.decisions.find((d: any) => d.summary.startsWith('could not close the ticket'));
  expect(closeNote?.summary).toMatch(/jira: POST \/rest\/api\/3\/issue\/SEC-1\/comment .*answered 400: comment: Comment body can not be empty!/);
  for (const [name, t] of Object.entries(tallies)) expect([name, t.total() > 0]).toEqual([name, true]);

  // Everything that could carry a secret.
  // Read as written: drw's workers compress larger payloads (audit/compression.ts), which would hide a secret from a plain search.
  const history = searchableJson(await decompressed(await handle.fetchHistory()));
  const description = await handle.describe();
  const attributes = searchableJson({
    searchAttributes: description.searchAttributes,
    typedSearchAttributes: description.typedSearchAttributes,
    memo: description.memo,
    staticSummary: description.staticSummary,
    staticDetails: description.staticDetails,
    raw: await decompressed(description.raw),
  });
  const queries = searchableJson({ state: await handle.query(stateQuery), plan: await handle.query(planQuery), decisions: await handle.query(decisionsQuery) });
  const apiAnswer = JSON.stringify((await http('GET', `${api}/v1/remediations/${id}`)).body);
  await new Promise((r) => setTimeout(r, 200)); // let the last log lines land
  const logs = logLines.join('') + printed.join('\n');
  const pending = pendingSamples.join('\n');

  const webhookSecrets = Object.fromEntries(
    Object.entries(sims.webhooks).flatMap(([channel, url]) => [
      [`slack webhook ${channel}`, url],
      [`slack webhook path ${channel}`, new URL(url).pathname],
      [`slack webhook token ${channel}`, new URL(url).pathname.split('/').pop()!],
    ]),
  );
  const forms = secretForms(
    {
      'Jira API token': credentials.jiraToken,
      'ServiceNow password': credentials.serviceNowPassword,
      'Falcon client secret': credentials.falconClientSecret,
      'GitHub token': credentials.githubToken,
      ...webhookSecrets,
    },
    [
      [credentials.jiraEmail, credentials.jiraToken],
      [credentials.serviceNowUser, credentials.serviceNowPassword],
      ['x-access-token', credentials.githubToken],
    ],
  );

  // Positive controls: the secrets were used for real, the scanner finds them where they are,
  // and the places searched hold the error messages the vendors' faults produced.
  const sent = searchableJson({
    jira: sims.jira.server.requests,
    servicenow: sims.servicenow.server.requests,
    crowdstrike: sims.crowdstrike.requests,
    github: sims.github.server.requests,
  });
  expect(leaks(sent, forms)).toEqual(
    expect.arrayContaining(['basic auth of drw-bot@example.com', 'basic auth of drw.integration', 'Falcon client secret', 'GitHub token']),
  );
  expect(sims.slack.messages.length).toBeGreaterThan(0);
  expect(logs).toMatch(/answered 400: comment: Comment body can not be empty!/);
  // The worker logs every failed attempt (by failure type: the SDK's error meta loses the message in pino).
  for (const type of ['servicenow.ServerError', 'slack.ServerError', 'slack.Unavailable', 'crowdstrike.ServerError', 'crowdstrike.RateLimited', 'github.ServerError', 'jira.ClientError']) {
    expect([type, logs.includes(`"type":"${type}"`)]).toEqual([type, true]);
  }
  expect(sims.crowdstrike.tokenRequests().length).toBeGreaterThanOrEqual(2);
  expect(pending).toMatch(/slack: channel \\?"secops\\?" .*(answered 503|failed)/);
  expect(pending).toMatch(/crowdstrike: GET \/devices\/queries\/devices\/v1 .*answered (503|429)/);
  expect(logs).toMatch(/"level":20/); // debug lines were captured too
  expect(history).toMatch(/answered 400: comment: Comment body can not be empty!/);
  expect(history).toContain(host.name);
  // Larger payloads are compressed in history: searched decompressed.
  const compressed = Buffer.from('binary/zlib+drw-1').toString('base64');
  expect(searchableJson(await handle.fetchHistory())).toContain(compressed);
  expect(history).not.toContain(compressed);
  expect(attributes).toContain(host.name);

  expect({
    logs: leaks(logs, forms),
    history: leaks(history, forms),
    searchAttributesAndMemo: leaks(attributes, forms),
    pendingActivityFailures: leaks(pending, forms),
    queries: leaks(queries, forms),
    api: leaks(apiAnswer, forms),
  }).toEqual({ logs: [], history: [], searchAttributesAndMemo: [], pendingActivityFailures: [], queries: [], api: [] });
}, 90_000);
