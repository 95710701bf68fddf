/**
 * Sealing on the real dev server: a remediation closes, its run is sealed once into the
 * archive, the record survives `temporal workflow delete`, and the report read back from the
 * archive is the one built from the history; sealing waits for a run still open; the
 * schedule's sweep seals runs nobody sealed; `drw audit verify` and `drw audit export`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Archive, recordKey } from '../../audit/archive';
import { readArchivedHistory } from '../../audit/read';
import { auditTaskQueue, ensureSealSchedule } from '../../audit/schedule';
import { LocalStore } from '../../audit/store-local';
import { createAuditWorker } from '../../audit/worker';
import { runDrw } from '../helpers/drw-cli';
import { connectClient, connectWorker, dataConverterOf } from '../../common/temporal';
import { buildReport } from '../../report/build';
import { fetchRun } from '../../report/fetch';
import { sealWorkflowId, type SealClosedRunInput } from '../../workflows/seal-sweep';
import { tamperOneByte } from '../helpers/archive-suite';
import { eventually, http as call, malwareDetection as malware, ROOT, startHarness, type Harness } from '../helpers/harness';

const tag = Date.now().toString(36);
const archiveDir = mkdtempSync(path.join(process.env.DRW_TEST_TMP ?? os.tmpdir(), 'drw-seal-'));
const scheduleId = `drw-seal-sweep-test-${tag}`;

let h: Harness;
let client: Client;
let connection: Connection;
let workerConnection: NativeConnection;
let archive: Archive;
let workers: Worker[];
let running: Promise<unknown>;
let sealQueue: string;

beforeAll(async () => {
  h = await startHarness();
  ({ client, connection } = await connectClient(h.cfg));
  workerConnection = await connectWorker(h.cfg);
  archive = new Archive(new LocalStore(archiveDir));
  // The seal workflows on their own queue here; in drw they are in the main workflow bundle.
  sealQueue = `${h.cfg.taskQueue}-seal`;
  workers = [
    await createAuditWorker({ cfg: h.cfg, connection: workerConnection, client, archive }),
    await Worker.create({ connection: workerConnection, taskQueue: sealQueue, workflowsPath: require.resolve('../../workflows/seal-sweep'), dataConverter: dataConverterOf(h.cfg) }),
  ];
  running = Promise.all(workers.map((w) => w.run()));
}, 180_000);

afterAll(async () => {
  await client?.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  for (const w of workers ?? []) if (w.getState() === 'RUNNING') w.shutdown();
  await running?.catch(() => undefined);
  await workerConnection?.close();
  await connection?.close();
  await h?.close();
});

async function remediate(asset: string, riskScore: number): Promise<string> {
  const r = await call('POST', `${h.api}/v1/detections`, malware(asset, riskScore));
  expect(r.status).toBe(202);
  return r.body.remediations[0].id;
}

async function closed(id: string): Promise<string> {
  return eventually(async () => {
    const d = await client.workflow.getHandle(id).describe();
    return d.status.name === 'COMPLETED' ? d.runId : undefined;
  }, `${id} completed`);
}

function seal(workflowId: string, runId: string, sealId = sealWorkflowId(runId)) {
  const input: SealClosedRunInput = { workflowId, runId, auditTaskQueue: auditTaskQueue(h.cfg) };
  return client.workflow.start('sealClosedRun', { taskQueue: sealQueue, workflowId: sealId, args: [input] });
}

const cli = (args: string[]) => runDrw(args, { env: { DRW_ARCHIVE: archiveDir }, client });

function temporalCli(args: string[]): string {
  const bin = process.env.DRW_TEMPORAL_CLI ?? execFileSync(path.join(ROOT, 'temporal-dev.sh'), ['path'], { encoding: 'utf8' }).trim();
  return execFileSync(bin, [...args, '--address', process.env.TEMPORAL_ADDRESS!, '--namespace', 'default'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('a remediation closes and is sealed once; after `temporal workflow delete` the archive still gives its report, identical to the one built from its history', async () => {
  const id = await remediate(`seal-host-${tag}`, 95);
  const runId = await closed(id);
  const first = await (await seal(id, runId)).result();
  expect(first.created).toBe(true);
  // A second seal of the same run (the sweep, a retry): no second record.
  const again = await (await seal(id, runId, `${sealWorkflowId(runId)}-again`)).result();
  expect(again).toEqual({ ...first, created: false });

  const stored = (await archive.get(id, runId))!;
  expect(stored.record.metadata).toMatchObject({ remediationId: id, runId, playbook: 'edr-malware', outcome: { workflow: 'completed', status: 'remediated' } });
  const fromTemporal = await fetchRun(client, id, runId);
  expect(stored.record.metadata.historySha256).toBe(fromTemporal.sha256);
  const generatedAt = new Date(stored.record.report.generatedAt);
  expect(stored.record.report).toEqual(buildReport([fromTemporal], { workflowId: id, now: generatedAt }));

  expect(temporalCli(['workflow', 'delete', '--workflow-id', id, '--run-id', runId])).toMatch(/succeeded/);
  // The server deletes in the background (10 s here on an idle machine).
  await eventually(async () => (await fetchRun(client, id, runId).then(() => undefined, () => true)), 'history deleted', 120_000);

  const runs = (await readArchivedHistory(archive, id))!;
  expect(runs.map((r) => [r.runId, r.sha256])).toEqual([[runId, fromTemporal.sha256]]);
  expect(buildReport(runs, { workflowId: id, now: generatedAt })).toEqual(stored.record.report);

  const v = await cli(['audit', 'verify']);
  expect(v).toMatchObject({ code: 0, out: expect.stringMatching(/^ok: \d+ records, chain intact/) });
  expect(v.out).toMatch(/\d+ matched Temporal's history, [1-9]\d* no longer in Temporal/);
  const exported = await cli(['audit', 'export', '--since', '1h']);
  expect(exported.code).toBe(0);
  const lines = exported.out.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.filter((r) => r.workflowId === id)).toEqual([expect.objectContaining({ runId, seq: first.seq, digest: first.digest })]);
  expect((await cli(['audit', 'export', '--since', new Date(Date.now() + 3_600_000).toISOString()])).out).toBe('');
});

test('sealing a run that is still awaiting approval waits, and seals it once it closes', async () => {
  const id = await remediate(`seal-wait-${tag}`, 60);
  await eventually(async () => ((await call('GET', `${h.api}/v1/remediations/${id}`)).body.status === 'awaiting_approval' ? true : undefined), 'awaiting approval');
  const { runId } = await client.workflow.getHandle(id).describe();
  const sealing = await seal(id, runId);
  // The activity waits, heartbeating, while the run is open.
  await eventually(async () => {
    const d = await sealing.describe();
    return d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.length ? true : undefined;
  }, 'sealRun waiting for the run to close');
  expect(await archive.find(id, runId)).toBeUndefined();
  const ok = await call('POST', `${h.api}/v1/remediations/${id}/steps/edr-malware.contain/approve`, { approver: 'alice', groups: ['secops'], reason: 'confirmed' });
  expect(ok.status).toBe(200);
  const r = await sealing.result();
  expect(r.created).toBe(true);
  expect((await archive.get(id, runId))?.record.report.approvals).toEqual([expect.objectContaining({ by: 'alice', decision: 'approve', outcome: 'accepted' })]);
});

test('the schedule is created once, and its sweep seals a closed run nobody sealed', async () => {
  expect(await ensureSealSchedule(client, h.cfg, { scheduleId, workflowTaskQueue: sealQueue })).toBe('created');
  expect(await ensureSealSchedule(client, h.cfg, { scheduleId, workflowTaskQueue: sealQueue })).toBe('unchanged');
  const id = await remediate(`seal-sweep-${tag}`, 95);
  const runId = await closed(id);
  expect(await archive.find(id, runId)).toBeUndefined();
  await client.schedule.getHandle(scheduleId).trigger();
  await eventually(async () => archive.find(id, runId), 'the sweep sealed the run', 60_000);
});

test('an auditor edits one byte of a sealed record: drw audit verify fails at exactly that record', async () => {
  const before = await cli(['audit', 'verify', '--offline']);
  expect(before.code).toBe(0);
  const records = Number(/^ok: (\d+) records/.exec(before.out)![1]);
  expect(records).toBeGreaterThanOrEqual(3);
  await tamperOneByte(archive.store, recordKey(1));
  const after = await cli(['audit', 'verify', '--offline', '--json']);
  expect(after.code).toBe(1);
  expect(JSON.parse(after.out)).toMatchObject({ ok: false, records: 1, broken: { seq: 1, key: recordKey(1), reason: expect.stringMatching(/digest mismatch|not JSON|no digest/) } });
});
