/**
 * `node dist/bench/ui-render.js`: how long the approval pages take to render with many open
 * remediations waiting on approval, on the embedded default (a Temporal dev server of its own,
 * drw's workers and API in this process, in-process systems). Target: under 200 ms (issue 14).
 *
 * Opens BENCH_UI_OPEN (1,000) EDR remediations that wait for a secops approval, signs in through
 * the loopback identity picker, then times GET /ui (the inbox: visibility counts and the oldest page
 * of the remediations the approver may decide, DrwApprovers, their steps from each run's drwAwaiting
 * memo; no workflow queried) and GET /ui/remediations/{id}, sequentially, for a
 * secops approver (every step is theirs) and an auditor (no decide permission). Figures go to stdout.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { bundleDrwWorkflows } from '../workers/workflow-bundle';
import { loadConfig } from '../common/config';
import { createLogger, installSdkLogger } from '../common/logger';
import { connectClient } from '../common/temporal';
import { createInProcessSystems } from '../activities/inprocess';
import { startApp } from '../cli/app';
import type { Detection } from '../domain/detection';
import { startDevServer } from './devserver';
import { benchPolicyDir } from './policy-dir';
import { pool, summarize } from './stats';
import { PAGE_STEPS } from '../api/ui/inbox';

const OPEN = Number(process.env.BENCH_UI_OPEN ?? 1000);
const SAMPLES = Number(process.env.BENCH_UI_SAMPLES ?? 20);
const RUN = randomUUID().slice(0, 6);
const progress = (m: string) => process.stderr.write(`${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const malware = (asset: string): Detection => ({ source: 'bench', rule: 'Trojan.Bench', title: `Malware on ${asset}`, severity: 'high', category: 'malware', riskScore: 50, asset: { id: asset, type: 'host', environment: 'production' } });

/** A browser session through the loopback picker: its cookie header. */
async function signIn(api: string, user: string, groups: string[]): Promise<string> {
  const form = await fetch(`${api}/ui/sign-in`);
  const pre = form.headers.getSetCookie()[0].split(';')[0];
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
  const body = new URLSearchParams([['csrf', csrf], ['user', user], ...groups.map((g): [string, string] => ['groups', g])]).toString();
  const r = await fetch(`${api}/ui/sign-in`, { method: 'POST', redirect: 'manual', headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' }, body });
  return r.headers.getSetCookie().find((c) => c.startsWith('drw_ui='))!.split(';')[0];
}

/** `pauseMs`: wait between samples (longer than the inbox's 5 s state sharing: every render reads the workflows). */
async function time(url: string, cookie: string, expect: RegExp, samples = SAMPLES, pauseMs = 0): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples + 2; i++) {
    if (pauseMs && i) await sleep(pauseMs);
    const t = performance.now();
    const r = await fetch(url, { headers: { cookie } });
    const text = await r.text();
    const ms = performance.now() - t;
    if (r.status !== 200 || !expect.test(text)) throw new Error(`${url} answered ${r.status} without ${expect}`);
    if (i >= 2) out.push(ms); // the first two warm the caches
  }
  return out;
}

async function main(): Promise<void> {
  progress('starting a Temporal dev server of its own');
  const server = await startDevServer({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'drw-bench-ui-')), uiPort: false });
  const logger = createLogger('warn');
  installSdkLogger(logger);
  const cfg = loadConfig({ TEMPORAL_ADDRESS: server.address, DRW_TASK_QUEUE: `bench-ui-${RUN}`, DRW_API_PORT: '1', DRW_POLICY_DIR: benchPolicyDir(), DRW_LOG_LEVEL: 'warn', DRW_ARCHIVE: 'off', DRW_API_RATE_LIMIT: '0', DRW_UI_SESSION_KEY_FILE: path.join(server.dataDir, 'ui-session.key'), DRW_APPROVAL_SIGNING_KEY_FILE: path.join(server.dataDir, 'approval.pem') });
  cfg.api.port = 0;
  const workflowBundle = await bundleDrwWorkflows({ trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => progress(m) } as never);
  const app = await startApp({ cfg, logger, systems: createInProcessSystems({ autoMergeAfterMs: 0 }), workflowBundle });
  try {
    const api = app.apiUrl!;
    progress(`opening ${OPEN} remediations that wait on approval`);
    const ids: string[] = [];
    await pool(OPEN, 32, async (i) => {
      const r = await app.service.submit(malware(`ui-${RUN}-${i}`), 'api:bench');
      ids.push(r.id);
    });
    const { client, connection } = await connectClient(cfg);
    for (let c = 0; c < OPEN; await sleep(2000)) {
      c = (await client.workflow.count(`DrwSource="bench" AND DrwStatus="awaiting_approval" AND ExecutionStatus="Running"`)).count;
      progress(`  ${c}/${OPEN} awaiting approval`);
    }
    await connection.close();
    const secops = await signIn(api, 'sam', ['secops']);
    const auditor = await signIn(api, 'ada', ['auditors']);
    const rows: [string, ReturnType<typeof summarize>][] = [
      [`GET /ui, secops (the oldest ${PAGE_STEPS} of ${OPEN} steps listed), read afresh from visibility`, summarize(await time(`${api}/ui`, secops, new RegExp(`${PAGE_STEPS} steps awaiting your decision`), 5, 5500))],
      [`GET /ui, secops, back to back (states shared for 5 s, as refreshing inboxes are)`, summarize(await time(`${api}/ui`, secops, new RegExp(`${PAGE_STEPS} steps awaiting your decision`)))],
      ['GET /ui, auditor (none listed)', summarize(await time(`${api}/ui`, auditor, /Nothing awaits your decision/))],
      ['GET /ui/remediations/{id}, secops', summarize(await time(`${api}/ui/remediations/${ids[0]}`, secops, /value="approve"/))],
    ];
    process.stdout.write(`approval pages with ${OPEN} open remediations awaiting approval (sequential samples; ${os.cpus().length} cores):\n`);
    for (const [what, s] of rows) process.stdout.write(`  ${what}: ${s.n} samples, p50 ${s.p50.toFixed(0)} ms, p90 ${s.p90.toFixed(0)} ms, max ${s.max.toFixed(0)} ms\n`);
  } finally {
    await app.close();
    await server.stop({ clean: true });
  }
}

main().catch((e) => {
  progress(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
