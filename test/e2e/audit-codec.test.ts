/**
 * The payload codec on the real dev server: with a key configured, what a remediation carries
 * (detection, approval, activity inputs and results, memo) is ciphertext in Temporal's
 * history while search attributes stay readable; the sealed record holds it decoded; after a
 * key rotation old histories still decode, report and replay; the codec server answers the
 * Temporal UI's requests and `temporal workflow show --codec-endpoint`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, type Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createInProcessSystems } from '../../activities/inprocess';
import { PolicyStore } from '../../activities/policy-store';
import { RemediationService } from '../../api/service';
import { Archive } from '../../audit/archive';
import { startCodecServer } from '../../audit/codec-server';
import { draftRecord, fetchDecodedRun } from '../../audit/seal';
import { LocalStore } from '../../audit/store-local';
import { loadConfig, type DrwConfig } from '../../common/config';
import { connectClient, connectWorker, dataConverterOf, payloadCodecOf, replayDataConverterOf } from '../../common/temporal';
import { buildReport } from '../../report/build';
import { fetchRun } from '../../report/fetch';
import { historyFromJson } from '../../report/history-json';
import { firstPayload, type RunHistory } from '../../report/history';
import { ACTIVITIES_OF } from '../../remediation/routing';
import { ACTIVITY_KINDS } from '../../workflows/input';
import { DEFAULT_POLICY, eventually, malwareDetection as malware, ROOT } from '../helpers/harness';

const tag = Date.now().toString(36);
const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const taskQueue = `drw-codec-${randomUUID().slice(0, 8)}`;
const UI = 'http://127.0.0.1:8233';
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Generation {
  cfg: DrwConfig;
  client: Client;
  service: RemediationService;
  codec: PayloadCodec;
  stop(): Promise<void>;
}

/** drw's workers and client with the given key ring (what workers/index.ts does once it passes dataConverterOf). */
async function start(keys: Record<string, string>, current: string): Promise<Generation> {
  const cfg = loadConfig({
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    DRW_TASK_QUEUE: taskQueue,
    DRW_POLICY_DIR: DEFAULT_POLICY,
    DRW_TIME_SCALE: '0.01',
    DRW_CODEC_KEYS: JSON.stringify(keys),
    DRW_CODEC_KEY_ID: current,
  });
  const policy = new PolicyStore(cfg.policyDir);
  const activities = createActivities({ ...createInProcessSystems({ autoMergeAfterMs: 0, changeApprover: 'CAB Manager' }), policy: () => policy.get() });
  const dataConverter = dataConverterOf(cfg)!;
  const nc = await connectWorker(cfg);
  const workers = [
    await Worker.create({ connection: nc, taskQueue: cfg.taskQueue, workflowBundle: { codePath: process.env.DRW_TEST_WORKFLOW_BUNDLE! }, dataConverter }),
    ...(await Promise.all(
      ACTIVITY_KINDS.map((kind) =>
        Worker.create({ connection: nc, taskQueue: cfg.activityQueues[kind], activities: Object.fromEntries(ACTIVITIES_OF[kind].map((n) => [n, activities[n]])), dataConverter }),
      ),
    )),
  ];
  const running = Promise.all(workers.map((w) => w.run()));
  const { client, connection } = await connectClient(cfg);
  return {
    cfg,
    client,
    service: new RemediationService(client, cfg, () => policy.get()),
    // Compression, then encryption: the chain drw's workers use (common/temporal.ts).
    codec: payloadCodecOf(cfg),
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await nc.close();
      await connection.close();
    },
  };
}

let plainConnection: Connection;
let plain: Client;
let gen: Generation;
let firstId: string;
let firstRun: RunHistory;

beforeAll(async () => {
  ({ client: plain, connection: plainConnection } = await connectClient(loadConfig({ TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS })));
  gen = await start({ k1 }, 'k1');
}, 120_000);
afterAll(async () => {
  await gen?.stop();
  await plainConnection?.close();
});

/** Every payload of a history JSON with where it sits ("...indexedFields.DrwStatus"). */
function payloads(v: unknown, at = ''): { at: string; encoding: string; keyId?: string }[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => payloads(x, `${at}[${i}]`));
  if (typeof v !== 'object' || v === null) return [];
  const o = v as Record<string, any>;
  if (o.metadata && typeof o.metadata.encoding === 'string') {
    const keyId = o.metadata['encryption-key-id'];
    return [{ at, encoding: Buffer.from(o.metadata.encoding, 'base64').toString(), ...(keyId ? { keyId: Buffer.from(keyId, 'base64').toString() } : {}) }];
  }
  return Object.entries(o).flatMap(([k, x]) => payloads(x, at ? `${at}.${k}` : k));
}

async function remediated(g: Generation, id: string): Promise<void> {
  await eventually(async () => ((await g.client.workflow.getHandle(id).describe()).status.name === 'COMPLETED' ? true : undefined), `${id} completed`, 60_000);
}

test('with a key configured, what a remediation carries is ciphertext in history, search attributes stay readable, and the sealed record holds it decoded', async () => {
  const asset = `codec-host-${tag}`;
  const { id } = await gen.service.submit(malware(asset, 60), 'tester');
  firstId = id;
  await eventually(async () => ((await gen.service.state(id)).status === 'awaiting_approval' ? true : undefined), 'awaiting approval');
  await gen.service.decide(id, 'approve', { stepId: 'edr-malware.contain', approver: 'alice', groups: ['secops'], reason: 'confirmed on the console' });
  await remediated(gen, id);

  firstRun = await fetchRun(plain, id);
  const all = payloads(firstRun.events);
  const searchAttributes = all.filter((p) => /searchAttributes\.indexedFields\./.test(p.at));
  // patched() markers hold only the patch name; the SDK keeps them out of codecs.
  const rest = all.filter((p) => !searchAttributes.includes(p) && !/markerRecordedEventAttributes\.details\.patch-data/.test(p.at));
  expect(searchAttributes.length).toBeGreaterThan(0);
  expect(new Set(searchAttributes.map((p) => p.encoding))).toEqual(new Set(['json/plain']));
  for (const where of ['workflowExecutionStartedEventAttributes.input', 'activityTaskScheduledEventAttributes.input', 'activityTaskCompletedEventAttributes.result', 'workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.args', 'workflowExecutionCompletedEventAttributes.result']) {
    expect(rest.filter((p) => p.at.includes(where)).length).toBeGreaterThan(0);
  }
  expect(rest.filter((p) => p.encoding !== 'binary/encrypted')).toEqual([]);
  expect(new Set(rest.map((p) => p.keyId))).toEqual(new Set(['k1']));
  // Without the codec nobody reads the detection from the history.
  expect(firstPayload((firstRun.events[0] as Record<string, any>).workflowExecutionStartedEventAttributes.input)).toEqual({ encoding: 'binary/encrypted', note: 'payload not readable without its codec' });

  const archive = new Archive(new LocalStore(mkdtempSync(path.join(process.env.DRW_TEST_TMP ?? os.tmpdir(), 'drw-codec-archive-'))), gen.cfg.audit.keys);
  const draft = await draftRecord(plain, gen.codec, id, firstRun.runId);
  expect(payloads(draft.history).filter((p) => p.encoding === 'binary/encrypted')).toEqual([]);
  expect(draft.report.detection?.title).toBe(`Malware on ${asset}`);
  expect(draft.report.approvals).toEqual([expect.objectContaining({ by: 'alice', reason: 'confirmed on the console', outcome: 'accepted' })]);
  const { seq } = await archive.append(draft);
  const atRest = (await archive.store.get(`records/${String(seq).padStart(12, '0')}.json`))!.toString();
  expect(atRest).toMatch(/^\{"drwEncrypted":1/);
  expect(atRest).not.toContain(asset);
});

test('a memo set by a client with the codec is ciphertext on the server and readable through the codec', async () => {
  const workflowId = `drw-codec-memo-${tag}`;
  // Nobody polls this queue: the workflow only has to exist for its memo to be stored.
  const h = await gen.client.workflow.start('remediation', { taskQueue: `${taskQueue}-nobody`, workflowId, args: [], memo: { ticketNote: 'host belongs to the payroll team' } });
  try {
    // Without the codec the SDK cannot even read it: look at what the server stores.
    await expect(plain.workflow.getHandle(workflowId).describe()).rejects.toThrow(/Unknown encoding: binary\/encrypted/);
    const raw = await plain.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } });
    expect(Buffer.from(raw.workflowExecutionInfo!.memo!.fields!.ticketNote.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect((await h.describe()).memo).toEqual({ ticketNote: 'host belongs to the payroll team' });
  } finally {
    await h.terminate('memo checked');
  }
});

test('after rotating to a new key, new runs use it while the old run still decodes, reports and replays', async () => {
  await gen.stop();
  gen = await start({ k1, k2 }, 'k2');
  const { id } = await gen.service.submit(malware(`codec-rotated-${tag}`, 95), 'tester');
  await remediated(gen, id);
  const newRun = await fetchRun(plain, id);
  expect(new Set(payloads(newRun.events).filter((p) => p.encoding === 'binary/encrypted').map((p) => p.keyId))).toEqual(new Set(['k2']));

  const old = await fetchDecodedRun(plain, gen.codec, firstId, firstRun.runId);
  expect(buildReport([old]).outcome).toMatchObject({ status: 'remediated', playbook: 'edr-malware' });
  // A client made by connectClient decodes with its own codec (what report/fetch.ts can use).
  expect((await fetchDecodedRun(gen.client, undefined, firstId, firstRun.runId)).sha256).toBe(old.sha256);

  const bundle = { workflowBundle: { codePath: process.env.DRW_TEST_WORKFLOW_BUNDLE! } };
  // Codec on: the encrypted histories, as Temporal keeps them, replay with the key ring (as workers read, and decoding only, as replays read).
  for (const run of [firstRun, newRun]) {
    for (const dataConverter of [dataConverterOf(gen.cfg), replayDataConverterOf(gen.cfg)]) await Worker.runReplayHistory({ ...bundle, dataConverter }, historyFromJson(run.text), run.runId);
  }
  // Codec off: the decoded history (what the archive keeps) replays without any key.
  await Worker.runReplayHistory(bundle, historyFromJson(old.text), old.runId);
});

test('the Temporal UI calls the codec server: CORS preflight from its origin, then POST /decode with X-Namespace; `temporal workflow show --codec-endpoint` reads the history', async () => {
  const srv = await startCodecServer({ codec: gen.codec, namespace: 'default', corsOrigins: [UI], host: '127.0.0.1', port: 0 });
  try {
    const pre = await fetch(`${srv.url}/decode`, { method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(UI);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/i);
    const stranger = await fetch(`${srv.url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();

    const start = firstRun.events[0] as Record<string, any>;
    const input = start.workflowExecutionStartedEventAttributes.input.payloads;
    const post = (op: string, body: unknown, ns = 'default') =>
      fetch(`${srv.url}/${op}`, { method: 'POST', headers: { origin: UI, 'content-type': 'application/json', 'x-namespace': ns }, body: JSON.stringify(body) });
    const decoded = await post('decode', { payloads: input });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(UI);
    const [p] = ((await decoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads;
    expect(p.metadata.encoding).toBe(b64('json/plain'));
    expect(JSON.parse(Buffer.from(p.data, 'base64').toString()).detection.title).toBe(`Malware on codec-host-${tag}`);

    const plainPayload = { metadata: { encoding: b64('json/plain') }, data: b64('"hello"') };
    const enc = (await (await post('encode', { payloads: [plainPayload] })).json()) as { payloads: { metadata: Record<string, string> }[] };
    expect(enc.payloads[0].metadata['encryption-key-id']).toBe(b64('k2'));
    expect(((await (await post('decode', enc)).json()) as { payloads: unknown[] }).payloads).toEqual([plainPayload]);
    expect((await post('decode', { payloads: input }, 'another-namespace')).status).toBe(403);

    const bin = process.env.DRW_TEMPORAL_CLI ?? execFileSync(path.join(ROOT, 'temporal-dev.sh'), ['path'], { encoding: 'utf8' }).trim();
    // Asynchronously: the codec server answering the CLI runs in this process. Without --namespace, as people type it
    // (the CLI then sends an empty X-Namespace).
    const show = async (extra: string[]) => (await promisify(execFile)(bin, ['workflow', 'show', '--workflow-id', firstId, '--address', process.env.TEMPORAL_ADDRESS!, '--output', 'json', ...extra], { encoding: 'utf8', timeout: 60_000 })).stdout;
    const startInput = async (extra: string[]) => JSON.parse(await show(extra)).events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
    expect((await startInput([])).metadata.encoding).toBe(b64('binary/encrypted'));
    const shown = await startInput(['--codec-endpoint', srv.url]);
    expect(shown.metadata.encoding).toBe(b64('json/plain'));
    expect(JSON.parse(Buffer.from(shown.data, 'base64').toString()).detection.title).toBe(`Malware on codec-host-${tag}`);
  } finally {
    await srv.close();
  }
});
