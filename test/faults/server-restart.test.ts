/**
 * The Temporal dev server dies mid-run (SIGKILL) and comes back on the same port with the same
 * SQLite file. drw's process (workers + API, through the real app assembly) keeps running
 * through the outage, and every remediation started before, during and after it finishes.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { startDevServer, type DevServer } from '../../bench/devserver';
import { http, startHarness, type Harness } from '../helpers/harness';
import { eventually, report, sleep, tmpDir } from './helpers';

const RUN = randomUUID().slice(0, 6);
const REMEDIATIONS = Number(process.env.FAULTS_RESTART_REMEDIATIONS ?? 24);
const RESTARTS = Number(process.env.FAULTS_RESTARTS ?? 2);

let dir: string;
let server: DevServer;
let h: Harness;

const detection = (asset: string) => ({
  source: 'faults',
  rule: 'Trojan.Restart',
  title: `Malware on ${asset}`,
  severity: 'high',
  category: 'malware',
  riskScore: 95,
  asset: { id: asset, type: 'host', environment: 'production' },
});

beforeAll(async () => {
  dir = tmpDir('restart');
  server = await startDevServer({ dataDir: dir, uiPort: false, dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 1500 } });
  h = await startHarness({ timeScale: 1, env: { TEMPORAL_ADDRESS: server.address } });
});

afterAll(async () => {
  await h?.close();
  await server?.stop({ clean: false });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(`${REMEDIATIONS} remediations finish although the dev server is killed and restarted ${RESTARTS} times mid-run`, async () => {
  const ids: string[] = [];
  const refused: number[] = [];
  const submit = async (i: number) => {
    // During the outage the API answers 503 ("retry"); a client retries, so does this one.
    for (;;) {
      const r = await http('POST', `${h.api}/v1/detections`, detection(`sr-${RUN}-${String(i).padStart(3, '0')}`)).catch(() => ({ status: 0, body: undefined as any }));
      if (r.status === 202) return ids.push(r.body.remediations[0].id);
      refused.push(r.status);
      await sleep(500);
    }
  };
  const t0 = Date.now();
  const perWave = Math.ceil(REMEDIATIONS / (RESTARTS + 1));
  let next = 0;
  const outages: number[] = [];
  for (let wave = 0; wave <= RESTARTS; wave++) {
    const upTo = Math.min(REMEDIATIONS, next + perWave);
    await Promise.all(Array.from({ length: upTo - next }, (_, k) => submit(next + k)));
    next = upTo;
    if (wave === RESTARTS) break;
    // Kill while the wave is in flight (tickets, containments, verifications under way).
    await sleep(1500);
    const down = Date.now();
    await server.kill();
    await sleep(3000);
    await server.restart();
    outages.push(Date.now() - down);
  }

  const finals = await Promise.all(
    ids.map((id) =>
      eventually(`${id} to finish`, 10 * 60_000, async () => {
        const r = await http('GET', `${h.api}/v1/remediations/${id}`);
        return r.status === 200 && ['remediated', 'failed', 'cancelled', 'resolved'].includes(r.body.status) ? (r.body.status as string) : undefined;
      }, 1000),
    ),
  );
  const statuses = finals.reduce<Record<string, number>>((acc, s) => ((acc[s] = (acc[s] ?? 0) + 1), acc), {});
  const isolated = new Set(h.systems.record.isolateCalls);
  report('server-restart', {
    remediations: ids.length,
    restarts: RESTARTS,
    outageMs: outages.join(','),
    apiRefusalsDuringOutage: refused.length,
    statuses,
    workersRunning: h.app.workers.ready(),
    hostsContained: isolated.size,
    isolateCalls: h.systems.record.isolateCalls.length,
    tickets: h.systems.record.tickets.size,
    seconds: Math.round((Date.now() - t0) / 1000),
  });
  expect(statuses).toEqual({ remediated: REMEDIATIONS });
  expect(h.app.workers.ready()).toBe(true);
  expect(h.systems.record.tickets.size).toBe(REMEDIATIONS);
  expect(isolated.size).toBe(REMEDIATIONS);
  expect((await http('GET', `${h.api}/healthz`)).status).toBe(200);
});
