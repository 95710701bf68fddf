import { run, sampleJson, sampleText, sha256, single } from './samples';

const S3_PASSED = 'securityhub/asr-asff-afsbp-s3.2-passed.json';
const CUSTOM_ACTION = 'securityhub/asr-eventbridge-custom-action-cis4.3-sg.json';
const IMPORTED = 'securityhub/asr-eventbridge-imported-afsbp-ec2.7-failed.json';
const GUARDDUTY = 'securityhub/ocsf-examples-asff-guardduty-detection.json';
const INSPECTOR = 'securityhub/ocsf-examples-asff-inspector-vulnerability.json';
const PCI = 'securityhub/ocsf-examples-asff-pci-dss-control-failed.json';
const TRIVY_ASFF = 'securityhub/trivy-integration-alpine-310-asff.json';

describe('asff normalizer', () => {
  it('maps a bare PASSED/RESOLVED finding to resolved, with the bucket name (S3.2)', () => {
    const raw = sampleJson(S3_PASSED);
    const f = single('asff', S3_PASSED);
    expect(f).toMatchObject({
      source: 'aws-securityhub',
      rule: 'S3.2',
      title: 'S3.2 S3 buckets should prohibit public read access',
      severity: 'info',
      category: 'misconfiguration',
      status: 'resolved',
      riskScore: 0,
      observedAt: '2021-07-22T15:22:44.463Z',
      asset: { id: 'arn:aws:s3:::so0111-aws-cloudtrail-111111111111', type: 'AwsS3Bucket' },
    });
    expect(f.details).toMatchObject({ bucket: 'so0111-aws-cloudtrail-111111111111', complianceStatus: 'PASSED', awsAccountId: '111111111111' });
    // What GetFindings needs to re-query it.
    expect(f.details).toMatchObject({ findingId: raw.Id, productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub', findingRegion: 'us-east-1' });
    expect(f.rawRef).toEqual({ format: 'asff', sha256: sha256(raw), sourceId: raw.Id });
  });

  it('unwraps a Custom Action EventBridge event and exposes the security group (CIS 4.3)', () => {
    const f = single('asff', CUSTOM_ACTION);
    expect(f).toMatchObject({
      rule: 'CIS.4.3',
      severity: 'medium',
      status: 'open',
      category: 'misconfiguration',
      riskScore: 40,
      observedAt: '2020-06-17T11:56:59.908Z',
      asset: { id: 'arn:aws:ec2:us-east-2:111111111111:security-group/sg-02cfbecbc814a3c24', type: 'AwsEc2SecurityGroup' },
    });
    expect(f.details).toMatchObject({
      securityGroupId: 'sg-02cfbecbc814a3c24',
      vpcId: 'vpc-9826f1f3',
      openToInternet: true,
      customAction: 'CIS 4.3',
      region: 'us-east-2',
    });
  });

  it('unwraps an Imported EventBridge event (EC2.7 FAILED → open)', () => {
    const raw = sampleJson(IMPORTED);
    const f = single('asff', IMPORTED);
    expect(f).toMatchObject({
      rule: 'EC2.7',
      severity: 'info',
      status: 'open',
      category: 'misconfiguration',
      asset: { id: 'AWS::::Account:111111111111', type: 'AwsAccount' },
    });
    // The hash is of the finding itself, not of the EventBridge envelope.
    expect(f.rawRef?.sha256).toBe(sha256(raw.detail.findings[0]));
  });

  it('maps a GuardDuty finding to a threat keyed by its finding type', () => {
    const f = single('asff', GUARDDUTY);
    expect(f).toMatchObject({
      rule: 'Stealth:IAMUser-CloudTrailLoggingDisabled',
      severity: 'low',
      category: 'threat',
      status: 'open',
      asset: { id: 'AWS::IAM::AccessKey:ASIATMJPC7EXAMPLE', type: 'AwsIamAccessKey' },
    });
    expect(f.rawRef?.url).toMatch(/^https:\/\/us-east-2\.console\.aws\.amazon\.com\/guardduty\//);
    expect(f.details?.principalName).toBe('Admin');
  });

  it('maps an Inspector finding to a vulnerability with package facts', () => {
    const f = single('asff', INSPECTOR);
    expect(f).toMatchObject({
      rule: 'CVE-2023-1255',
      severity: 'medium',
      category: 'vulnerability',
      asset: { type: 'AwsEcrContainerImage' },
    });
    expect(f.details).toMatchObject({
      cve: 'CVE-2023-1255',
      package: 'openssl',
      installedVersion: '3.0.8-r3',
      fixedVersion: '0:3.0.8-r4',
      ecrRepository: 'browserhostingstack-EXAMPLE-btb1o54yh1jr',
      cvssScore: 5.9,
    });
  });

  it('maps a PCI control failure by its security control id', () => {
    const f = single('asff', PCI);
    expect(f).toMatchObject({ rule: 'Config.1', severity: 'medium', status: 'open', category: 'misconfiguration', observedAt: '2023-07-21T18:12:05.693Z' });
    expect(f.details?.controlId).toBe('Config.1');
  });

  it('maps Trivy ASFF output one finding per entry, kept apart although Trivy reuses Ids', () => {
    const raw = sampleJson(TRIVY_ASFF);
    const ids = raw.Findings.map((x: { Id: string }) => x.Id);
    expect(new Set(ids).size).toBeLessThan(ids.length);
    const r = run('asff', sampleText(TRIVY_ASFF));
    expect(r.findings).toHaveLength(raw.Findings.length);
    expect(new Set(r.findings.map((f) => f.dedupeKey)).size).toBe(raw.Findings.length);
    expect(r.findings[2]).toMatchObject({
      rule: 'CVE-2019-1549',
      category: 'vulnerability',
      severity: 'medium',
      riskScore: 53,
      asset: { id: 'testdata/fixtures/images/alpine-310.tar.gz (alpine 3.10.2)', type: 'Container' },
      details: { package: 'libssl1.1', installedVersion: '1.1.1c-r0', fixedVersion: '1.1.1d-r0', cve: 'CVE-2019-1549', productName: 'Trivy' },
    });
  });

  it('derives environment/owner from resource tags, resolution from workflow/record state, severity from Normalized', () => {
    const base = sampleJson(PCI);
    base.Resources[0].Tags = { Environment: 'prod', Owner: 'platform-team' };
    delete base.Severity.Label;
    base.Severity.Normalized = 75;
    delete base.FindingProviderFields;
    const f = run('asff', { Findings: [base] }).findings[0];
    expect(f.asset).toMatchObject({ environment: 'prod', owner: 'platform-team', tags: ['Environment=prod', 'Owner=platform-team'] });
    expect(f.severity).toBe('high');

    const suppressed = { ...base, Workflow: { Status: 'SUPPRESSED' } };
    const archived = { ...base, RecordState: 'ARCHIVED' };
    expect(run('asff', [suppressed, archived]).findings.map((x) => x.status)).toEqual(['resolved', 'resolved']);
  });

  it('rejects other EventBridge events and JSON that is no ASFF', () => {
    expect(() => run('asff', { 'detail-type': 'GuardDuty Finding', detail: {} })).toThrow(/\$\.detail-type/);
    expect(() => run('asff', { 'detail-type': 'Security Hub Findings - Imported', detail: {} })).toThrow(/\$\.detail\.findings is missing/);
    expect(() => run('asff', { hello: 'world' })).toThrow(/\$\.Id is missing/);
  });
});
