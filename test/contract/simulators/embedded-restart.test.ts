import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSystems } from '../../../activities/registry';
import { startEmbeddedSimulators, type EmbeddedSimulators } from '../../../simulators/embedded';
import { remediation } from '../ticketing/helpers';

/**
 * `npm start` stopped and started again on the same data folder: the vendors it simulates still
 * know what the workflows (kept by the Temporal dev server in the same folder) refer to.
 */

let dataDir: string;
let sims: EmbeddedSimulators | undefined;
const warnings: string[] = [];

beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-embedded-restart-'));
});
afterAll(async () => {
  await sims?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const start = () => startEmbeddedSimulators(dataDir, {}, { warn: (m) => warnings.push(m) });
const head = () => execFileSync('git', ['rev-parse', 'main'], { cwd: path.join(dataDir, 'git', 'acme-infra.git') }).toString().trim();

test('a ticket opened before npm start restarts is updated, closed and followed after it, the next ticket is SEC-2', async () => {
  sims = await start();
  expect(sims.restored).toEqual([]);
  const r = remediation();
  const before = buildSystems(sims.env, undefined);
  const opened = await before.ticketing.openTicket({
    ...r,
    idempotencyKey: r.key('open'),
    title: 'Critical vulnerability on web-1',
    description: 'CVE-2024-0001 in openssl.',
    severity: 'critical',
    priority: 'highest',
    labels: ['security'],
    assetId: 'web-1',
  });
  expect(opened.ticketId).toBe('SEC-1');
  const okta = sims.simulators.okta!;
  const alice = okta.user('alice@acme.example')!.id;
  const web1 = [...sims.simulators.servicenow!.cis.values()].find((ci) => ci.values.name === 'web-1')!.sys_id;
  const demoHead = head();
  await sims.close();

  // The simulators listen on new ports; the workers are built again from the new environment, as on a restart.
  sims = await start();
  expect([...sims.restored].sort()).toEqual(['awx', 'crowdstrike', 'github', 'jira', 'okta', 'securityhub', 'servicenow']);
  expect(readdirSync(path.join(dataDir, 'simulators')).sort()).toEqual(['awx.json', 'crowdstrike.json', 'github.json', 'jira.json', 'okta.json', 'securityhub.json', 'servicenow.json']);
  const after = buildSystems(sims.env, undefined);
  await after.ticketing.updateTicket({ ...r, idempotencyKey: r.key('note'), ticketId: 'SEC-1', comment: 'Host contained.' });
  await after.ticketing.closeTicket({ ...r, idempotencyKey: r.key('close'), ticketId: 'SEC-1', resolution: 'remediated', comment: 'Verified.' });
  expect(await after.ticketing.getTicketState({ ticketId: 'SEC-1' })).toMatchObject({ closed: true });

  const next = remediation();
  const second = await after.ticketing.openTicket({ ...next, idempotencyKey: next.key('open'), title: 'Another', description: 'x', severity: 'low', priority: 'low', labels: [], assetId: 'web-2' });
  expect(second.ticketId).toBe('SEC-2');
  // The CMDB, the accounts and the demo repository are the same ones, not fresh seeds.
  expect(await after.cmdb.lookupAsset({ assetId: 'web-1' })).toMatchObject({ found: true, ciId: web1 });
  expect([...sims.simulators.servicenow!.cis.values()].filter((ci) => ci.values.name === 'web-1')).toHaveLength(1);
  expect(sims.simulators.okta!.user('alice@acme.example')!.id).toBe(alice);
  expect(head()).toBe(demoHead);
  expect(warnings).toEqual([]);
});
