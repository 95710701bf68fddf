import { createServiceNowCmdb, loadServiceNowConfig, type ServiceNowConfig } from '../../../activities/adapters/servicenow';
import { criticality } from '../../../activities/adapters/servicenow/cmdb';
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
    SERVICENOW_INTERNET_FACING_FIELD: 'u_internet_facing',
    SERVICENOW_TIMEOUT_MS: '300',
    ...extra,
  })!;
}

describe('ServiceNow CMDB adapter against the simulator', () => {
  let sim: ServiceNowSimulator;
  let webId: string;

  beforeAll(async () => {
    sim = await startServiceNowSimulator({ username: USER, password: PASSWORD });
    webId = sim.seedCi({
      name: 'web-01',
      fqdn: 'web-01.prod.example.com',
      sys_class_name: 'cmdb_ci_linux_server',
      ip_address: '10.0.1.15',
      serial_number: 'VMW-42-AAA',
      owned_by: 'Alice Adams',
      assigned_to: 'Bob Brown',
      used_for: 'Production',
      business_criticality: '1 - most critical',
      u_internet_facing: 'true',
      sys_tags: 'pci, internet-facing',
    });
    sim.seedCi({
      name: 'db-02',
      sys_class_name: 'cmdb_ci_computer',
      ip_address: '10.0.2.20',
      serial_number: 'SER-DB-02',
      assigned_to: 'Carol Chen',
      environment: 'Staging',
      business_criticality: '3',
      u_internet_facing: 'false',
    });
    // A recycled IP: two CIs claim it.
    sim.seedCi({ name: 'old-vm', ip_address: '10.0.3.30', owned_by: 'Dana Old' });
    sim.seedCi({ name: 'new-vm', ip_address: '10.0.3.30', owned_by: 'Erin New' });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.server.clearFaults());

  it('finds a CI by name with owner, environment, criticality and exposure', async () => {
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
    expect(req.query.sysparm_display_value).toBe('true');
    expect(req.query.sysparm_query).toBe('name=web-01^ORfqdn=web-01');
  });

  it('finds a CI by FQDN, by IP hint and by serial hint', async () => {
    const cmdb = createServiceNowCmdb(configFor(sim));
    expect(await cmdb.lookupAsset({ assetId: 'web-01.prod.example.com' })).toMatchObject({ found: true, name: 'web-01' });
    expect(await cmdb.lookupAsset({ assetId: '10.0.2.20' })).toMatchObject({ found: true, name: 'db-02' });
    expect(await cmdb.lookupAsset({ assetId: 'i-0abc', hints: { ip: '10.0.2.20' } })).toEqual({
      found: true,
      ciId: expect.stringMatching(/^[0-9a-f]{32}$/),
      name: 'db-02',
      environment: 'staging',
      criticality: 'medium',
      internetFacing: false,
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
