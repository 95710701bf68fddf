/**
 * The worker (`node dist/workers/main.js`, workflows and every activity kind) is killed with
 * SIGKILL at random moments while remediations run, and restarted after each kill. Every
 * remediation must still finish, and the vendor simulators must count exactly one ticket, one
 * containment and one pull request per remediation: the activities' idempotency has to hold
 * across attempts that died mid-flight.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { mulberry32 } from '../../simulators/base';
import { stateQuery } from '../../signals';
import { connect, eventually, FAULT_POLICY, faultDetection, report, serviceAndWorker, sideEffectCounts, sleep, startVendors, tmpDir, WorkerProcess, type Vendors } from './helpers';

const RUN = randomUUID().slice(0, 6);
const REMEDIATIONS = Number(process.env.FAULTS_KILL_REMEDIATIONS ?? 12);
const KILLS = Number(process.env.FAULTS_KILLS ?? 8);
const assets = Array.from({ length: REMEDIATIONS }, (_, i) => `wk-${RUN}-${String(i).padStart(3, '0')}`);

let dir: string;
let vendors: Vendors;
let worker: WorkerProcess;
let client: Client;
let connection: Connection;

beforeAll(async () => {
  dir = tmpDir('kill');
  vendors = await startVendors({ dir, assets });
  ({ client, connection } = await connect());
});

afterAll(async () => {
  await worker?.stop();
  await vendors?.close();
  await connection?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(`${REMEDIATIONS} remediations survive ${KILLS} SIGKILLs of the worker: all finish, no duplicate ticket, containment or pull request`, async () => {
  const queue = `faults-kill-${RUN}`;
  const started = serviceAndWorker(client, { queue, policyDir: FAULT_POLICY, logFile: path.join(dir, 'worker.log'), workerEnv: vendors.env });
  const service = started.service;
  worker = started.worker;
  await worker.start();

  // Remediations arrive in waves between kills, so the kills land on every phase of their lives.
  const waves = [assets.slice(0, Math.ceil(REMEDIATIONS / 3)), assets.slice(Math.ceil(REMEDIATIONS / 3), Math.ceil((2 * REMEDIATIONS) / 3)), assets.slice(Math.ceil((2 * REMEDIATIONS) / 3))];
  const ids: string[] = [];
  const submit = async (wave: string[]) => {
    for (const a of wave) {
      const r = await service.submit(faultDetection(a), 'api:faults');
      expect(r.outcome).toBe('started');
      ids.push(r.id);
    }
  };
  const rnd = mulberry32(Number.parseInt(RUN, 16));
  const killedAt: number[] = [];
  const t0 = Date.now();
  await submit(waves[0]);
  for (let k = 0; k < KILLS; k++) {
    if (k === Math.floor(KILLS / 3)) await submit(waves[1]);
    if (k === Math.floor((2 * KILLS) / 3)) await submit(waves[2]);
    // A random moment of the worker's life: anywhere from just after it polls to a few seconds in.
    await sleep(200 + Math.floor(rnd() * 4000));
    await worker.kill();
    killedAt.push(Date.now() - t0);
    await sleep(Math.floor(rnd() * 1000));
    await worker.start();
  }

  // One deadline for all; whatever has not finished by then is reported with what it waits on.
  const deadline = Date.now() + Number(process.env.FAULTS_KILL_FINISH_MS ?? 10 * 60_000);
  const finals = await Promise.all(
    ids.map(async (id) => {
      try {
        return await eventually(`${id} to finish`, Math.max(1000, deadline - Date.now()), async () => {
          const h = client.workflow.getHandle(id);
          const d = await h.describe();
          if (d.status.name === 'RUNNING') return undefined;
          if (d.status.name !== 'COMPLETED') return { status: `workflow ${d.status.name}` };
          return (await h.result()) as { status: string };
        }, 1000);
      } catch {
        return { status: 'unfinished', id };
      }
    }),
  );
  for (const f of finals.filter((x): x is { status: string; id: string } => x.status === 'unfinished')) {
    const h = client.workflow.getHandle(f.id);
    const view = await h.query(stateQuery).catch((e: Error) => ({ error: e.message }) as never);
    const pending = ((await h.describe()).raw.pendingActivities ?? []).map((a) => ({
      activity: a.activityType?.name,
      attempt: a.attempt,
      lastFailure: a.lastFailure?.message?.slice(0, 300),
    }));
    report('worker-kill unfinished', {
      id: f.id,
      status: (view as { status?: string }).status,
      steps: ((view as { plan?: { steps: { id: string; status: string }[] } }).plan?.steps ?? []).map((x) => `${x.id}=${x.status}`).join(','),
      pending,
      lastDecisions: ((view as { decisions?: { summary: string }[] }).decisions ?? []).slice(-3).map((d) => d.summary),
      iacLocks: (() => {
        try {
          return readdirSync(path.join(dir, 'iac-work')).filter((n) => n.endsWith('.lock'));
        } catch {
          return [];
        }
      })(),
    });
  }
  const statuses = finals.reduce<Record<string, number>>((acc, v) => ((acc[v.status] = (acc[v.status] ?? 0) + 1), acc), {});
  const fx = vendors.sideEffects(assets);
  // A remediation said remediated whose side effects the vendors do not show is a false outcome: there must be none.
  const falseOutcomes = vendors.falseOutcomes(assets.filter((_, i) => finals[i]?.status === 'remediated'));
  report('worker-kill', {
    remediations: ids.length,
    sigkills: worker.kills,
    workerStarts: worker.starts,
    killedAtMs: killedAt.join(','),
    statuses,
    ...sideEffectCounts(fx),
    falseOutcomes: falseOutcomes.length,
    seconds: Math.round((Date.now() - t0) / 1000),
  });

  expect(falseOutcomes).toEqual([]);
  expect(worker.kills).toBe(KILLS);
  expect(statuses).toEqual({ remediated: REMEDIATIONS });
  expect(fx.duplicateTickets).toEqual([]);
  expect(fx.duplicateContainments).toEqual([]);
  expect(fx.duplicatePullRequests).toEqual([]);
  expect(fx.tickets).toBe(REMEDIATIONS);
  expect(fx.containments).toBe(REMEDIATIONS);
  expect(fx.pullRequests).toBe(REMEDIATIONS);
});
