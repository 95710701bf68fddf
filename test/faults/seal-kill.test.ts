/**
 * Sealing survives SIGKILL: three writer processes seal the same 30 runs into one archive
 * folder while one of them is SIGKILLed at random moments and restarted. Every run ends up
 * sealed exactly once, in one linear chain that verifies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Archive } from '../../audit/archive';
import { LocalStore } from '../../audit/store-local';
import { verifyArchive } from '../../audit/verify';
import { report, ROOT, sleep, tmpDir } from './helpers';
import { killRunId, killWorkflowId } from './seal-writer';

const WRITER = path.join(ROOT, 'dist', 'test', 'faults', 'seal-writer.js');
const RUNS = 30;

function writer(dir: string): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(process.execPath, [WRITER, dir, '1', String(RUNS)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<number | null>((resolve, reject) =>
    child.once('exit', (code, signal) => (code !== 0 && signal !== 'SIGKILL' ? reject(new Error(`writer exited ${code}: ${err.slice(-2000)}`)) : resolve(code))),
  );
  return { child, done };
}

test('three writers seal the same 30 runs while one is SIGKILLed and restarted: each run once, one chain', async () => {
  const dir = tmpDir('seal-kill');
  const steady = [writer(dir), writer(dir)];
  let kills = 0;
  let victim = writer(dir);
  // Eight kills at random moments (process start included), then it may finish.
  while (kills < 8) {
    const finished = await Promise.race([victim.done.then(() => true), sleep(50 + Math.random() * 400).then(() => false)]);
    if (finished) break;
    victim.child.kill('SIGKILL');
    await victim.done;
    kills++;
    victim = writer(dir);
  }
  await victim.done;
  await Promise.all(steady.map((w) => w.done));

  const archive = new Archive(new LocalStore(dir));
  const v = await verifyArchive(archive);
  const sealed = new Map<string, number>();
  for await (const item of archive.scan()) {
    const k = `${item.stored!.record.workflowId}/${item.stored!.record.runId}`;
    sealed.set(k, (sealed.get(k) ?? 0) + 1);
  }
  const leftovers = readdirSync(path.join(dir, '.tmp')).length;
  report('seal-kill', { runs: RUNS, kills, records: v.records, duplicates: [...sealed.values()].filter((n) => n > 1).length, chain: v.ok ? 'intact' : v.broken, leftoverTempFiles: leftovers });
  expect(kills).toBeGreaterThanOrEqual(3);
  expect(victim.child.exitCode).toBe(0);
  expect(v).toMatchObject({ ok: true, records: RUNS });
  expect(sealed.size).toBe(RUNS);
  expect([...sealed.values()].every((n) => n === 1)).toBe(true);
  for (let i = 1; i <= RUNS; i++) expect(await archive.find(killWorkflowId(i), killRunId(i))).toBeDefined();
});
