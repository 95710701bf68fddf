import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createAwxRunbook } from '../../activities/adapters/awx';
import { installSdkLogger } from '../../common/logger';
import { testLogger } from '../helpers/test-logger';
import { type AwxSimulator, startAwxSimulator } from '../../simulators/awx';

/**
 * The AWX adapter as an activity on the real Temporal server (started by the test setup): a job
 * that outlives one attempt's wait is found again by the next attempt, never launched twice.
 */
// Each attempt that outlives its wait is an "Activity failed" warning by design: only errors are shown.
installSdkLogger(testLogger(process.env.DRW_TEST_LOG_LEVEL ?? 'error'));

describe('AWX runbook step on a real Temporal server', () => {
  let sim: AwxSimulator;

  beforeAll(async () => {
    sim = await startAwxSimulator({ token: 'awx-temporal-token', templates: [{ id: 7, name: 'Restart a service' }] });
  });
  afterAll(() => sim.close());

  it('keeps waiting for the same job across activity retries until AWX reports it successful', async () => {
    // Attempts of 2 s (start-to-close) polling every 20 ms: 3 status steps × 40 reads take more than one.
    sim.readsPerStep = 40;
    const runbook = createAwxRunbook({
      baseUrl: sim.baseUrl,
      apiPath: '/api/v2',
      token: 'awx-temporal-token',
      templates: { 'restart-service': 7 },
      limitToAsset: false,
      timeoutMs: 2_000,
      pollIntervalMs: 20,
      jobWaitMs: 600_000,
      outputMaxChars: 2_000,
    });
    const address = process.env.TEMPORAL_ADDRESS!;
    const taskQueue = `drw-awx-${randomUUID().slice(0, 8)}`;
    const nativeConnection = await NativeConnection.connect({ address });
    const connection = await Connection.connect({ address });
    try {
      const worker = await Worker.create({
        connection: nativeConnection,
        taskQueue,
        workflowsPath: require.resolve('./runbook-step.workflow'),
        activities: { runRunbook: runbook.runRunbook },
      });
      const client = new Client({ connection });
      const workflowId = `awx-step-${randomUUID()}`;
      const result = await worker.runUntil(
        client.workflow.execute('runRunbookStep', {
          taskQueue,
          workflowId,
          args: [{ idempotencyKey: `${workflowId}:runbook`, remediationId: workflowId, runbook: 'restart-service', assetId: 'web-1', params: { service: 'nginx' } }],
        }),
      );
      expect(result).toMatchObject({ ok: true, status: 'successful', jobId: '1', existing: true });
      expect(sim.launches()).toHaveLength(1);
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const started = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
      const attempt = Number(started[started.length - 1].activityTaskStartedEventAttributes!.attempt);
      expect(attempt).toBeGreaterThan(1);
      expect(attempt).toBeLessThan(10);
      const failure = started[started.length - 1].activityTaskStartedEventAttributes!.lastFailure;
      // The adapter gave up just before the start-to-close timeout, with its own reason, not a timeout.
      expect(failure?.message).toMatch(/^awx: job 1 \(template 7, (pending|waiting|running)\) still running after waiting \d+ ms$/);
      expect(failure?.applicationFailureInfo?.type).toBe('awx.JobStillRunning');
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });
});
