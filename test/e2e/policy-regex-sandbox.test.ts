import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createLogger, installSdkLogger } from '../../common/logger';
import { parsePlaybookText } from '../../planner/load';
import type { Playbook } from '../../planner/policy-schema';
import type { Facts } from '../../planner/types';

installSdkLogger(createLogger(process.env.DRW_TEST_LOG_LEVEL ?? 'error'));

function playbook(text: string): Playbook {
  const r = parsePlaybookText(text, 'p.yaml');
  if (!r.playbook) throw new Error(JSON.stringify(r.problems));
  return r.playbook;
}

const facts = (rule: string): Facts => ({ source: 'edr', rule, severity: 'high', riskScore: 50, asset: { id: 'h1', type: 'host' }, findingCount: 1, details: {} });

/**
 * The planner matches playbooks inside the workflow sandbox, where a backtracking regex would
 * stall the workflow task (and every retry of it) instead of one request.
 */
describe('policy regular expressions in the workflow sandbox', () => {
  it('a /(a+)+$/ playbook rule against a hostile 512-character rule id is decided in the first workflow task', async () => {
    const playbooks = [
      playbook('id: redos\nname: r\npriority: 10\nmatch: { rules: ["/(a+)+$/"] }\nsteps: [{ id: t, action: ticket.open }]\n'),
      playbook('id: fallback\nname: f\npriority: -100\nsteps: [{ id: t, action: ticket.open }]\n'),
    ];
    const address = process.env.TEMPORAL_ADDRESS!;
    const taskQueue = `drw-regex-${randomUUID().slice(0, 8)}`;
    const nativeConnection = await NativeConnection.connect({ address });
    const connection = await Connection.connect({ address });
    try {
      const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowsPath: require.resolve('./rule-match.workflow') });
      const client = new Client({ connection });
      const ids = [`regex-${randomUUID()}`, `regex-${randomUUID()}`];
      const run = (workflowId: string, rule: string) => client.workflow.execute('choosePlaybook', { taskQueue, workflowId, args: [playbooks, facts(rule)] });
      const [hostile, matching] = await worker.runUntil(Promise.all([run(ids[0], `${'a'.repeat(511)}!`), run(ids[1], `!${'a'.repeat(511)}`)]));
      expect({ hostile, matching }).toEqual({ hostile: 'fallback', matching: 'redos' });
      for (const id of ids) {
        const { events } = await client.workflow.getHandle(id).fetchHistory();
        expect((events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
        expect((events ?? []).filter((e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes)).toEqual([]);
      }
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });
});
