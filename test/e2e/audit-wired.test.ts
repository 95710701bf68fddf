/**
 * The audit archive as drw runs it (DRW_ARCHIVE set): a remediation that closes is sealed by
 * the workflow it starts on close, and once its history is deleted from Temporal the report
 * route answers from the archive with the same report, and the aggregate report still counts it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runDrw } from '../helpers/drw-cli';
import { connectClient } from '../../common/temporal';
import { eventually, http, malwareDetection, startHarness, type Harness } from '../helpers/harness';

let h: Harness;
const dir = mkdtempSync(path.join(process.env.DRW_TEST_TMP ?? os.tmpdir(), 'drw-archive-'));
beforeAll(async () => {
  h = await startHarness({ env: { DRW_ARCHIVE: dir, DRW_SEAL_SWEEP_EVERY: '1h' } });
}, 180_000);
afterAll(async () => {
  await h?.close();
});

test('a remediation closes: sealed on close; after temporal workflow delete, GET /report answers from the archive, unchanged', async () => {
  const asset = `wired-${Date.now().toString(36)}`;
  const r = await http('POST', `${h.api}/v1/detections`, malwareDetection(asset, 95));
  const id = r.body.remediations[0].id as string;
  await eventually(async () => ((await http('GET', `${h.api}/v1/remediations/${id}`)).body.status === 'remediated' ? true : undefined), 'remediated');
  const archive = h.app.archive!;
  const sealed = await eventually(async () => ((await archive.runsOf(id)).length ? await archive.runsOf(id) : undefined), 'sealed on close', 60_000);
  expect(sealed.map((x) => x.record.metadata.remediationId)).toEqual([id]);
  const before = (await http('GET', `${h.api}/v1/remediations/${id}/report?format=json`)).body;

  const temporal = process.env.DRW_TEMPORAL_CLI!;
  execFileSync(temporal, ['workflow', 'delete', '--workflow-id', id, '--address', process.env.TEMPORAL_ADDRESS!, '--namespace', 'default'], { stdio: 'pipe' });
  await eventually(async () => ((await http('GET', `${h.api}/v1/remediations/${id}/history`)).status === 404 ? true : undefined), 'history gone', 120_000);

  const after = await http('GET', `${h.api}/v1/remediations/${id}/report?format=json`);
  expect(after.status).toBe(200);
  expect({ ...after.body, generatedAt: undefined }).toEqual({ ...before, generatedAt: undefined });

  // The CLI too: the history export (the what-if's input) still has it, digest unchanged.
  const exported = await cli(['history', 'export', id]);
  expect({ code: exported.code, err: exported.err }).toMatchObject({ code: 0 });
  expect(exported.err).toContain(before.history.runs[0].sha256);

  // The aggregate report still counts it, from the archive (filtered like the visibility query).
  const agg = await cli(['report', 'aggregate', '--asset', asset, '--format', 'json']);
  expect(agg.code).toBe(0);
  expect(JSON.parse(agg.out).remediations).toEqual([expect.objectContaining({ id, status: 'remediated' })]);
  const other = await cli(['report', 'aggregate', '--asset', `${asset}-other`, '--format', 'json']);
  expect(JSON.parse(other.out).remediations).toEqual([]);
});

async function cli(args: string[]) {
  const { client, connection } = await connectClient(h.cfg);
  try {
    return await runDrw(args, { env: { DRW_ARCHIVE: dir }, client });
  } finally {
    await connection.close();
  }
}
