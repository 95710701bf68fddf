import { createOpaPolicyEngine, loadOpaConfig } from '../../../activities/adapters/opa';
import { expectNoSecrets, failureOf } from '../endpoint/temporal-like';
import { FIXTURE_TOKEN, startOpa, type OpaServer } from './opa-server';

const facts = (over: Record<string, unknown> = {}) => ({ riskScore: 95, asset: { id: 'web-1', environment: 'production', tags: ['web'] }, ...over });

describe('Open Policy Agent policy engine (a real OPA with the fixture bundle)', () => {
  let opa: OpaServer;
  const errors: unknown[] = [];

  beforeAll(async () => {
    opa = await startOpa();
  }, 15 * 60_000);
  afterAll(async () => {
    await opa?.close();
    expectNoSecrets(errors, [FIXTURE_TOKEN]);
  });

  const engine = () => createOpaPolicyEngine(loadOpaConfig({ OPA_URL: opa.url, OPA_TOKEN: FIXTURE_TOKEN })!);

  it('allows containment of a production host at risk 95, with the decision id OPA logged and the bundle revision', async () => {
    const decision = await engine().evaluate({ path: 'drw/containment/allow', input: facts() });
    expect(decision).toMatchObject({ result: true, engine: 'opa' });
    expect(Object.values(decision.revisions!)).toEqual(['drw-fixture-1']);
    expect(decision.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    // The same id is in OPA's own decision log, with the input it was given.
    await new Promise((r) => setTimeout(r, 200));
    const logged = opa
      .log()
      .split('\n')
      .filter((l) => l.includes(decision.decisionId!))
      .map((l) => JSON.parse(l) as { decision_id: string; path: string; input: unknown; result: unknown });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ path: 'drw/containment/allow', input: facts(), result: true });
  });

  it('denies it below the production threshold, and says why through another rule of the package', async () => {
    expect((await engine().evaluate({ path: 'drw/containment/allow', input: facts({ riskScore: 70 }) })).result).toBe(false);
    const why = await engine().evaluate({ path: 'drw/containment', input: facts({ riskScore: 70, asset: { id: 'web-1', environment: 'production', tags: ['no-auto-contain'] } }) });
    expect(why.result).toEqual({ allow: false, reasons: ['asset is tagged no-auto-contain', 'risk below the production threshold (90)'] });
  });

  it('refuses an undefined decision instead of reading it as false', async () => {
    const f = await failureOf(engine().evaluate({ path: 'drw/containment/permit', input: facts() }));
    errors.push(f);
    expect(f).toMatchObject({ type: 'opa.UndefinedDecision', nonRetryable: true });
    expect(f.message).toBe('opa: no decision at drw/containment/permit: the document is undefined (check the path, and give the rule a default)');
  });

  it('does not retry a policy whose rules conflict, and quotes OPA', async () => {
    const f = await failureOf(engine().evaluate({ path: 'drw/broken/value', input: { x: 1 } }));
    errors.push(f);
    expect(f).toMatchObject({ type: 'opa.PolicyError', nonRetryable: true });
    expect(f.message).toMatch(/answered 500: .*eval_conflict_error/);
  });

  it('is refused without the token OPA requires, and that is not retried', async () => {
    const f = await failureOf(createOpaPolicyEngine({ url: opa.url, timeoutMs: 2_000 }).evaluate({ path: 'drw/containment/allow', input: facts() }));
    errors.push(f);
    expect(f).toMatchObject({ type: 'opa.ClientError', nonRetryable: true });
    expect(f.message).toMatch(/answered 401: .*request rejected by administrative policy/);
  });

  it('rejects a path that could leave the data API before sending anything', async () => {
    for (const path of ['../v1/policies', 'drw/containment/allow?pretty', 'drw.containment.allow', '']) {
      const f = await failureOf(engine().evaluate({ path, input: facts() }));
      errors.push(f);
      expect(f).toMatchObject({ type: 'opa.BadInput', nonRetryable: true });
    }
  });

  it('retries when OPA is unreachable, so a caller that fails closed can wait and escalate', async () => {
    const f = await failureOf(createOpaPolicyEngine({ url: 'http://127.0.0.1:1', timeoutMs: 500 }).evaluate({ path: 'drw/containment/allow', input: facts() }));
    errors.push(f);
    expect(f).toMatchObject({ type: 'opa.Unavailable', nonRetryable: false });
  });

  it('reads OPA_URL and OPA_TOKEN, and refuses plain http off loopback', () => {
    expect(loadOpaConfig({})).toBeUndefined();
    expect(loadOpaConfig({ OPA_URL: 'https://opa.example.com:8181/' })).toEqual({ url: 'https://opa.example.com:8181', token: undefined, timeoutMs: 5_000 });
    expect(() => loadOpaConfig({ OPA_URL: 'http://opa.example.com:8181', OPA_TOKEN: 'secret-opa-token' })).toThrow(/^invalid OPA configuration: OPA_URL: must use https$/);
    expect(() => loadOpaConfig({ OPA_TOKEN: 'secret-opa-token' })).toThrow(/OPA_URL: is required/);
  });
});
