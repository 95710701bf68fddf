import { writeFileSync } from 'node:fs';
import { historyToJson as historyToJSON } from '../../report/history-json';
import { eventually, http, startHarness, type Harness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

test('explore', async () => {
  const det = { source: 'crowdstrike', rule: 'Trojan.GenericKD', title: 'Malware on x1', severity: 'high', category: 'malware', riskScore: 60, asset: { id: 'x1', type: 'host', environment: 'production' } };
  const start = await http('POST', `${h.api}/v1/detections`, det);
  const id = start.body.remediations[0].id;
  await eventually(async () => { const r = await http('GET', `${h.api}/v1/remediations/${id}`); return r.body.status === 'awaiting_approval' ? 1 : undefined; }, 'awaiting');
  await http('POST', `${h.api}/v1/detections`, det);
  await http('POST', `${h.api}/v1/remediations/${id}/steps/edr-malware.contain/approve`, { approver: 'mallory', groups: ['devs'], reason: 'let me' });
  await http('POST', `${h.api}/v1/remediations/${id}/steps/edr-malware.contain/approve`, { approver: 'alice', groups: ['secops'], reason: 'confirmed' });
  await eventually(async () => { const r = await http('GET', `${h.api}/v1/remediations/${id}`); return r.body.status === 'remediated' ? 1 : undefined; }, 'done');
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const hist = await client.workflow.getHandle(id).fetchHistory();
  writeFileSync('/tmp/explore-history.json', historyToJSON(hist));
  await connection.close();
});
