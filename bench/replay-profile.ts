/**
 * Replays the histories a bench run saved (BENCH_SAVE_HISTORIES=dir) again and again, so a
 * profiler sees only the replay: `node --cpu-prof dist/bench/replay-profile.js dir [drw|baseline] [rounds]`.
 * Prints histories/s per round, and with REPLAY_COUNT_PROMISES=1 the promises workflow code created per history
 * (the SDK's promise hook captures a stack trace for each one a workflow creates).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { bundleDrwWorkflows } from '../workers/workflow-bundle';
import { CompressionCodec } from '../audit/compression';
import { decodingOnly } from '../common/temporal';

async function main(): Promise<void> {
  const [dir, which = 'drw', roundsArg = '5'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: replay-profile <dir> [drw|baseline] [rounds]');
  const raw = JSON.parse(readFileSync(path.join(dir, `${which}.json`), 'utf8')) as { workflowId: string; history: string }[];
  const histories = raw.map((h) => ({ workflowId: h.workflowId, history: temporal.api.history.v1.History.decode(Buffer.from(h.history, 'base64')) }));
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const workflowBundle =
    which === 'drw' ? await bundleDrwWorkflows(quiet) : await bundleWorkflowCode({ workflowsPath: require.resolve('./baseline-workflow'), logger: quiet });
  let promises = 0;
  // Only the workflow context's (another realm's Promise): the SDK's own promises in this realm take no stack trace.
  if (process.env.REPLAY_COUNT_PROMISES === '1') v8.promiseHooks.onInit((p) => void (p.constructor !== Promise && promises++));
  for (let r = 0; r < Number(roundsArg); r++) {
    promises = 0;
    const t0 = performance.now();
    let n = 0;
    let errors = 0;
    for await (const res of Worker.runReplayHistories({ workflowBundle, dataConverter: decodingOnly({ payloadCodecs: [new CompressionCodec()] }), replayName: `profile-${r}` }, histories)) {
      n++;
      if (res.error) errors++;
    }
    const s = (performance.now() - t0) / 1000;
    const counted = process.env.REPLAY_COUNT_PROMISES === '1' ? `, ${Math.round(promises / n)} promises workflow code created per history` : '';
    process.stdout.write(`${which} round ${r + 1}: ${n} histories in ${s.toFixed(2)} s = ${(n / s).toFixed(1)}/s, ${errors} errors${counted}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
