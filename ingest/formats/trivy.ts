import type { Severity } from '../../domain/detection';
import { Collector, arr, cvssToRisk, first, isObj, num, obj, severityWord, str, strings, toIso, type Draft, type Obj } from '../common';
import { notFormat } from '../errors';
import type { Detector, Normalizer } from '../types';

/**
 * Trivy JSON report (`--format json`, SchemaVersion 2). One finding per Results[].Vulnerabilities[]
 * entry, plus failed Misconfigurations and Secrets (without the matched secret text).
 */
export const FORMAT = 'trivy';

export const detect: Detector = (p) => isObj(p) && p.SchemaVersion === 2 && (typeof p.ArtifactName === 'string' || Array.isArray(p.Results));

interface Artifact {
  name: string;
  type: string;
  createdAt: string | undefined;
  facts: Obj;
}

export const normalize: Normalizer = (payload, ctx) => {
  if (!isObj(payload)) throw notFormat(FORMAT, '$', 'must be a Trivy JSON report object');
  if (payload.SchemaVersion === undefined) throw notFormat(FORMAT, '$.SchemaVersion', 'is missing (expected a Trivy JSON report, SchemaVersion 2)');
  if (payload.SchemaVersion !== 2) throw notFormat(FORMAT, '$.SchemaVersion', `is ${JSON.stringify(payload.SchemaVersion)}, only 2 is supported`);
  const name = str(payload.ArtifactName);
  if (!name) throw notFormat(FORMAT, '$.ArtifactName', 'is missing');
  // Trivy omits Results for a clean scan; present but not an array is a different document.
  if (payload.Results !== undefined && !Array.isArray(payload.Results)) throw notFormat(FORMAT, '$.Results', 'must be an array');

  const meta = obj(payload.Metadata);
  const os = obj(meta.OS);
  const artifact: Artifact = {
    name,
    type: str(payload.ArtifactType) ?? 'artifact',
    createdAt: toIso(payload.CreatedAt),
    facts: {
      artifactType: str(payload.ArtifactType),
      imageReference: str(meta.Reference) ?? strings(meta.RepoTags)[0],
      imageDigest: strings(meta.RepoDigests)[0],
      imageId: str(meta.ImageID),
      os: str(os.Family) && `${str(os.Family)} ${str(os.Name) ?? ''}`.trim(),
      osEndOfLife: os.EOSL === true ? true : undefined,
      reportId: str(payload.ReportID),
    },
  };
  const out = new Collector(ctx);
  arr(payload.Results).forEach((result, ri) => {
    const r = obj(result);
    arr(r.Vulnerabilities).forEach((v, vi) => out.add(() => vulnDraft(artifact, r, obj(v)), `Results[${ri}].Vulnerabilities[${vi}]`));
    arr(r.Misconfigurations).forEach((m, mi) => {
      const ref = `Results[${ri}].Misconfigurations[${mi}]`;
      if (str(obj(m).Status) !== 'FAIL') return out.skip(`misconfiguration status ${str(obj(m).Status) ?? 'unknown'} (only FAIL is a finding)`, ref);
      out.add(() => misconfigDraft(artifact, r, obj(m)), ref);
    });
    arr(r.Secrets).forEach((s, si) => out.add(() => secretDraft(artifact, r, obj(s)), `Results[${ri}].Secrets[${si}]`));
  });
  return out.result();
};

function base(artifact: Artifact, r: Obj): Pick<Draft, 'source' | 'asset' | 'status' | 'observedAt'> & { details: Obj } {
  const cls = str(r.Class);
  return {
    source: 'trivy',
    asset: { id: artifact.name, type: artifact.type },
    status: 'open',
    observedAt: artifact.createdAt,
    details: {
      target: str(r.Target),
      // For language packages the Target is the lock file / manifest the fix goes into.
      manifestPath: cls === 'lang-pkgs' ? str(r.Target) : undefined,
      resultClass: cls,
      resultType: str(r.Type),
      ...artifact.facts,
    },
  };
}

function trivySeverity(v: unknown): Severity {
  // Trivy's UNKNOWN means no data source rated it.
  return severityWord(v) ?? 'info';
}

function vulnDraft(artifact: Artifact, r: Obj, v: Obj): Draft {
  const b = base(artifact, r);
  const id = str(v.VulnerabilityID);
  const pkg = str(v.PkgName);
  const cvss = obj(obj(v.CVSS)[str(v.SeveritySource) ?? 'nvd'] ?? obj(v.CVSS).nvd);
  const score = first(num(cvss.V3Score), num(cvss.V40Score), num(cvss.V2Score));
  return {
    ...b,
    rule: id,
    title: `${id} in ${pkg ?? 'unknown package'} ${str(v.InstalledVersion) ?? ''}`.trim() + (str(v.Title) ? `: ${str(v.Title)}` : ''),
    severity: trivySeverity(v.Severity),
    category: 'vulnerability',
    riskScore: cvssToRisk(score),
    // Artifact + target + package + vulnerability; PkgPath separates copies of a jar in one image.
    dedupeKey: ['trivy', artifact.name, str(r.Target), pkg, id, str(v.PkgPath)].filter(Boolean).join('|'),
    details: {
      ...b.details,
      package: pkg,
      installedVersion: str(v.InstalledVersion),
      fixedVersion: str(v.FixedVersion),
      fixStatus: str(v.Status),
      cve: id?.startsWith('CVE-') ? id : undefined,
      vulnerabilityId: id,
      pkgPath: str(v.PkgPath),
      purl: str(obj(v.PkgIdentifier).PURL),
      vulnerabilityTitle: str(v.Title),
      cvssScore: score,
      cwes: strings(v.CweIDs),
      primaryUrl: str(v.PrimaryURL),
    },
    raw: { format: FORMAT, element: v, sourceId: str(v.Fingerprint) ?? [str(v.PkgID) ?? pkg, id].join('/'), url: str(v.PrimaryURL) },
  };
}

function misconfigDraft(artifact: Artifact, r: Obj, m: Obj): Draft {
  const b = base(artifact, r);
  const id = str(m.AVDID) ?? str(m.ID);
  const cause = obj(m.CauseMetadata);
  return {
    ...b,
    rule: id,
    title: str(m.Title) ?? id,
    severity: trivySeverity(m.Severity),
    category: 'misconfiguration',
    dedupeKey: ['trivy', artifact.name, str(r.Target), id, str(cause.Resource)].filter(Boolean).join('|'),
    details: {
      ...b.details,
      checkId: str(m.ID),
      message: str(m.Message),
      resolution: str(m.Resolution),
      resource: str(cause.Resource),
      startLine: num(cause.StartLine),
      primaryUrl: str(m.PrimaryURL),
    },
    raw: { format: FORMAT, element: m, sourceId: id, url: str(m.PrimaryURL) },
  };
}

/** Match/Code hold the secret itself (redacted or not), so only where it is goes into details. */
function secretDraft(artifact: Artifact, r: Obj, s: Obj): Draft {
  const b = base(artifact, r);
  const id = str(s.RuleID);
  return {
    ...b,
    rule: id,
    title: `${str(s.Title) ?? id} in ${str(r.Target) ?? artifact.name}`,
    severity: trivySeverity(s.Severity),
    category: 'secret',
    dedupeKey: ['trivy', artifact.name, str(r.Target), id, str(num(s.StartLine))].filter(Boolean).join('|'),
    details: { ...b.details, secretCategory: str(s.Category), startLine: num(s.StartLine), endLine: num(s.EndLine) },
    raw: { format: FORMAT, element: s, sourceId: id },
  };
}
