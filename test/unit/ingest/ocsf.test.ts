import { run, sampleJson, sha256, single } from './samples';

const INSPECTOR = 'ocsf/ocsf-examples-2002-vulnerability-finding-inspector.json';
const PCI = 'ocsf/ocsf-examples-2003-compliance-finding-sechub-pci.json';
const GUARDDUTY = 'ocsf/ocsf-examples-2004-detection-finding-guardduty.json';
const OKTA = 'ocsf/ocsf-examples-2004-detection-finding-okta.json';
const PROWLER = 'ocsf/ocsf-examples-2004-detection-finding-prowler.json';

describe('ocsf normalizer', () => {
  it('maps a 2002 vulnerability finding (OCSF 1.1 `resource`, time in ms)', () => {
    const raw = sampleJson(INSPECTOR);
    expect(raw.time).toBeGreaterThan(1e12);
    const f = single('ocsf', INSPECTOR);
    expect(f).toMatchObject({
      source: 'ocsf:inspector',
      rule: 'CVE-2023-1255',
      title: 'CVE-2023-1255 - openssl',
      severity: 'medium',
      category: 'vulnerability',
      status: 'open',
      riskScore: 59,
      observedAt: '2024-01-26T22:19:14.000Z',
      asset: { id: raw.resource.uid, type: 'AwsEcrContainerImage' },
      dedupeKey: `ocsf:inspector|${raw.finding_info.uid}`,
    });
    expect(f.details).toMatchObject({ cve: 'CVE-2023-1255', package: 'openssl', installedVersion: '3.0.8', fixedVersion: '0:3.0.8-r4' });
    expect(f.rawRef).toEqual({ format: 'ocsf', sha256: sha256(raw), sourceId: raw.finding_info.uid });
  });

  it('maps a 2003 compliance finding by its control', () => {
    const f = single('ocsf', PCI);
    expect(f).toMatchObject({
      source: 'ocsf:security-hub',
      rule: 'Config.1',
      severity: 'medium',
      category: 'misconfiguration',
      status: 'open',
      observedAt: '2023-07-21T18:11:53.060Z',
      asset: { id: 'AWS::::Account:111111111111', type: 'AwsAccount' },
      details: { complianceStatus: 'FAILED', control: 'Config.1' },
    });
  });

  it('maps a 2004 GuardDuty detection finding (`resources[]`)', () => {
    const f = single('ocsf', GUARDDUTY);
    expect(f).toMatchObject({
      source: 'ocsf:guardduty',
      rule: 'Stealth:IAMUser-CloudTrailLoggingDisabled',
      severity: 'low',
      category: 'threat',
      status: 'open',
      asset: { id: 'AWS::IAM::AccessKey:ASIATMJPC7EXAMPLE', type: 'AwsIamAccessKey' },
    });
    expect(f.rawRef?.url).toContain('guardduty');
  });

  it('maps an Okta detection finding (time in seconds, severity Unknown)', () => {
    const raw = sampleJson(OKTA);
    expect(raw.time).toBeLessThan(1e11);
    const f = single('ocsf', OKTA);
    expect(f).toMatchObject({
      source: 'ocsf:okta-system-log',
      rule: 'security.threat.detected',
      title: 'Login Failures',
      severity: 'info',
      status: 'open',
      observedAt: '2024-08-13T15:58:20.000Z',
      asset: { id: '/app/office365/1111111111/sso/wsfed/active', type: 'resource' },
    });
  });

  it('maps a Prowler PASS (OCSF 1.3, seconds, zone-less time_dt) to resolved', () => {
    const f = single('ocsf', PROWLER);
    expect(f).toMatchObject({
      source: 'ocsf:prowler',
      rule: 'acm_certificates_expiration_check',
      severity: 'high',
      status: 'resolved',
      category: 'misconfiguration',
      observedAt: '2024-10-04T13:49:02.000Z',
      asset: {
        id: 'arn:aws:acm:eu-west-1:111122223333:certificate/e4dc1386-8b4b-402c-9fed-03269ee10006',
        type: 'AwsCertificateManagerCertificate',
        tags: ['name:public-wildcard-com', 'project:example'],
      },
      details: { statusCode: 'PASS', cloudAccount: '111122223333', region: 'eu-west-1' },
    });
  });

  it('reads time in seconds and milliseconds to the same instant', () => {
    const ms = sampleJson(GUARDDUTY);
    const s = { ...ms, time: Math.floor(ms.time / 1000) };
    const [a, b] = run('ocsf', [ms, s]).findings;
    expect(a.observedAt).toBe('2023-09-19T15:05:22.487Z');
    expect(b.observedAt).toBe('2023-09-19T15:05:22.000Z');
  });

  it('accepts an array, maps severity_id and status_id, skips non-finding classes', () => {
    const base = sampleJson(GUARDDUTY);
    const r = run('ocsf', [
      { ...base, severity_id: 6, severity: 'Fatal' },
      { ...base, severity_id: 5, status_id: 4, status: 'Resolved' },
      { ...base, severity_id: 1 },
      { ...base, class_uid: 3002 },
    ]);
    expect(r.findings.map((f) => [f.severity, f.status])).toEqual([
      ['critical', 'open'],
      ['critical', 'resolved'],
      ['info', 'open'],
    ]);
    expect(r.skipped).toEqual([{ reason: 'class_uid 3002 is not a finding class (2001-2004)', ref: '[3]' }]);
  });

  it('rejects JSON without class_uid', () => {
    expect(() => run('ocsf', { metadata: {} })).toThrow(/\$\.class_uid is missing/);
  });
});
