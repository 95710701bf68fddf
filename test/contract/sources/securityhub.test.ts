import { createSecurityHubFindingSource, loadSecurityHubConfig } from '../../../activities/adapters/securityhub';
import type { SourceFindingRef } from '../../../activities/interfaces';
import { sourceFindingRef } from '../../../ingest/source-ref';
import { startSecurityHubSimulator, type AsffFinding, type SecurityHubSimulator } from '../../../simulators/securityhub';
import { expectNoSecrets, failureOf, retryLikeTemporal } from '../endpoint/temporal-like';
import { run, sampleJson } from '../../unit/ingest/samples';

const SG = 'securityhub/asr-eventbridge-custom-action-cis4.3-sg.json';
// The SDK's notice that its 2027 releases need Node 22 says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

describe('Security Hub finding source (GetFindings through the AWS SDK)', () => {
  let sim: SecurityHubSimulator;
  let finding: AsffFinding;
  let ref: SourceFindingRef;
  const errors: unknown[] = [];
  const sources: { close(): void }[] = [];

  const env = (over: Record<string, string> = {}) => ({
    SECURITYHUB_ENDPOINT: sim.baseUrl,
    AWS_ACCESS_KEY_ID: sim.accessKeyId,
    AWS_SECRET_ACCESS_KEY: sim.secretAccessKey,
    SECURITYHUB_TIMEOUT_MS: '1000',
    ...over,
  });
  const source = (over: Record<string, string> = {}) => {
    const s = createSecurityHubFindingSource(loadSecurityHubConfig(env(over))!);
    sources.push(s);
    return s;
  };

  beforeEach(async () => {
    sim = await startSecurityHubSimulator();
    // The real finding of the sample, as Security Hub holds it, and the reference drw derives from its EventBridge event.
    finding = sampleJson(SG).detail.findings[0];
    sim.importFindings([finding]);
    ref = sourceFindingRef(run('asff', sampleJson(SG)).findings[0])!;
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) s.close();
    await sim.close();
  });
  afterAll(() => expectNoSecrets(errors, ['sim-secret-access-key']));

  it('a failed control\'s finding is still there: not gone, in Security Hub\'s words', async () => {
    expect(await source().getFindingState({ ref })).toEqual({ system: 'securityhub', gone: false, status: 'Compliance FAILED, Workflow NEW, RecordState ACTIVE' });
    const [req] = sim.served((r) => r.path === '/findings');
    expect(req.method).toBe('POST');
    expect(req.body).toEqual({
      Filters: { Id: [{ Value: finding.Id, Comparison: 'EQUALS' }], ProductArn: [{ Value: finding.ProductArn, Comparison: 'EQUALS' }] },
      MaxResults: 10,
    });
    // Signed by the SDK for the finding's region and for Security Hub.
    expect(String(req.headers.authorization)).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${sim.accessKeyId}/\\d{8}/us-east-2/securityhub/aws4_request, SignedHeaders=.*, Signature=[0-9a-f]{64}$`));
  });

  it('the control passing again makes it gone', async () => {
    sim.setState(finding.Id, finding.ProductArn, { Compliance: { Status: 'PASSED' } });
    expect(await source().getFindingState({ ref })).toMatchObject({ gone: true, status: 'Compliance PASSED, Workflow NEW, RecordState ACTIVE' });
  });

  it('a finding resolved in its workflow, or archived by its provider, is gone', async () => {
    sim.setState(finding.Id, finding.ProductArn, { Workflow: { Status: 'RESOLVED' } });
    expect(await source().getFindingState({ ref })).toMatchObject({ gone: true, status: 'Compliance FAILED, Workflow RESOLVED, RecordState ACTIVE' });
    sim.setState(finding.Id, finding.ProductArn, { Workflow: { Status: 'NEW' }, RecordState: 'ARCHIVED' });
    expect(await source().getFindingState({ ref })).toMatchObject({ gone: true, status: 'Compliance FAILED, Workflow NEW, RecordState ARCHIVED' });
  });

  it('a person suppressing the finding is not a fix, and the status says so', async () => {
    const res = await fetch(`${sim.baseUrl}/_sim/findings`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Id: finding.Id, ProductArn: finding.ProductArn, Workflow: { Status: 'SUPPRESSED' } }),
    });
    expect(res.status).toBe(200);
    expect(await source().getFindingState({ ref })).toEqual({
      system: 'securityhub',
      gone: false,
      status: 'Compliance FAILED, Workflow SUPPRESSED, RecordState ACTIVE: suppressed by a person, which hides the finding but is not a fix',
    });
  });

  it('a finding Security Hub does not return is unknown, so not gone, and said "not found"', async () => {
    const missing = { ...ref, findingId: `${finding.Id}-gone` } as SourceFindingRef;
    expect(await source().getFindingState({ ref: missing })).toMatchObject({ gone: false, status: expect.stringMatching(/^not found in us-east-2/) });
  });

  it('asks the finding\'s own region: the same finding is not found from another region\'s endpoint', async () => {
    const elsewhere = { ...ref, region: 'eu-west-1' } as SourceFindingRef;
    expect(await source().getFindingState({ ref: elsewhere })).toMatchObject({ gone: false, status: expect.stringMatching(/^not found in eu-west-1/) });
    const noRegion = { source: 'securityhub', findingId: finding.Id, productArn: finding.ProductArn } as SourceFindingRef;
    expect(await source({ AWS_REGION: 'us-east-2' }).getFindingState({ ref: noRegion })).toMatchObject({ gone: false, status: expect.stringMatching(/^Compliance FAILED/) });
    const f = await failureOf(source().getFindingState({ ref: noRegion }));
    expect(f).toMatchObject({ type: 'securityhub.NoRegion', nonRetryable: true });
  });

  it('refuses a reference that is not a Security Hub finding before calling AWS', async () => {
    const f = await failureOf(source().getFindingState({ ref: { source: 'github', repository: 'acme/app', alertKind: 'dependabot', alertNumber: 1 } }));
    expect(f).toMatchObject({ type: 'securityhub.InvalidInput', nonRetryable: true, message: 'securityhub: not a Security Hub finding reference: source is github' });
    expect(sim.requests).toHaveLength(0);
  });

  it('follows the empty pages Security Hub can answer before the match', async () => {
    await sim.close();
    sim = await startSecurityHubSimulator({ emptyPagesFirst: 2 });
    sim.importFindings([{ ...finding, Compliance: { Status: 'PASSED' } }]);
    expect(await source().getFindingState({ ref })).toMatchObject({ gone: true });
    expect(sim.served((r) => r.path === '/findings').map((r) => (r.body as { NextToken?: string }).NextToken !== undefined)).toEqual([false, true, true]);
  });

  it('retries throttling after a delay and a 5xx, then answers', async () => {
    sim.failNext(1, 429, 'LimitExceededException', 'Rate exceeded');
    sim.setFaults({ match: /\/findings$/, queue: [{ kind: 'rateLimit', retryAfterSeconds: 3 }, { kind: 'status', status: 503 }] });
    const s = source();
    const { result, failures } = await retryLikeTemporal(() => s.getFindingState({ ref }));
    errors.push(...failures);
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatchObject({ type: 'securityhub.RateLimited', nonRetryable: false, nextRetryDelay: 3000 });
    expect(failures[1]).toMatchObject({ type: 'securityhub.ServerError', nonRetryable: false });
    expect(failures[2]).toMatchObject({ type: 'securityhub.RateLimited', nonRetryable: false, nextRetryDelay: 1000 });
    expect((failures[2] as Error).message).toBe('securityhub: GetFindings answered 429 LimitExceededException: Rate exceeded');
    expect(result).toMatchObject({ gone: false });
  });

  it('access denied is not retried, and carries AWS\'s message', async () => {
    const denied = 'User: arn:aws:iam::111111111111:user/drw is not authorized to perform: securityhub:GetFindings';
    sim.failNext(1, 403, 'AccessDeniedException', denied);
    const s = source();
    const f = await failureOf(retryLikeTemporal(() => s.getFindingState({ ref })));
    errors.push(f);
    expect(f).toMatchObject({ type: 'securityhub.ClientError', nonRetryable: true });
    expect(f.message).toBe(`securityhub: GetFindings answered 403 AccessDeniedException: ${denied}`);
    expect(sim.requests.filter((r) => r.path === '/findings')).toHaveLength(1);
  });

  it('an access key Security Hub does not know is refused for good', async () => {
    const f = await failureOf(source({ AWS_ACCESS_KEY_ID: 'AKIAUNKNOWN000000000' }).getFindingState({ ref }));
    errors.push(f);
    expect(f).toMatchObject({ type: 'securityhub.ClientError', nonRetryable: true });
    expect(f.message).toMatch(/403 UnrecognizedClientException: The security token included in the request is invalid/);
  });

  it('a request without a SigV4 Authorization is refused by the simulator', async () => {
    const res = await fetch(`${sim.baseUrl}/findings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    const basic = await fetch(`${sim.baseUrl}/findings`, { method: 'POST', headers: { authorization: 'Bearer x', 'content-type': 'application/json' }, body: '{}' });
    expect(basic.headers.get('x-amzn-errortype')).toBe('IncompleteSignatureException');
  });

  it('a Security Hub that does not answer in time is retried', async () => {
    sim.setFaults({ match: /\/findings$/, queue: [{ kind: 'hang', ms: 3000 }] });
    const s = source();
    const { result, failures } = await retryLikeTemporal(() => s.getFindingState({ ref }));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ type: 'securityhub.Unavailable', nonRetryable: false });
    expect(result).toMatchObject({ system: 'securityhub' });
  });

  it('configuration: AWS credentials and a region, or an endpoint, turn it on; nothing else does', () => {
    expect(loadSecurityHubConfig({})).toBeUndefined();
    expect(loadSecurityHubConfig({ AWS_REGION: 'eu-west-1' })).toBeUndefined();
    expect(loadSecurityHubConfig({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE000000000', AWS_SECRET_ACCESS_KEY: 's' })).toBeUndefined();
    expect(loadSecurityHubConfig({ AWS_PROFILE: 'sec', AWS_REGION: 'eu-west-1' })).toMatchObject({ region: 'eu-west-1', profile: 'sec', credentials: undefined });
    expect(loadSecurityHubConfig({}, { explicit: true })).toMatchObject({ region: undefined, credentials: undefined });
    expect(() => loadSecurityHubConfig({ SECURITYHUB_ENDPOINT: 'http://securityhub.example.com' })).toThrow(/SECURITYHUB_ENDPOINT: must be an https URL/);
    expect(() => loadSecurityHubConfig({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE000000000', AWS_SECRET_ACCESS_KEY: 'do-not-echo', AWS_REGION: 'moon-1' })).toThrow(/AWS_REGION: must be an AWS region/);
    try {
      loadSecurityHubConfig({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE000000000', AWS_SECRET_ACCESS_KEY: 'do-not-echo', AWS_REGION: 'moon-1' });
    } catch (e) {
      expect((e as Error).message).not.toContain('do-not-echo');
    }
  });
});
