import { createAwxRunbook, loadAwxConfig, type AwxConfig } from '../../../activities/adapters/awx';
import type { RunbookInput } from '../../../activities/interfaces';
import { type AwxSimulator, startAwxSimulator } from '../../../simulators/awx';
import { expectNoSecrets, failureOf, retryLikeTemporal } from '../endpoint/temporal-like';

const TOKEN = 'awx-sim-token-0123456789abcdef';

describe('Ansible AWX runbook adapter', () => {
  let sim: AwxSimulator;
  let config: AwxConfig;
  const errors: unknown[] = [];

  const input = (over: Partial<RunbookInput> = {}): RunbookInput => ({
    idempotencyKey: 'rem-1:restart',
    remediationId: 'rem-1',
    runbook: 'restart-service',
    assetId: 'web-1',
    params: { runbook: 'restart-service', service: 'nginx' },
    ...over,
  });

  beforeEach(async () => {
    sim = await startAwxSimulator({
      token: TOKEN,
      readsPerStep: 1,
      templates: [
        { id: 7, name: 'Restart a service', ask_limit_on_launch: true },
        { id: 8, name: 'Fixed vars', ask_variables_on_launch: false },
      ],
    });
    config = {
      baseUrl: sim.baseUrl,
      apiPath: '/api/v2',
      token: TOKEN,
      templates: { 'restart-service': 7, 'fixed-vars': 8 },
      limitToAsset: true,
      timeoutMs: 750,
      pollIntervalMs: 5,
      jobWaitMs: 2_000,
      outputMaxChars: 2_000,
    };
  });
  afterEach(() => sim.close());
  afterAll(() => expectNoSecrets(errors, [TOKEN]));

  it('launches the job template with the step parameters, polls the job to successful and summarizes its output', async () => {
    const result = await createAwxRunbook(config).runRunbook(input());
    expect(result).toMatchObject({ runbook: 'restart-service', ok: true, system: 'awx', jobId: '1', status: 'successful', existing: false });
    expect(result.url).toBe(`${sim.baseUrl}/#/jobs/playbook/1/output`);
    expect(result.output).toMatch(/PLAY RECAP/);
    expect(result.output).not.toMatch(/\x1b\[/);
    const launch = sim.launches()[0];
    expect(JSON.parse((launch.body as { extra_vars: string }).extra_vars)).toEqual({
      service: 'nginx',
      drw_asset: 'web-1',
      drw_remediation: 'rem-1',
      drw_idempotency_key: 'rem-1:restart',
    });
    expect((launch.body as { limit: string }).limit).toBe('web-1');
    // pending → waiting → running → successful took reads of the job itself.
    expect(sim.served((r) => r.path === '/api/v2/jobs/1/').length).toBeGreaterThanOrEqual(3);
  });

  it('returns the first job for a repeated step instead of launching another', async () => {
    const runbook = createAwxRunbook(config);
    const first = await runbook.runRunbook(input());
    const second = await runbook.runRunbook(input());
    expect(second).toEqual({ ...first, existing: true });
    expect(sim.launches()).toHaveLength(1);
    await runbook.runRunbook(input({ idempotencyKey: 'rem-2:restart', remediationId: 'rem-2' }));
    expect(sim.launches()).toHaveLength(2);
  });

  it('launches exactly once when the launch answer was lost after AWX created the job', async () => {
    sim.delayNextLaunchAnswer(2_000);
    const runbook = createAwxRunbook(config);
    const { result, failures } = await retryLikeTemporal(() => runbook.runRunbook(input()));
    expect(failures).toHaveLength(1);
    errors.push(...failures);
    expect(result).toMatchObject({ ok: true, jobId: '1', existing: true });
    expect(sim.jobs).toHaveLength(1);
  });

  it('reports a failed playbook as not ok, with the failing task in the output', async () => {
    sim.nextJobOutcome('failed');
    const result = await createAwxRunbook(config).runRunbook(input());
    expect(result).toMatchObject({ ok: false, status: 'failed', jobId: '1' });
    expect(result.output).toMatch(/FAILED! => \{"msg": "service did not start"\}/);
  });

  it('keeps only the last lines of a long output within the configured size', async () => {
    sim.stdoutLines = 2_000;
    const result = await createAwxRunbook({ ...config, outputMaxChars: 300 }).runRunbook(input());
    expect(result.output.length).toBeLessThanOrEqual(300);
    expect(result.output.startsWith('…\n')).toBe(true);
    expect(result.output).toMatch(/PLAY RECAP[\s\S]*failed=0$/);
  });

  it('asks Temporal to retry while the job still runs, and the retry waits for the same job', async () => {
    sim.readsPerStep = 1_000;
    const runbook = createAwxRunbook({ ...config, jobWaitMs: 30 });
    const f = await failureOf(runbook.runRunbook(input()));
    errors.push(f);
    expect(f).toMatchObject({ type: 'awx.JobStillRunning', nonRetryable: false });
    sim.readsPerStep = 1;
    const result = await createAwxRunbook(config).runRunbook(input());
    expect(result).toMatchObject({ ok: true, jobId: '1', existing: true });
    expect(sim.launches()).toHaveLength(1);
  });

  it('refuses a template that would drop the variables, before launching anything', async () => {
    const f = await failureOf(createAwxRunbook(config).runRunbook(input({ runbook: 'fixed-vars' })));
    errors.push(f);
    expect(f).toMatchObject({ type: 'awx.TemplateNotPrompting', nonRetryable: true });
    expect(f.message).toMatch(/job template 8 does not prompt for variables/);
    expect(sim.launches()).toHaveLength(0);
  });

  it('refuses a runbook that is not in AWX_JOB_TEMPLATES', async () => {
    const f = await failureOf(createAwxRunbook(config).runRunbook(input({ runbook: 'rm-rf' })));
    errors.push(f);
    expect(f).toMatchObject({ type: 'awx.UnknownRunbook', nonRetryable: true });
    expect(sim.requests).toHaveLength(0);
  });

  it('classifies AWX errors: 429 retries after Retry-After, 503 retries, a bad token does not', async () => {
    sim.setFaults({ queue: [{ kind: 'rateLimit', retryAfterSeconds: 7 }, { kind: 'status', status: 503 }] });
    const runbook = createAwxRunbook(config);
    const limited = await failureOf(runbook.runRunbook(input()));
    expect(limited).toMatchObject({ type: 'awx.RateLimited', nonRetryable: false });
    expect(limited.nextRetryDelay).toBe(7_000);
    const unavailable = await failureOf(runbook.runRunbook(input()));
    expect(unavailable).toMatchObject({ type: 'awx.ServerError', nonRetryable: false });
    const refused = await failureOf(createAwxRunbook({ ...config, token: 'wrong-token-0123456789' }).runRunbook(input()));
    expect(refused).toMatchObject({ type: 'awx.ClientError', nonRetryable: true });
    expect(refused.message).toMatch(/401: Authentication credentials were not provided/);
    errors.push(limited, unavailable, refused);
    expect(sim.launches()).toHaveLength(0);
  });

  it('authenticates with a username and password when no token is configured', async () => {
    const basic = await startAwxSimulator({ username: 'drw', password: 'awx-password-123', templates: [{ id: 7, name: 'Restart' }] });
    try {
      const result = await createAwxRunbook({ ...config, baseUrl: basic.baseUrl, token: undefined, username: 'drw', password: 'awx-password-123', limitToAsset: false }).runRunbook(input());
      expect(result.ok).toBe(true);
    } finally {
      await basic.close();
    }
  });

  it('reaches the controller behind the Automation Platform 2.5 gateway through AWX_API_PATH', async () => {
    const aap = await startAwxSimulator({ token: TOKEN, apiPath: '/api/controller/v2', templates: [{ id: 7, name: 'Restart' }] });
    try {
      const result = await createAwxRunbook({ ...config, baseUrl: aap.baseUrl, apiPath: '/api/controller/v2', limitToAsset: false }).runRunbook(input());
      expect(result).toMatchObject({ ok: true, url: `${aap.baseUrl}/execution/jobs/playbook/1/output` });
      expect(aap.launches()[0].path).toBe('/api/controller/v2/job_templates/7/launch/');
    } finally {
      await aap.close();
    }
  });

  it('reads its configuration from the environment and names what is wrong, never a value', () => {
    expect(loadAwxConfig({})).toBeUndefined();
    const c = loadAwxConfig({ AWX_URL: 'https://awx.example.com/', AWX_TOKEN: 't', AWX_JOB_TEMPLATES: '{"restart-service": 7}' });
    expect(c).toMatchObject({ baseUrl: 'https://awx.example.com', apiPath: '/api/v2', templates: { 'restart-service': 7 }, limitToAsset: false, jobWaitMs: 600_000 });
    let message = '';
    try {
      loadAwxConfig({ AWX_URL: 'http://awx.example.com', AWX_PASSWORD: 'very-secret-pw', AWX_JOB_TEMPLATES: '{"x": "seven"}' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/AWX_URL: must use https/);
    expect(message).toMatch(/AWX_TOKEN: is required \(or AWX_USERNAME and AWX_PASSWORD\)/);
    expect(message).toMatch(/AWX_JOB_TEMPLATES/);
    expect(message).not.toContain('very-secret-pw');
  });
});
