import { createActivities } from '../../../activities';
import { createInProcessSystems } from '../../../activities/inprocess';
import { buildSystems } from '../../../activities/registry';
import type { PolicySet } from '../../../planner/policy-schema';
import { startEntraSimulator } from '../../../simulators/entra';

const policy = (): PolicySet => ({ version: 'v', playbooks: [] }) as unknown as PolicySet;
const key = { idempotencyKey: 'rem-5:disable', remediationId: 'rem-5', reason: 'phished' };

describe('choosing the identity, runbook and policy-engine providers', () => {
  it('takes the vendor whose variables are set, or the one DRW_<KIND> names', () => {
    const okta = { OKTA_ORG_URL: 'https://acme.okta.com', OKTA_API_TOKEN: 't' };
    const awx = { AWX_URL: 'https://awx.example.com', AWX_TOKEN: 't', AWX_JOB_TEMPLATES: '{"restart-service":7}' };
    const rundeck = { RUNDECK_URL: 'https://rundeck.example.com', RUNDECK_TOKEN: 't', RUNDECK_JOBS: '{"restart-service":"abc-1"}' };
    expect(buildSystems({ ...okta, ...awx }).providers).toMatchObject({ identity: 'okta', runbook: 'awx', policyEngine: 'none' });
    expect(buildSystems({ ...okta, ...awx, ...rundeck, DRW_RUNBOOK: 'rundeck', DRW_IDENTITY: 'inprocess', OPA_URL: 'http://127.0.0.1:8181' }).providers).toMatchObject({
      identity: 'inprocess',
      runbook: 'rundeck',
      policyEngine: 'opa',
    });
    // A worker with nothing configured fails closed; the stand-ins only when asked for.
    expect(buildSystems({ DRW_ALLOW_INPROCESS: '1' }).providers).toMatchObject({ identity: 'inprocess', runbook: 'inprocess' });
  });

  it('a kind with no vendor configured fails closed: no fake answer, a non-retryable NoProvider naming what to set', async () => {
    const systems = buildSystems({});
    expect(systems.providers).toMatchObject({ ticketing: 'none', cmdb: 'none', iac: 'none', endpoint: 'none', notify: 'none', runbook: 'none', identity: 'none' });
    const failure = await systems.endpoint.isolateHost({ idempotencyKey: 'rem-5:contain', remediationId: 'rem-5', assetId: 'web-1', comment: 'x' }).catch((e) => e);
    expect(failure).toMatchObject({ type: 'NoProvider', nonRetryable: true, message: expect.stringMatching(/^no endpoint provider is configured on this worker: set DRW_ENDPOINT \(crowdstrike, defender\)/) });
    expect(() => buildSystems({ DRW_ALLOW_INPROCESS: 'yes' })).toThrow(/DRW_ALLOW_INPROCESS: 1 or 0/);
  });

  it('refuses to start when the named provider is not configured or unknown', () => {
    expect(() => buildSystems({ DRW_IDENTITY: 'entra' })).toThrow(/DRW_IDENTITY=entra: its variables are not set/);
    expect(() => buildSystems({ DRW_RUNBOOK: 'jenkins' })).toThrow(/DRW_RUNBOOK: unknown provider "jenkins" \(one of inprocess, awx, rundeck\)/);
    expect(() => buildSystems({ AWX_URL: 'https://awx.example.com' })).toThrow(/AWX_TOKEN: is required/);
  });

  it('disables an Entra ID account through the identityDisable activity and verifies it with account_disabled', async () => {
    const sim = await startEntraSimulator({ users: [{ userPrincipalName: 'dana@contoso.example' }] });
    try {
      const systems = buildSystems({ ENTRA_TENANT_ID: sim.tenantId, ENTRA_CLIENT_ID: sim.clientId, ENTRA_CLIENT_SECRET: sim.clientSecret, ENTRA_GRAPH_URL: sim.baseUrl, ENTRA_LOGIN_URL: sim.baseUrl });
      const acts = createActivities({ ...systems, policy });
      expect((await acts.verify({ check: { kind: 'account_disabled', userId: 'dana@contoso.example' } })).ok).toBe(false);
      await acts.identityDisable({ ...key, userId: 'dana@contoso.example' });
      expect(await acts.verify({ check: { kind: 'account_disabled', userId: 'dana@contoso.example' } })).toEqual({ ok: true, detail: 'entra reports dana@contoso.example disabled' });
      await acts.identityEnable({ ...key, idempotencyKey: 'rem-5:enable', userId: 'dana@contoso.example' });
      expect((await acts.verify({ check: { kind: 'account_enabled', userId: 'dana@contoso.example' } })).ok).toBe(true);
    } finally {
      await sim.close();
    }
  });

  it('plays every identity action in-process, remembering the account state', async () => {
    const world = createInProcessSystems();
    const acts = createActivities({ ...world, policy });
    await acts.identityRevokeSessions({ ...key, userId: 'erin' });
    expect(await acts.identityDisable({ ...key, userId: 'erin' })).toMatchObject({ system: 'inprocess', enabled: false, existing: false });
    expect(await acts.identityDisable({ ...key, userId: 'erin' })).toMatchObject({ existing: true });
    expect(world.record.accounts.get('erin')).toEqual({ enabled: false, revocations: 1 });
    expect((await acts.verify({ check: { kind: 'account_disabled', userId: 'erin' } })).ok).toBe(true);
  });
});
