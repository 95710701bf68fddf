import type { Severity } from '../../domain/detection';
import { Collector, arr, cvssToRisk, assetHints, first, isObj, num, obj, pairsToMap, severityWord, slug, str, strings, toIso, type Draft, type Obj } from '../common';
import { notFormat } from '../errors';
import type { Detector, Normalizer } from '../types';

/**
 * OCSF 1.x findings: 2002 Vulnerability, 2003 Compliance, 2004 Detection (and the legacy 2001
 * Security Finding). A single event or an array. 1.1 has `resource`, 1.3 `resources[]`.
 */
export const FORMAT = 'ocsf';

const FINDING_CLASSES = new Set([2001, 2002, 2003, 2004]);

const isEvent = (v: unknown): v is Obj => isObj(v) && typeof v.class_uid === 'number';

export const detect: Detector = (p) => isEvent(p) || (Array.isArray(p) && p.length > 0 && p.every(isEvent));

export const normalize: Normalizer = (payload, ctx) => {
  const events = Array.isArray(payload) ? payload : [payload];
  if (!isObj(payload) && !Array.isArray(payload)) throw notFormat(FORMAT, '$', 'must be an OCSF event object or an array of them');
  if (!events.some(isEvent)) {
    throw notFormat(FORMAT, Array.isArray(payload) ? '$[*].class_uid' : '$.class_uid', 'is missing (expected an OCSF finding with class_uid 2002, 2003 or 2004)');
  }
  const out = new Collector(ctx);
  events.forEach((e, i) => {
    const ref = Array.isArray(payload) ? `[${i}]` : undefined;
    if (!isEvent(e)) return out.skip('not an OCSF event (no class_uid)', ref);
    if (!FINDING_CLASSES.has(e.class_uid as number)) return out.skip(`class_uid ${String(e.class_uid)} is not a finding class (2001-2004)`, ref);
    out.add(() => toDraft(e), ref);
  });
  return out.result();
};

function toDraft(e: Obj): Draft {
  const classUid = e.class_uid as number;
  const info = obj(e.finding_info ?? e.finding);
  const product = obj(obj(e.metadata).product);
  const productName = str(product.name) ?? str(product.vendor_name) ?? 'unknown';
  const source = `ocsf:${slug(productName) || 'unknown'}`;
  const vuln = obj(arr(e.vulnerabilities)[0]);
  const cve = obj(vuln.cve);
  const pkg = obj(arr(vuln.affected_packages)[0] ?? arr(vuln.packages)[0]);
  const compliance = obj(e.compliance);
  const findingUid = str(info.uid) ?? str(obj(e.metadata).uid);
  const user = userOf(e);
  const identity = classUid === 2004 && isIdentityFinding(e, info, productName, user);
  const asset = identity && user ? { id: user, type: 'user' } : assetOf(e);
  const cvss = arr(cve.cvss).map((c) => num(obj(c).base_score)).filter((n): n is number => n !== undefined);
  const statusCode = str(e.status_code);
  return {
    source,
    rule: ruleOf(e, classUid, info, str(cve.uid), str(compliance.control)),
    title: str(info.title) ?? str(e.message) ?? str(vuln.title),
    severity: severityOf(e),
    category: identity ? 'identity' : categoryOf(classUid, info, statusCode),
    riskScore: num(e.risk_score) ?? cvssToRisk(cvss.length ? Math.max(...cvss) : undefined),
    asset,
    status: isResolved(e, compliance) ? 'resolved' : 'open',
    observedAt: first(toIso(e.time), toIso(e.time_dt), toIso(info.modified_time), toIso(info.last_seen_time)),
    // finding_info.uid is the product's own finding id, stable across the finding's updates.
    dedupeKey: findingUid ? `${source}|${findingUid}` : undefined,
    details: {
      classUid,
      className: str(e.class_name),
      productName,
      vendorName: str(product.vendor_name),
      findingUid,
      findingTypes: strings(info.types),
      cve: str(cve.uid),
      package: str(pkg.name),
      installedVersion: str(pkg.version),
      fixedVersion: str(pkg.fixed_in_version),
      cvssScore: cvss.length ? Math.max(...cvss) : undefined,
      fixAvailable: vuln.is_fix_available,
      exploitAvailable: vuln.is_exploit_available,
      control: str(compliance.control),
      complianceStatus: str(compliance.status),
      standards: strings(compliance.standards),
      statusCode,
      status: str(e.status),
      disposition: str(e.disposition),
      eventCode: str(obj(e.metadata).event_code),
      cloudProvider: str(obj(e.cloud).provider),
      cloudAccount: str(obj(obj(e.cloud).account).uid),
      region: str(obj(e.cloud).region),
      resourceType: asset.type,
      account: user,
      remediation: str(obj(e.remediation).desc)?.slice(0, 512),
      description: str(info.desc)?.slice(0, 512),
    },
    raw: { format: FORMAT, element: e, sourceId: findingUid, url: str(info.src_url) },
  };
}

const SEVERITY_IDS: Record<number, Severity> = { 1: 'info', 2: 'low', 3: 'medium', 4: 'high', 5: 'critical', 6: 'critical' };

function severityOf(e: Obj): Severity {
  // 0 Unknown / 99 Other: trust the caption if it says more, otherwise nothing is known → info.
  return SEVERITY_IDS[num(e.severity_id) ?? 0] ?? severityWord(e.severity) ?? 'info';
}

function isResolved(e: Obj, compliance: Obj): boolean {
  // status_id: 3 Suppressed, 4 Resolved, 5 Archived (same as ASFF's SUPPRESSED/RESOLVED/ARCHIVED).
  const statusId = num(e.status_id) ?? num(e.state_id);
  if (statusId !== undefined && [3, 4, 5].includes(statusId)) return true;
  if (/^(resolved|suppressed|archived)$/i.test(str(e.status) ?? '')) return true;
  // A check that passed (Prowler status_code, compliance status 1 Pass / "PASSED").
  if (/^pass(ed)?$/i.test(str(e.status_code) ?? '')) return true;
  return num(compliance.status_id) === 1 || /^pass(ed)?$/i.test(str(compliance.status) ?? '');
}

function ruleOf(e: Obj, classUid: number, info: Obj, cve: string | undefined, control: string | undefined): string | undefined {
  const analytic = obj(info.analytic);
  const classSpecific = classUid === 2002 ? cve : classUid === 2003 ? control : undefined;
  const type = strings(info.types)[0];
  return first(
    classSpecific,
    str(analytic.uid),
    str(analytic.name),
    str(obj(e.metadata).event_code),
    // ASFF-derived types are paths whose last segment is the specific type (GuardDuty's finding type).
    type?.includes('/') ? type.split('/').pop() : type,
    str(info.title),
  );
}

function categoryOf(classUid: number, info: Obj, statusCode: string | undefined): string {
  if (classUid === 2002) return 'vulnerability';
  if (classUid === 2003) return 'misconfiguration';
  // Posture scanners (Prowler) emit check results as detection findings with PASS/FAIL codes.
  if (statusCode && /^(pass|fail|manual|muted)$/i.test(statusCode)) return 'misconfiguration';
  const text = [...strings(info.types), str(info.title) ?? ''].join(' ');
  return /malware|trojan|ransomware|virus/i.test(text) ? 'malware' : 'threat';
}

/** Identity providers: their detection findings are about sign-ins and accounts. */
const IDENTITY_PRODUCTS = /\b(okta|entra|azure ad|azure active directory|active directory|ping ?(identity|one|federate)|auth0|onelogin|jumpcloud|duo)\b/i;
const IDENTITY_WORDS = /\b(login|logon|sign-?in|authenticat\w*|credential\w*|password|mfa|brute.?force|account takeover|impossible travel|session hijack\w*)\b/i;

function isIdentityFinding(e: Obj, info: Obj, productName: string, user: string | undefined): boolean {
  const vendor = str(obj(obj(e.metadata).product).vendor_name) ?? '';
  if (IDENTITY_PRODUCTS.test(`${productName} ${vendor}`)) return true;
  // From other products, only a finding that names the account and says it is about signing in.
  return user !== undefined && IDENTITY_WORDS.test([...strings(info.types), str(info.title) ?? '', str(obj(e.metadata).event_code) ?? ''].join(' '));
}

/** The account a finding is about: OCSF 1.3 evidences (user, actor.user), or the event's actor.user / user. */
function userOf(e: Obj): string | undefined {
  const users = [...arr(e.evidences).flatMap((ev) => [obj(ev).user, obj(obj(ev).actor).user]), obj(e.actor).user, e.user].map(obj);
  for (const u of users) {
    const name = str(u.email_addr) ?? str(u.name) ?? str(u.uid);
    if (name) return name;
  }
  return undefined;
}

function assetOf(e: Obj): { id: string | undefined; type: string; environment?: string; owner?: string; tags?: string[] } {
  const r = obj(arr(e.resources)[0] ?? e.resource);
  const labels = strings(r.labels);
  const hints = assetHints(pairsToMap(labels));
  if (str(r.uid) || str(r.name)) {
    return { id: str(r.uid) ?? str(r.name), type: str(r.type) ?? 'resource', ...hints, tags: labels };
  }
  const device = obj(e.device);
  if (str(device.hostname) || str(device.name) || str(device.uid)) {
    return { id: str(device.hostname) ?? str(device.name) ?? str(device.uid), type: 'host' };
  }
  const account = obj(obj(e.cloud).account);
  return { id: str(account.uid), type: 'cloud-account' };
}
