import { createRundeckRunbook, loadRundeckConfig, type RundeckConfig } from '../../../activities/adapters/rundeck';
import type { RunbookInput } from '../../../activities/interfaces';
import { type RundeckSimulator, startRundeckSimulator } from '../../../simulators/rundeck';
import { expectNoSecrets, failureOf, retryLikeTemporal } from '../endpoint/temporal-like';

const RESTART = '5f8c1e2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b';
const NO_MARKER = '6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d';

describe('Rundeck runbook adapter', () => {
  let sim: RundeckSimulator;
  let config: RundeckConfig;
  const errors: unknown[] = [];

  const input = (over: Partial<RunbookInput> = {}): RunbookInput => ({
    idempotencyKey: 'rem-1:restart',
    remediationId: 'rem-1',
    runbook: 'restart-service',
    assetId: 'web-1',
    // The workflow passes the runbook's name among the params; it is not a job option.
    params: { runbook: 'restart-service', service: 'nginx' },
    ...over,
  });

  beforeEach(async () => {
    sim = await startRundeckSimulator({
      jobs: [
        { id: RESTART, name: 'restart service', options: [{ name: 'service', required: true }, { name: 'drw_idempotency_key' }, { name: 'drw_asset' }] },
        { id: NO_MARKER, name: 'legacy', options: [{ name: 'service' }] },
      ],
    });
    config = {
      baseUrl: sim.baseUrl,
      token: sim.token,
      apiVersion: 41,
      jobs: { 'restart-service': RESTART, legacy: NO_MARKER },
      filterToAsset: true,
      timeoutMs: 750,
      pollIntervalMs: 5,
      jobWaitMs: 2_000,
      outputMaxChars: 2_000,
      outputLines: 200,
    };
  });
  afterEach(() => sim.close());
  afterAll(() => expectNoSecrets(errors, [sim.token]));

  it('runs the job on the asset node with the step options, polls the execution to succeeded and keeps its last log lines', async () => {
    const result = await createRundeckRunbook(config).runRunbook(input());
    expect(result).toMatchObject({ runbook: 'restart-service', ok: true, system: 'rundeck', jobId: '1', status: 'succeeded', existing: false });
    expect(result.url).toBe(`${sim.baseUrl}/project/ops/execution/show/1`);
    expect(result.output).toMatch(/step 1 on web-1: ok[\s\S]*restarted nginx$/);
    expect(sim.runs()[0].body).toEqual({ options: { service: 'nginx', drw_asset: 'web-1', drw_idempotency_key: 'rem-1:restart' }, filter: 'name: web-1' });
    expect(sim.served((r) => r.path === '/api/41/execution/1').length).toBeGreaterThanOrEqual(2);
    expect(sim.served((r) => r.path === '/api/41/execution/1/output')[0].query).toMatchObject({ format: 'json', lastlines: '200' });
  });

  it('returns the first execution for a repeated step instead of running the job again', async () => {
    const runbook = createRundeckRunbook(config);
    const first = await runbook.runRunbook(input());
    expect(await runbook.runRunbook(input())).toEqual({ ...first, existing: true });
    expect(sim.runs()).toHaveLength(1);
  });

  it('runs exactly once when the run answer was lost after Rundeck started the execution', async () => {
    sim.delayNextRunAnswer(2_000);
    const runbook = createRundeckRunbook(config);
    const { result, failures } = await retryLikeTemporal(() => runbook.runRunbook(input()));
    expect(failures).toHaveLength(1);
    errors.push(...failures);
    expect(result).toMatchObject({ ok: true, existing: true, jobId: '1' });
    expect(sim.executions).toHaveLength(1);
  });

  it('reports a failed execution as not ok with the failure in the output', async () => {
    sim.nextExecutionOutcome('failed');
    const result = await createRundeckRunbook(config).runRunbook(input());
    expect(result).toMatchObject({ ok: false, status: 'failed' });
    expect(result.output).toMatch(/Remote command failed with exit status 1$/);
  });

  it('asks Temporal to retry while the execution runs, and the retry waits for the same execution', async () => {
    sim.readsToFinish = 1_000;
    const f = await failureOf(createRundeckRunbook({ ...config, jobWaitMs: 30 }).runRunbook(input()));
    errors.push(f);
    expect(f).toMatchObject({ type: 'rundeck.JobStillRunning', nonRetryable: false });
    sim.readsToFinish = 1;
    expect(await createRundeckRunbook(config).runRunbook(input())).toMatchObject({ ok: true, existing: true });
    expect(sim.runs()).toHaveLength(1);
  });

  it('refuses a job without the idempotency option, and params the job does not define, before running anything', async () => {
    const runbook = createRundeckRunbook(config);
    const noMarker = await failureOf(runbook.runRunbook(input({ runbook: 'legacy' })));
    expect(noMarker).toMatchObject({ type: 'rundeck.JobWithoutMarker', nonRetryable: true });
    const unknown = await failureOf(runbook.runRunbook(input({ params: { service: 'nginx', force: 'yes' } })));
    expect(unknown).toMatchObject({ type: 'rundeck.UnknownOptions', nonRetryable: true });
    expect(unknown.message).toMatch(/does not define the options force/);
    const missing = await failureOf(runbook.runRunbook(input({ params: {} })));
    expect(missing).toMatchObject({ type: 'rundeck.MissingOptions', nonRetryable: true });
    errors.push(noMarker, unknown, missing);
    expect(sim.runs()).toHaveLength(0);
  });

  it('classifies Rundeck errors: 5xx and resets retry, a refused token does not and quotes Rundeck', async () => {
    sim.setFaults({ queue: [{ kind: 'status', status: 502 }, { kind: 'reset' }] });
    const runbook = createRundeckRunbook(config);
    const bad = await failureOf(runbook.runRunbook(input()));
    expect(bad).toMatchObject({ type: 'rundeck.ServerError', nonRetryable: false });
    const reset = await failureOf(runbook.runRunbook(input()));
    expect(reset).toMatchObject({ type: 'rundeck.Unavailable', nonRetryable: false });
    const refused = await failureOf(createRundeckRunbook({ ...config, token: 'not-the-token-123' }).runRunbook(input()));
    expect(refused).toMatchObject({ type: 'rundeck.ClientError', nonRetryable: true });
    expect(refused.message).toMatch(/403: Not authorized for/);
    errors.push(bad, reset, refused);
  });

  it('reads its configuration from the environment and names what is wrong, never a value', () => {
    expect(loadRundeckConfig({})).toBeUndefined();
    expect(loadRundeckConfig({ RUNDECK_URL: 'https://rundeck.example.com', RUNDECK_TOKEN: 't', RUNDECK_JOBS: `{"restart-service":"${RESTART}"}` })).toMatchObject({
      apiVersion: 41,
      jobs: { 'restart-service': RESTART },
      filterToAsset: false,
    });
    let message = '';
    try {
      loadRundeckConfig({ RUNDECK_URL: 'https://rundeck.example.com', RUNDECK_API_VERSION: '12', RUNDECK_JOBS: 'restart-service', RUNDECK_TOKEN: 'very-secret-token' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/RUNDECK_API_VERSION/);
    expect(message).toMatch(/RUNDECK_JOBS: must be JSON like/);
    expect(message).not.toContain('very-secret-token');
  });
});
