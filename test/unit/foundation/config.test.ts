import { ConfigError, loadConfig } from '../../../common/config';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

test('defaults describe the embedded local setup', () => {
  const cfg = loadConfig({});
  expect(cfg.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default' });
  expect(cfg.temporal.tls).toBeUndefined();
  expect(cfg.api).toMatchObject({ host: '127.0.0.1', port: 8080 });
  expect(cfg.activityQueues.ticketing).toBe('drw-remediation-ticketing');
  expect(cfg.policyDir).toMatch(/policies[/\\]default$/);
  expect(cfg.eagerStart).toBe(true);
  expect(loadConfig({ DRW_EAGER_START: 'off' }).eagerStart).toBe(false);
});

test('invalid values are refused with the variable named', () => {
  expect(problems({ TEMPORAL_ADDRESS: 'no-port' })[0]).toMatch(/^TEMPORAL_ADDRESS: /);
  expect(problems({ DRW_API_PORT: '70000' })[0]).toMatch(/^DRW_API_PORT: /);
  expect(problems({ DRW_LOG_LEVEL: 'loud' })[0]).toMatch(/^DRW_LOG_LEVEL: /);
  expect(problems({ DRW_EAGER_START: 'yes' })[0]).toMatch(/^DRW_EAGER_START: /);
  expect(problems({ DRW_RATE_LIMIT_TICKETING: '-1' })[0]).toMatch(/^DRW_RATE_LIMIT_TICKETING: /);
  expect(problems({ TEMPORAL_TLS_CERT: '/nonexistent/cert.pem' }).join('\n')).toMatch(/TEMPORAL_TLS_KEY: mTLS needs both/);
});

test('Temporal Cloud API key and mTLS settings reach the connection options, per-kind queues and limits apply', () => {
  const cloud = loadConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'k' });
  expect(cloud.temporal.apiKey).toBe('k');
  expect(cloud.temporal.tls).toBe(true);
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const mtls = loadConfig({ TEMPORAL_TLS_CERT: pem, TEMPORAL_TLS_KEY: pem.replace(/CERTIFICATE/g, 'PRIVATE KEY'), DRW_TASK_QUEUE_ENDPOINT: 'edr', DRW_RATE_LIMIT_ENDPOINT: '0.5' });
  expect(mtls.temporal.tls).toMatchObject({ clientCertPair: { crt: Buffer.from(pem) } });
  expect(mtls.activityQueues.endpoint).toBe('edr');
  expect(mtls.rateLimits.endpoint).toBe(0.5);
});

test('change control settings: how often a change is read, who the in-process CAB is', () => {
  expect(loadConfig({}).changePollMs).toBeUndefined();
  expect(loadConfig({ DRW_CHANGE_POLL_INTERVAL: '30s', DRW_INPROCESS_CAB_APPROVER: ' Carla CAB ' })).toMatchObject({ changePollMs: 30_000, inprocessCabApprover: 'Carla CAB' });
  expect(problems({ DRW_CHANGE_POLL_INTERVAL: 'soon' })[0]).toMatch(/^DRW_CHANGE_POLL_INTERVAL: a duration of at least 1s/);
  expect(problems({ DRW_CHANGE_POLL_INTERVAL: '10ms' })[0]).toMatch(/^DRW_CHANGE_POLL_INTERVAL: /);
});
