import { run, sampleJson, sampleText, sha256 } from './samples';

const ALPINE = 'trivy/trivy-integration-alpine-310-image.json';
const DEBIAN = 'trivy/trivy-integration-debian-buster-image.json';
const NPM = 'trivy/trivy-integration-npm-repository.json';

interface TrivyVuln {
  VulnerabilityID: string;
  PkgName: string;
}

/** Counted straight from the report, independently of the normalizer. */
function vulnerabilities(rel: string): TrivyVuln[] {
  return sampleJson(rel).Results.flatMap((r: { Vulnerabilities?: TrivyVuln[] }) => r.Vulnerabilities ?? []);
}

describe('trivy normalizer', () => {
  it.each([ALPINE, DEBIAN, NPM])('yields one open vulnerability finding per vulnerability in %s', (rel) => {
    const raw = sampleJson(rel);
    const vulns = vulnerabilities(rel);
    const r = run('trivy', sampleText(rel));
    expect(r.skipped).toEqual([]);
    expect(r.findings).toHaveLength(vulns.length);
    expect(r.findings.map((f) => f.rule)).toEqual(vulns.map((v) => v.VulnerabilityID));
    for (const f of r.findings) {
      expect(f).toMatchObject({ source: 'trivy', category: 'vulnerability', status: 'open', observedAt: '2021-08-25T12:20:30.000Z' });
      expect(f.asset).toEqual({ id: raw.ArtifactName, type: raw.ArtifactType });
    }
    expect(new Set(r.findings.map((f) => f.dedupeKey)).size).toBe(vulns.length);
  });

  it('maps package facts and keys by artifact + target + package + vulnerability (alpine image)', () => {
    const raw = sampleJson(ALPINE);
    const f = run('trivy', raw).findings[0];
    expect(f).toMatchObject({
      rule: 'CVE-2019-1549',
      severity: 'medium',
      riskScore: 53,
      asset: { id: 'testdata/fixtures/images/alpine-310.tar.gz', type: 'container_image' },
      dedupeKey: 'trivy|testdata/fixtures/images/alpine-310.tar.gz|testdata/fixtures/images/alpine-310.tar.gz (alpine 3.10.2)|libcrypto1.1|CVE-2019-1549',
    });
    expect(f.details).toMatchObject({
      package: 'libcrypto1.1',
      installedVersion: '1.1.1c-r0',
      fixedVersion: '1.1.1d-r0',
      cve: 'CVE-2019-1549',
      target: 'testdata/fixtures/images/alpine-310.tar.gz (alpine 3.10.2)',
      imageReference: 'ghcr.io/aquasecurity/trivy-test-images:alpine-310',
    });
    const v = raw.Results[0].Vulnerabilities[0];
    expect(f.rawRef).toEqual({ format: 'trivy', sha256: sha256(v), sourceId: v.Fingerprint, url: 'https://avd.aquasec.com/nvd/cve-2019-1549' });
  });

  it('maps severities and a vulnerability without a fix (debian image)', () => {
    const [bash, idn] = run('trivy', sampleText(DEBIAN)).findings;
    expect(bash).toMatchObject({ rule: 'CVE-2019-18276', severity: 'low', details: { package: 'bash', fixStatus: 'affected' } });
    expect(bash.details?.fixedVersion).toBeUndefined();
    expect(idn).toMatchObject({ rule: 'CVE-2019-18224', severity: 'critical', riskScore: 98, details: { fixedVersion: '2.0.5-1+deb10u1' } });
  });

  it('gives the manifest path for a repository scan (npm)', () => {
    const [f] = run('trivy', sampleText(NPM)).findings;
    expect(f).toMatchObject({
      rule: 'CVE-2019-11358',
      severity: 'medium',
      asset: { id: 'testdata/fixtures/repo/npm', type: 'repository' },
      details: { package: 'jquery', installedVersion: '3.3.9', fixedVersion: '3.4.0', manifestPath: 'package-lock.json', target: 'package-lock.json' },
    });
  });

  it('maps failed misconfigurations and secrets, never recording the secret text', () => {
    const report = {
      SchemaVersion: 2,
      ArtifactName: '.',
      ArtifactType: 'filesystem',
      Results: [
        {
          Target: 'main.tf',
          Class: 'config',
          Misconfigurations: [
            { ID: 'AWS-0086', AVDID: 'AVD-AWS-0086', Title: 'S3 Access block should block public ACL', Severity: 'HIGH', Status: 'FAIL', CauseMetadata: { Resource: 'aws_s3_bucket.b' } },
            { ID: 'AWS-0087', AVDID: 'AVD-AWS-0087', Title: 'ok', Severity: 'HIGH', Status: 'PASS' },
          ],
        },
        { Target: '.env', Class: 'secret', Secrets: [{ RuleID: 'aws-access-key-id', Category: 'AWS', Severity: 'CRITICAL', Title: 'AWS Access Key ID', StartLine: 3, Match: 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE' }] },
      ],
    };
    const r = run('trivy', report);
    expect(r.findings.map((f) => [f.rule, f.category, f.severity])).toEqual([
      ['AVD-AWS-0086', 'misconfiguration', 'high'],
      ['aws-access-key-id', 'secret', 'critical'],
    ]);
    expect(r.skipped).toEqual([{ reason: 'misconfiguration status PASS (only FAIL is a finding)', ref: 'Results[0].Misconfigurations[1]' }]);
    expect(JSON.stringify(r.findings)).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });

  it('treats a clean report as zero findings and rejects other schema versions', () => {
    expect(run('trivy', { SchemaVersion: 2, ArtifactName: 'alpine:3.19', ArtifactType: 'container_image' }).findings).toEqual([]);
    expect(() => run('trivy', { SchemaVersion: 1, ArtifactName: 'x' })).toThrow(/\$\.SchemaVersion is 1/);
    expect(() => run('trivy', { Results: [] })).toThrow(/\$\.SchemaVersion is missing/);
  });
});
