/**
 * A sealing writer for seal-kill.test.ts, run from dist/ as a child process so the test can
 * SIGKILL it mid-write: seals runs <from>..<to> of a recorded history into the archive folder
 * <dir>, in a shuffled order.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Archive } from '../../audit/archive';
import { draftFromRun } from '../../audit/seal';
import { LocalStore } from '../../audit/store-local';
import { runFromJson } from '../../report/history';

export const killRunId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
export const killWorkflowId = (i: number) => `drw-kill-${i}`;

async function main(): Promise<void> {
  const [dir, from, to] = process.argv.slice(2);
  const root = path.resolve(__dirname, '..', '..', ...(path.basename(path.resolve(__dirname, '..', '..')) === 'dist' ? ['..'] : []));
  const history = JSON.parse(readFileSync(path.join(root, 'test', 'unit', 'report', 'fixtures', 'edr-approved.history.json'), 'utf8')) as unknown;
  const archive = new Archive(new LocalStore(dir));
  const order: number[] = [];
  for (let i = Number(from); i <= Number(to); i++) order.push(i);
  order.sort(() => Math.random() - 0.5);
  for (const i of order) {
    const workflowId = killWorkflowId(i);
    await archive.append(draftFromRun(workflowId, { ...runFromJson(history, killRunId(i)), workflowId }));
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  });
}
