import type { Severity } from '../../domain/detection';
import { Collector, arr, cvssToRisk, assetHints, first, isObj, num, obj, severityWord, str, strings, toIso, type Draft, type Obj } from '../common';
import { notFormat } from '../errors';
import type { Detector, Normalizer } from '../types';

/**
 * AWS Security Hub findings in ASFF: a bare finding, `{"Findings": [...]}` (BatchImportFindings /
 * GetFindings / `trivy --format template asff`), an array of findings, or the EventBridge event
 * ("Security Hub Findings - Imported" / "- Custom Action") with `detail.findings`.
 */
export const FORMAT = 'asff';

const isFinding = (v: unknown): v is Obj => isObj(v) && typeof v.Id === 'string' && (v.ProductArn !== undefined || v.SchemaVersion !== undefined);

export const detect: Detector = (p) =>
  (isObj(p) && (Array.isArray(p.Findings) || String(p['detail-type'] ?? '').startsWith('Security Hub Findings') || isFinding(p))) ||
  (Array.isArray(p) && p.length > 0 && p.every(isFinding));

export const normalize: Normalizer = (payload, ctx) => {
  const { findings, envelope } = unwrap(payload);
  const out = new Collector(ctx);
  findings.forEach((f, i) => {
    const ref = `Findings[${i}]`;
    if (!isObj(f) || !str(f.Id)) return out.skip('finding has no Id', ref);
    out.add(() => toDraft(f, envelope), ref);
  });
  return out.result();
};

function unwrap(p: unknown): { findings: unknown[]; envelope: Obj } {
  if (Array.isArray(p)) return { findings: p, envelope: {} };
  if (!isObj(p)) throw notFormat(FORMAT, '$', 'must be an ASFF finding, {"Findings": [...]} or an EventBridge event');
  if ('detail-type' in p || 'detail' in p) {
    const type = str(p['detail-type']) ?? '';
    if (!type.startsWith('Security Hub Findings')) {
      throw notFormat(FORMAT, '$.detail-type', `is "${type}", expected "Security Hub Findings - Imported" or "- Custom Action"`);
    }
    const findings = obj(p.detail).findings;
    if (!Array.isArray(findings)) throw notFormat(FORMAT, '$.detail.findings', 'is missing (expected an array of ASFF findings)');
    return { findings, envelope: p };
  }
  if ('Findings' in p) {
    if (!Array.isArray(p.Findings)) throw notFormat(FORMAT, '$.Findings', 'must be an array of ASFF findings');
    return { findings: p.Findings, envelope: {} };
  }
  if (!str(p.Id)) throw notFormat(FORMAT, '$.Id', 'is missing (expected $.Findings, $.detail.findings or a bare finding with Id and ProductArn)');
  if (!str(p.ProductArn) && !str(p.SchemaVersion)) throw notFormat(FORMAT, '$.ProductArn', 'is missing (a bare ASFF finding has Id, ProductArn and SchemaVersion)');
  return { findings: [p], envelope: {} };
}

function toDraft(f: Obj, envelope: Obj): Draft {
  const resource = obj(arr(f.Resources)[0]);
  const resourceType = str(resource.Type) ?? 'aws-resource';
  const types = [...new Set([...strings(f.Types), ...strings(obj(f.FindingProviderFields).Types)])];
  const productFields = obj(f.ProductFields);
  const productName = str(f.ProductName) ?? str(productFields['aws/securityhub/ProductName']) ?? str(productFields['Product Name']);
  const vuln = vulnerability(f, resource);
  const category = categorize(f, types, productName, vuln.cve !== undefined);
  const tags = tagMap(resource.Tags);
  const compliance = obj(f.Compliance);
  const workflowStatus = str(obj(f.Workflow).Status);
  const productArn = str(f.ProductArn) ?? '';
  const id = str(f.Id) as string;
  return {
    source: 'aws-securityhub',
    rule: ruleOf(f, types, vuln.cve),
    title: str(f.Title),
    severity: severityOf(f),
    category,
    riskScore: num(obj(f.Severity).Normalized) ?? cvssToRisk(num(vuln.cvssScore)),
    asset: {
      id: str(resource.Id),
      type: resourceType,
      ...assetHints(tags),
      tags: Object.entries(tags).map(([k, v]) => `${k}=${v}`),
    },
    status: isResolved(f) ? 'resolved' : 'open',
    observedAt: first(...[f.LastObservedAt, f.UpdatedAt, f.CreatedAt, envelope.time].map(toIso)),
    // ProductArn+Id is ASFF's identity; Trivy's template reuses one Id for every package with the
    // same CVE in an image, so the package keeps those findings apart.
    dedupeKey: ['aws-securityhub', productArn, id, vuln.package].filter(Boolean).join('|'),
    details: {
      // ASFF's identity and the region it lives in: what GetFindings re-queries (ingest/source-ref.ts).
      findingId: id,
      productArn: str(f.ProductArn),
      findingRegion: str(f.Region),
      awsAccountId: str(f.AwsAccountId),
      region: str(resource.Region) ?? str(f.Region),
      productName,
      companyName: str(f.CompanyName),
      generatorId: str(f.GeneratorId),
      controlId: str(compliance.SecurityControlId) ?? str(productFields.ControlId) ?? str(productFields.RuleId),
      types,
      complianceStatus: str(compliance.Status),
      workflowStatus,
      recordState: str(f.RecordState),
      resourceType,
      resourceId: str(resource.Id),
      ...resourceDetails(resourceType, resource),
      ...vuln,
      remediationUrl: str(obj(obj(f.Remediation).Recommendation).Url),
      customAction: str(obj(envelope.detail).actionName),
      description: str(f.Description)?.slice(0, 512),
    },
    raw: { format: FORMAT, element: f, sourceId: id, url: str(f.SourceUrl) },
  };
}

function severityOf(f: Obj): Severity {
  const sev = obj(f.Severity);
  const label = severityWord(sev.Label) ?? severityWord(obj(obj(f.FindingProviderFields).Severity).Label);
  if (label) return label;
  // AWS's documented Normalized → Label bands.
  const n = num(sev.Normalized);
  if (n === undefined) return severityWord(sev.Original) ?? 'medium';
  return n >= 90 ? 'critical' : n >= 70 ? 'high' : n >= 40 ? 'medium' : n >= 1 ? 'low' : 'info';
}

function isResolved(f: Obj): boolean {
  return (
    str(obj(f.Compliance).Status) === 'PASSED' ||
    ['RESOLVED', 'SUPPRESSED'].includes(str(obj(f.Workflow).Status) ?? '') ||
    str(f.RecordState) === 'ARCHIVED'
  );
}

function ruleOf(f: Obj, types: string[], cve: string | undefined): string | undefined {
  const pf = obj(f.ProductFields);
  const control = str(obj(f.Compliance).SecurityControlId) ?? str(pf.ControlId);
  if (control) return control;
  // CIS v1.2 findings only carry the bare rule number ("4.3") in RuleId.
  if (str(pf.RuleId) && /cis-aws-foundations-benchmark/.test(str(f.GeneratorId) ?? '')) return `CIS.${str(pf.RuleId)}`;
  if (cve) return cve;
  // GuardDuty's GeneratorId is a detector ARN; its finding type is the last segment of Types.
  const ttp = types.find((t) => t.startsWith('TTPs/') || t.startsWith('Unusual Behaviors/') || t.startsWith('Effects/'));
  if (/guardduty/i.test(str(f.ProductArn) ?? '') && ttp) return ttp.split('/').pop();
  return str(f.GeneratorId) ?? str(f.Id);
}

function categorize(f: Obj, types: string[], productName: string | undefined, hasCve: boolean): string {
  const product = `${productName ?? ''} ${str(f.ProductArn) ?? ''}`;
  if (hasCve || arr(f.Vulnerabilities).length || /inspector/i.test(product) || types.some((t) => t.startsWith('Software and Configuration Checks/Vulnerabilities'))) {
    return 'vulnerability';
  }
  if (types.some((t) => /malware|maliciousfile|trojan|backdoor|cryptocurrency/i.test(t))) return 'malware';
  if (str(obj(f.Compliance).Status) || types.some((t) => t.startsWith('Software and Configuration Checks'))) return 'misconfiguration';
  if (/guardduty|detective/i.test(product) || types.some((t) => /^(TTPs|Unusual Behaviors|Effects)\//.test(t))) return 'threat';
  if (types.some((t) => t.startsWith('Sensitive Data Identifications'))) return 'data-exposure';
  return 'security-finding';
}

/** CVE and package facts: Inspector puts them in `Vulnerabilities`, Trivy's template in `Resources[].Details.Other`. */
function vulnerability(f: Obj, resource: Obj): Obj & { cve?: string; package?: string } {
  const v = obj(arr(f.Vulnerabilities)[0]);
  const pkg = obj(arr(v.VulnerablePackages)[0]);
  const other = obj(obj(resource.Details).Other);
  const cve = str(v.Id) ?? str(other['CVE ID']);
  const cvss = arr(v.Cvss).map((c) => num(obj(c).BaseScore)).filter((n): n is number => n !== undefined);
  return {
    cve,
    package: str(pkg.Name) ?? str(other.PkgName),
    installedVersion: joinVersion(pkg) ?? str(other['Installed Package']),
    fixedVersion: str(pkg.FixedInVersion) ?? str(other['Patched Package']),
    packageManager: str(pkg.PackageManager),
    packageRemediation: str(pkg.Remediation),
    cvssScore: cvss.length ? Math.max(...cvss) : num(other.NvdCvssScoreV3),
    exploitAvailable: str(v.ExploitAvailable),
    fixAvailable: str(v.FixAvailable),
  };
}

function joinVersion(pkg: Obj): string | undefined {
  const version = str(pkg.Version);
  if (!version) return undefined;
  const release = str(pkg.Release);
  return release && !version.endsWith(release) ? `${version}-${release}` : version;
}

/** The ids a playbook acts on: bucket name, security group, instance, image. */
function resourceDetails(type: string, resource: Obj): Obj {
  const id = str(resource.Id) ?? '';
  const d = obj(obj(resource.Details)[type]);
  switch (type) {
    case 'AwsS3Bucket':
      return { bucket: str(d.Name) ?? id.replace(/^arn:aws[\w-]*:s3:::/, '') };
    case 'AwsEc2SecurityGroup':
      return {
        securityGroupId: str(d.GroupId) ?? /security-group\/(sg-[\w]+)/.exec(id)?.[1],
        securityGroupName: str(d.GroupName),
        vpcId: str(d.VpcId),
        openToInternet: worldOpenIngress(d),
      };
    case 'AwsEc2Instance':
      return { instanceId: /instance\/(i-[\w]+)/.exec(id)?.[1], vpcId: str(d.VpcId), subnetId: str(d.SubnetId) };
    case 'AwsEcrContainerImage':
      return { ecrRepository: str(d.RepositoryName), imageDigest: str(d.ImageDigest), registryId: str(d.RegistryId) };
    case 'AwsIamAccessKey':
      return { principalName: str(d.PrincipalName) ?? str(d.UserName), principalType: str(d.PrincipalType) };
    case 'Container':
      return { imageName: str(obj(obj(resource.Details).Container).ImageName) };
    default:
      return {};
  }
}

function worldOpenIngress(sg: Obj): boolean | undefined {
  const perms = arr(sg.IpPermissions);
  if (!perms.length) return undefined;
  return perms.some((p) =>
    [...arr(obj(p).IpRanges).map((r) => obj(r).CidrIp), ...arr(obj(p).Ipv6Ranges).map((r) => obj(r).CidrIpv6)].some(
      (c) => c === '0.0.0.0/0' || c === '::/0',
    ),
  );
}

function tagMap(tags: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(tags))) {
    const s = str(v);
    if (s !== undefined) out[k] = s;
  }
  return out;
}
