import { sourceFindingRef, sourceFindingRefSchema } from '../../../ingest/source-ref';
import { run, sampleJson, sampleText, single } from './samples';

const dependabot = { 'x-github-event': 'dependabot_alert' };
const codeScanning = { 'x-github-event': 'code_scanning_alert' };

describe('where a finding lives at its source (sourceFindingRef)', () => {
  it('a Dependabot alert webhook names its repository and alert number', () => {
    expect(sourceFindingRef(single('github', 'github/octokit-dependabot_alert-created.json', dependabot))).toEqual({
      source: 'github',
      repository: 'wolfy1339/pika-pack',
      alertKind: 'dependabot',
      alertNumber: 20,
    });
  });

  it('a code scanning alert webhook names its repository and alert number', () => {
    expect(sourceFindingRef(single('github', 'github/octokit-code_scanning_alert-fixed.json', codeScanning))).toEqual({
      source: 'github',
      repository: 'Codertocat/Hello-World',
      alertKind: 'code_scanning',
      alertNumber: 10,
    });
  });

  it('a Security Hub finding from an EventBridge event names its Id, product and region', () => {
    const raw = sampleJson('securityhub/asr-eventbridge-custom-action-cis4.3-sg.json');
    expect(sourceFindingRef(single('asff', 'securityhub/asr-eventbridge-custom-action-cis4.3-sg.json'))).toEqual({
      source: 'securityhub',
      findingId: raw.detail.findings[0].Id,
      productArn: 'arn:aws:securityhub:us-east-2::product/aws/securityhub',
      region: 'us-east-2',
    });
  });

  it('a GuardDuty finding imported into Security Hub is re-queried through Security Hub', () => {
    const raw = sampleJson('securityhub/ocsf-examples-asff-guardduty-detection.json');
    expect(sourceFindingRef(single('asff', 'securityhub/ocsf-examples-asff-guardduty-detection.json'))).toEqual({
      source: 'securityhub',
      findingId: raw.Id,
      productArn: 'arn:aws:securityhub:us-east-2::product/aws/guardduty',
      region: 'us-east-2',
    });
  });

  it('a finding without a Region takes the region of its product ARN', () => {
    const raw = sampleJson('securityhub/ocsf-examples-asff-pci-dss-control-failed.json');
    delete raw.Region;
    const ref = sourceFindingRef(run('asff', raw).findings[0]);
    expect(ref).toMatchObject({ source: 'securityhub', region: 'us-east-2' });
  });

  it('Trivy\'s ASFF template output with a placeholder region names no region (the worker\'s AWS_REGION applies)', () => {
    const f = run('asff', sampleText('securityhub/trivy-integration-alpine-310-asff.json')).findings[0];
    const ref = sourceFindingRef(f);
    expect(ref).toEqual({ source: 'securityhub', findingId: f.details?.findingId, productArn: 'arn:aws:securityhub:test-region::product/aquasecurity/aquasecurity' });
  });

  it('a source drw cannot query, or details without the alert number, give no reference', () => {
    const alert = single('alertmanager', 'alertmanager/metalmatze-alertmanager-bot-firing.json');
    expect(sourceFindingRef(alert)).toBeUndefined();
    const gh = single('github', 'github/octokit-dependabot_alert-created.json', dependabot);
    expect(sourceFindingRef({ ...gh, details: { ...gh.details, alertNumber: undefined } })).toBeUndefined();
    expect(sourceFindingRef({ ...gh, details: { ...gh.details, repository: '../../etc' } })).toBeUndefined();
    const sh = single('asff', 'securityhub/asr-asff-afsbp-s3.2-passed.json');
    expect(sourceFindingRef({ ...sh, details: { ...sh.details, productArn: 'arn:aws:s3:::bucket' } })).toBeUndefined();
  });

  it('the adapters\' boundary refuses a reference naming a wrong region or extra fields', () => {
    const good = { source: 'securityhub', findingId: 'x', productArn: 'arn:aws:securityhub:eu-west-1::product/aws/securityhub' };
    expect(sourceFindingRefSchema.safeParse(good).success).toBe(true);
    expect(sourceFindingRefSchema.safeParse({ ...good, region: 'eu-west-1; rm' }).error?.issues[0].path).toEqual(['region']);
    expect(sourceFindingRefSchema.safeParse({ ...good, token: 'x' }).success).toBe(false);
    // A ".." repository would climb out of /repos/{owner}/{repo}/ in the API path.
    expect(sourceFindingRefSchema.safeParse({ source: 'github', repository: 'acme/..', alertKind: 'dependabot', alertNumber: 1 }).success).toBe(false);
  });
});
