import { createServiceNowCmdb, loadServiceNowConfig, type ServiceNowConfig } from '../../../activities/adapters/servicenow';
import { criticality } from '../../../activities/adapters/servicenow/cmdb';
import { preflightSystems } from '../../../activities/registry';
import { ConfigError } from '../../../common/config';
import { SimulatorServer } from '../../../simulators/base';
import { startServiceNowSimulator, type ServiceNowSimulator } from '../../../simulators/servicenow';
import { basicSecrets, expectNoSecrets, failureOf } from '../ticketing/helpers';

const USER = 'cmdb.reader';
const PASSWORD = 'cmdb-secret-password-42';

function configFor(sim: ServiceNowSimulator, extra: Record<string, string> = {}): ServiceNowConfig {
  return loadServiceNowConfig({
    SERVICENOW_INSTANCE_URL: sim.url,
    SERVICENOW_USERNAME: USER,
    SERVICENOW_PASSWORD: PASSWORD,
    // Generous: a loaded CI machine answers slowly; no test here is about timeouts.
    SERVICENOW_TIMEOUT_MS: '5000',
    ...extra,
  })!;
}

describe('ServiceNow CMDB adapter against the simulator', () => {
  let sim: ServiceNowSimulator;
  let webId: string;

  beforeAll(async () => {
    sim = await startServiceNowSimulator({ username: USER, password: PASSWORD, customFields: { cmdb_ci_server: ['u_internet_facing', 'u_criticality'] } });
    webId = sim.seedHost({
      name: 'web-01',
      fqdn: 'web-01.prod.example.com',
      sys_class_name: 'cmdb_ci_linux_server',
      ip_address: '10.0.1.15',
      serial_number: 'VMW-42-AAA',
      owned_by: 'Alice Adams',
      assigned_to: 'Bob Brown',
      usedFor: 'Production',
      firewallStatus: 'Internet',
      serviceCriticality: '1 - most critical',
      tags: ['pci', 'internet-facing'],
    });
    // Also supports a less critical service: the most critical one counts.
    sim.relate(sim.seedCi({ name: 'Intranet wiki', sys_class_name: 'cmdb_ci_service', busines_criticality: '4 - not critical' }), webId);
    // A workstation class: no used_for or firewall_status.
    sim.seedHost({ name: 'db-02', sys_class_name: 'cmdb_ci_computer', ip_address: '10.0.2.20', serial_number: 'SER-DB-02', assigned_to: 'Carol Chen', serviceCriticality: '3' });
    // A recycled IP: two CIs claim it.
    sim.seedCi({ name: 'old-vm', ip_address: '10.0.3.30', owned_by: 'Dana Old' });
    sim.seedCi({ name: 'new-vm', ip_address: '10.0.3.30', owned_by: 'Erin New' });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.server.clearFaults());

  it('finds a CI by name: environment and exposure from its class, criticality from the service it supports', async () => {
    const cmdb = createServiceNowCmdb(configFor(sim));
    expect(await cmdb.lookupAsset({ assetId: 'web-01' })).toEqual({
      found: true,
      ciId: webId,
      name: 'web-01',
      environment: 'production',
      criticality: 'critical',
      internetFacing: true,
      owner: 'Alice Adams',
      tags: ['pci', 'internet-facing'],
    });
    const req = sim.server.served((r) => r.path === '/api/now/table/cmdb_ci').at(-1)!;
    expect(req.query.sysparm_display_value).toBe('all');
    expect(req.query.sysparm_query).toBe('name=web-01^ORfqdn=web-01');
    expect(sim.server.served((r) => r.path === `/api/now/table/cmdb_ci_linux_server/${webId}`)).toHaveLength(1);
  });

  it('finds a CI by FQDN, by IP hint and by serial hint', async () => {
    const cmdb = createServiceNowCmdb(configFor(sim));
    expect(await cmdb.lookupAsset({ assetId: 'web-01.prod.example.com' })).toMatchObject({ found: true, name: 'web-01' });
    expect(await cmdb.lookupAsset({ assetId: '10.0.2.20' })).toMatchObject({ found: true, name: 'db-02' });
    expect(await cmdb.lookupAsset({ assetId: 'i-0abc', hints: { ip: '10.0.2.20' } })).toEqual({
      found: true,
      ciId: expect.stringMatching(/^[0-9a-f]{32}$/),
      name: 'db-02',
      criticality: 'medium',
      owner: 'Carol Chen',
    });
    expect(await cmdb.lookupAsset({ assetId: 'unknown-host', hints: { serial: 'SER-DB-02' } })).toMatchObject({ found: true, name: 'db-02' });
  });

  it('does not guess between CIs sharing an identifier', async () => {
    const cmdb = createServiceNowCmdb(configFor(sim));
    expect(await cmdb.lookupAsset({ assetId: 'i-0def', hints: { ip: '10.0.3.30' } })).toEqual({ found: false });
    expect(await cmdb.lookupAsset({ assetId: 'new-vm', hints: { ip: '10.0.3.30' } })).toMatchObject({ found: true, owner: 'Erin New' });
  });

  it('answers found:false for an unknown asset', async () => {
    const cmdb = createServiceNowCmdb(configFor(sim));
    expect(await cmdb.lookupAsset({ assetId: 'nope-99', hints: { ip: '192.0.2.1' } })).toEqual({ found: false });
  });

  it('never widens the query with values carrying encoded-query syntax', async () => {
    const cmdb = createServiceNowCmdb(configFor(sim));
    const before = sim.server.requests.length;
    expect(await cmdb.lookupAsset({ assetId: 'x^ORname!=x' })).toEqual({ found: false });
    expect(await cmdb.lookupAsset({ assetId: 'x^NQname!=x', hints: { ip: '1.2.3.4^ORsys_id!=0' } })).toEqual({ found: false });
    const sent = sim.server.requests.slice(before).map((r) => r.query.sysparm_query ?? '');
    expect(sent.every((q) => !q.includes('!='))).toBe(true);
  });

  it('queries a configured CI class table and respects the class hierarchy', async () => {
    const servers = createServiceNowCmdb(configFor(sim, { SERVICENOW_CMDB_TABLE: 'cmdb_ci_server' }));
    expect(await servers.lookupAsset({ assetId: 'web-01' })).toMatchObject({ found: true });
    // db-02 is a computer, not a server.
    expect(await servers.lookupAsset({ assetId: 'db-02' })).toEqual({ found: false });
  });

  it('reads internet exposure from a tag when configured that way', async () => {
    const cmdb = createServiceNowCmdb(
      loadServiceNowConfig({
        SERVICENOW_INSTANCE_URL: sim.url,
        SERVICENOW_USERNAME: USER,
        SERVICENOW_PASSWORD: PASSWORD,
        SERVICENOW_INTERNET_FACING_TAG: 'Internet-Facing',
      })!,
    );
    expect(await cmdb.lookupAsset({ assetId: 'web-01' })).toMatchObject({ internetFacing: true });
    expect(await cmdb.lookupAsset({ assetId: 'db-02' })).toMatchObject({ internetFacing: false });
  });

  it('ignores rows the instance returned for conditions it dropped', async () => {
    // An instance that drops conditions it cannot evaluate may return unrelated rows.
    const stub = new SimulatorServer('lenient-servicenow');
    stub.route('GET', '/api/now/table/sys_dictionary', () => ({
      status: 200,
      body: { result: ['used_for', 'firewall_status'].map((element) => ({ name: 'cmdb_ci_server', element })).concat([{ name: 'cmdb_ci_service', element: 'busines_criticality' }]) },
    }));
    stub.route('GET', '/api/now/table/cmdb_ci', () => ({
      status: 200,
      body: { result: [{ sys_id: 'a'.repeat(32), name: 'unrelated-ci', ip_address: '10.9.9.9', business_criticality: '1 - most critical' }] },
    }));
    await stub.start();
    try {
      const cmdb = createServiceNowCmdb({ ...configFor(sim), instanceUrl: stub.baseUrl });
      expect(await cmdb.lookupAsset({ assetId: 'web-01' })).toEqual({ found: false });
    } finally {
      await stub.close();
    }
  });

  it('classifies failures and keeps the password out of them', async () => {
    const cmdb = createServiceNowCmdb(configFor(sim));
    sim.server.setFaults({ queue: [{ kind: 'status', status: 500 }] });
    const e500 = await failureOf(cmdb.lookupAsset({ assetId: 'web-01' }));
    expect(e500.nonRetryable).toBe(false);
    expectNoSecrets(e500, basicSecrets(USER, PASSWORD));

    sim.server.setFaults({ queue: [{ kind: 'rateLimit', retryAfterSeconds: 7 }] });
    const e429 = await failureOf(cmdb.lookupAsset({ assetId: 'web-01' }));
    expect(e429.nextRetryDelay).toBe(7000);

    const wrong = createServiceNowCmdb(configFor(sim, { SERVICENOW_PASSWORD: 'not-the-password' }));
    const e401 = await failureOf(wrong.lookupAsset({ assetId: 'web-01' }));
    expect(e401.nonRetryable).toBe(true);
    expect(e401.message).toContain('User Not Authenticated');
    expectNoSecrets(e401, basicSecrets(USER, 'not-the-password'));

    const badTable = createServiceNowCmdb(configFor(sim, { SERVICENOW_CMDB_TABLE: 'cmdb_nothing' }));
    const e400 = await failureOf(badTable.lookupAsset({ assetId: 'web-01' }));
    expect(e400.nonRetryable).toBe(true);
    expect(e400.message).toContain('Invalid table cmdb_nothing');
  });
});

describe('ServiceNow CMDB field mapping against a base-instance schema', () => {
  let sim: ServiceNowSimulator;
  beforeAll(async () => {
    sim = await startServiceNowSimulator({ username: USER, password: PASSWORD, customFields: { cmdb_ci_server: ['u_internet_facing', 'u_criticality'] } });
    sim.seedCi({ name: 'app-07', sys_class_name: 'cmdb_ci_server', used_for: 'QA', u_internet_facing: 'true', u_criticality: '2 - somewhat critical' });
  });
  afterAll(() => sim.close());

  it('answers, like the Table API, nothing for fields the queried table does not have', async () => {
    const auth = 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    const res = await fetch(`${sim.url}/api/now/table/cmdb_ci?sysparm_query=name=app-07&sysparm_fields=name,used_for,business_criticality`, { headers: { Authorization: auth } });
    expect(await res.json()).toEqual({ result: [{ name: 'app-07' }] });
    const own = await fetch(`${sim.url}/api/now/table/cmdb_ci_server?sysparm_query=name=app-07&sysparm_fields=name,used_for`, { headers: { Authorization: auth } });
    expect(await own.json()).toEqual({ result: [{ name: 'app-07', used_for: 'QA' }] });
  });

  it('reads a custom exposure flag and a criticality of the CI\'s own class when configured so', async () => {
    const cmdb = createServiceNowCmdb(
      configFor(sim, { SERVICENOW_INTERNET_FACING_FIELD: 'u_internet_facing', SERVICENOW_CRITICALITY_FROM: 'ci', SERVICENOW_CRITICALITY_FIELD: 'u_criticality' }),
    );
    expect(await cmdb.lookupAsset({ assetId: 'app-07' })).toMatchObject({ found: true, environment: 'qa', internetFacing: true, criticality: 'high' });
  });

  it.each([
    [{ SERVICENOW_CRITICALITY_FIELD: 'business_criticality' }, 'SERVICENOW_CRITICALITY_FIELD: "business_criticality" is not a field of cmdb_ci_service'],
    [{ SERVICENOW_INTERNET_FACING_FIELD: 'u_exposed' }, 'SERVICENOW_INTERNET_FACING_FIELD: "u_exposed" is not a field of any CMDB class'],
    [{ SERVICENOW_CRITICALITY_FROM: 'ci', SERVICENOW_CRITICALITY_FIELD: 'business_criticality' }, 'SERVICENOW_CRITICALITY_FIELD: "business_criticality" is not a field of any CMDB class'],
  ])('refuses at start a configured field the instance does not have (%o)', async (extra, message) => {
    const cmdb = createServiceNowCmdb(configFor(sim, extra));
    const atStart = await failureOf(cmdb.preflight());
    expect(atStart.nonRetryable).toBe(true);
    expect(atStart.type).toBe('servicenow.BadConfiguration');
    expect(atStart.message).toContain(message);
    // A worker that skipped the start check refuses the first lookup the same way, before reading CIs.
    const before = sim.server.served((r) => r.path === '/api/now/table/cmdb_ci').length;
    expect((await failureOf(createServiceNowCmdb(configFor(sim, extra)).lookupAsset({ assetId: 'app-07' }))).message).toContain(message);
    expect(sim.server.served((r) => r.path === '/api/now/table/cmdb_ci')).toHaveLength(before);
  });

  it('a worker starting with a configured field the instance does not have stops with a configuration error naming its variable', async () => {
    const cmdb = createServiceNowCmdb(configFor(sim, { SERVICENOW_INTERNET_FACING_FIELD: 'u_exposed' }));
    const stop = await preflightSystems({ cmdb }).then(() => undefined, (e: unknown) => e);
    expect(stop).toBeInstanceOf(ConfigError);
    expect((stop as Error).message).toContain('SERVICENOW_INTERNET_FACING_FIELD: "u_exposed" is not a field of any CMDB class');
  });

  it('a worker starting while the instance is unavailable starts, and its first lookup checks the fields', async () => {
    sim.server.setFaults({ match: /sys_dictionary/, queue: [{ kind: 'status', status: 503 }] });
    const cmdb = createServiceNowCmdb(configFor(sim, { SERVICENOW_INTERNET_FACING_FIELD: 'u_exposed' }));
    await expect(preflightSystems({ cmdb })).resolves.toBeUndefined();
    expect((await failureOf(cmdb.lookupAsset({ assetId: 'app-07' }))).message).toContain('SERVICENOW_INTERNET_FACING_FIELD: "u_exposed"');
  });

  it('says what to grant when the integration user cannot read the data dictionary', async () => {
    sim.server.setFaults({ match: /sys_dictionary/, queue: [{ kind: 'status', status: 403, body: { error: { message: 'Operation Failed', detail: 'ACL Exception' }, status: 'failure' } }] });
    const f = await failureOf(createServiceNowCmdb(configFor(sim)).preflight());
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('give the integration user read access to sys_dictionary');
  });
});

describe('ServiceNow simulator pagination', () => {
  it('pages with sysparm_limit/sysparm_offset, Link and X-Total-Count', async () => {
    const sim = await startServiceNowSimulator({ username: USER, password: PASSWORD });
    try {
      for (let i = 0; i < 5; i++) sim.seedCi({ name: `node-${i}` });
      const auth = 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
      const res = await fetch(`${sim.url}/api/now/table/cmdb_ci?sysparm_query=nameSTARTSWITHnode^ORDERBYname&sysparm_limit=2&sysparm_offset=2&sysparm_fields=name`, {
        headers: { Authorization: auth, Accept: 'application/json' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-total-count')).toBe('5');
      const link = res.headers.get('link')!;
      expect(link).toContain('rel="first"');
      expect(link).toContain('sysparm_offset=0');
      expect(link).toMatch(/sysparm_offset=4[^>]*>;rel="next"/);
      expect(link).toContain('rel="prev"');
      expect(await res.json()).toEqual({ result: [{ name: 'node-2' }, { name: 'node-3' }] });
    } finally {
      await sim.close();
    }
  });
});

describe('criticality mapping', () => {
  it.each([
    ['1 - most critical', 'critical'],
    ['2 - somewhat critical', 'high'],
    ['3 - less critical', 'medium'],
    ['4 - not critical', 'low'],
    ['2', 'high'],
    ['High', 'high'],
    ['not critical', 'low'],
    ['', undefined],
    ['whatever', undefined],
  ])('%s -> %s', (input, expected) => {
    expect(criticality(input)).toBe(expected);
  });
});
