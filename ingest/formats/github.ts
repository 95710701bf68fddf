import type { Severity } from '../../domain/detection';
import { Collector, arr, cvssToRisk, first, isObj, num, obj, severityWord, str, strings, toIso, type Draft, type Obj } from '../common';
import { notFormat } from '../errors';
import type { Detector, Normalizer } from '../types';

/** GitHub `dependabot_alert` and `code_scanning_alert` webhooks; the event name is in `x-github-event`. */
export const FORMAT = 'github';

type AlertEvent = 'dependabot_alert' | 'code_scanning_alert';

export const detect: Detector = (p, headers) => headers['x-github-event'] !== undefined || inferEvent(p) !== undefined;

const RESOLVING_ACTIONS = new Set(['fixed', 'dismissed', 'auto_dismissed', 'closed_by_user']);
const OPENING_ACTIONS = new Set(['created', 'reopened', 'reopened_by_user', 'reintroduced', 'auto_reopened', 'appeared_in_branch']);

export const normalize: Normalizer = (payload, ctx) => {
  if (!isObj(payload)) throw notFormat(FORMAT, '$', 'must be a GitHub webhook payload object');
  const header = str(ctx.headers['x-github-event']);
  const event = header ?? inferEvent(payload);
  const out = new Collector(ctx);
  if (event === undefined) {
    throw notFormat(FORMAT, '$.alert', 'is missing and there is no x-github-event header (expected a dependabot_alert or code_scanning_alert webhook)');
  }
  // Other events reach the same hook when it subscribes to more than it needs: answer, don't fail.
  if (event !== 'dependabot_alert' && event !== 'code_scanning_alert') {
    out.skip(event === 'ping' ? 'ping event' : `GitHub event "${event}" is not ingested`, str(ctx.headers['x-github-delivery']));
    return out.result();
  }
  if (!isObj(payload.alert)) throw notFormat(FORMAT, '$.alert', `is missing (expected a ${event} webhook)`);
  if (!isObj(payload.repository) || !str(payload.repository.full_name)) throw notFormat(FORMAT, '$.repository.full_name', 'is missing');
  const draft = event === 'dependabot_alert' ? dependabot(payload, ctx.receivedAt) : codeScanning(payload, ctx.receivedAt);
  out.add(() => draft, str(ctx.headers['x-github-delivery']));
  return out.result();
};

function inferEvent(p: unknown): AlertEvent | undefined {
  if (!isObj(p) || !isObj(p.alert) || !isObj(p.repository)) return undefined;
  if (isObj(p.alert.security_advisory) || isObj(p.alert.dependency)) return 'dependabot_alert';
  if (isObj(p.alert.rule) && isObj(p.alert.tool)) return 'code_scanning_alert';
  return undefined;
}

function isResolved(action: string | undefined, state: string | undefined): boolean {
  if (action && RESOLVING_ACTIONS.has(action)) return true;
  if (action && OPENING_ACTIONS.has(action)) return false;
  // Actions such as assignee changes say nothing about state: the alert's own state does.
  return state !== undefined && state !== 'open';
}

function common(p: Obj, kind: string): Pick<Draft, 'source' | 'asset'> & { repo: string; details: Obj; resolved: boolean; alert: Obj } {
  const repo = obj(p.repository);
  const alert = obj(p.alert);
  const fullName = str(repo.full_name) as string;
  return {
    source: 'github',
    repo: fullName,
    alert,
    resolved: isResolved(str(p.action), str(alert.state)),
    asset: { id: fullName, type: 'repository', tags: strings(repo.topics) },
    details: {
      repository: fullName,
      repositoryUrl: str(repo.html_url),
      visibility: str(repo.visibility),
      alertType: kind,
      alertNumber: num(alert.number),
      action: str(p.action),
      alertState: str(alert.state),
      dismissedReason: str(alert.dismissed_reason),
    },
  };
}

/** Time of this state change; for a resolution without its own timestamp, when we heard of it. */
function changedAt(resolved: boolean, alert: Obj, receivedAt: string): string | undefined {
  if (resolved) return first(toIso(alert.fixed_at), toIso(alert.dismissed_at), toIso(alert.auto_dismissed_at), toIso(alert.updated_at), toIso(receivedAt));
  return first(toIso(alert.updated_at), toIso(alert.created_at));
}

function dependabot(p: Obj, receivedAt: string): Draft {
  const c = common(p, 'dependabot');
  const { alert } = c;
  const advisory = obj(alert.security_advisory);
  const vuln = obj(alert.security_vulnerability);
  const dep = obj(alert.dependency);
  const pkg = obj(dep.package ?? vuln.package);
  const ghsa = str(advisory.ghsa_id);
  const cve = str(advisory.cve_id);
  const cvss = obj(advisory.cvss_severities);
  // A score of 0 means "not scored"; v4 and v3 (cvss_severities) supersede the legacy `cvss`.
  const score = [obj(cvss.cvss_v4).score, obj(cvss.cvss_v3).score, obj(advisory.cvss).score].map(num).find((n) => n !== undefined && n > 0);
  return {
    source: c.source,
    rule: ghsa ?? cve,
    title: `${str(pkg.name) ?? 'dependency'}: ${str(advisory.summary) ?? ghsa ?? cve}`,
    severity: severityWord(advisory.severity) ?? severityWord(vuln.severity) ?? 'medium',
    category: 'vulnerability',
    riskScore: cvssToRisk(score),
    asset: c.asset,
    status: c.resolved ? 'resolved' : 'open',
    observedAt: changedAt(c.resolved, alert, receivedAt),
    dedupeKey: `github|${c.repo}|dependabot|${str(alert.number) ?? ghsa}`,
    details: {
      ...c.details,
      package: str(pkg.name),
      ecosystem: str(pkg.ecosystem),
      manifestPath: str(dep.manifest_path),
      dependencyScope: str(dep.scope),
      vulnerableVersionRange: str(vuln.vulnerable_version_range),
      fixedVersion: str(obj(vuln.first_patched_version).identifier),
      ghsa,
      cve,
      cvssScore: score,
      cwes: arr(advisory.cwes).map((w) => str(obj(w).cwe_id)),
    },
    raw: { format: FORMAT, element: p, sourceId: `${c.repo}/dependabot/${str(alert.number) ?? ghsa}`, url: str(alert.html_url) },
  };
}

const CODE_SCANNING_SEVERITY: Record<string, Severity> = { error: 'high', warning: 'medium', note: 'low', none: 'info' };

function codeScanning(p: Obj, receivedAt: string): Draft {
  const c = common(p, 'code-scanning');
  const { alert } = c;
  const rule = obj(alert.rule);
  const instance = obj(alert.most_recent_instance ?? arr(alert.instances)[0]);
  const location = obj(instance.location);
  return {
    source: c.source,
    rule: str(rule.id) ?? str(rule.name),
    title: str(rule.description) ?? str(rule.name) ?? str(rule.id),
    // security_severity_level exists for security queries only; rule.severity is the SARIF level.
    severity: severityWord(rule.security_severity_level) ?? CODE_SCANNING_SEVERITY[str(rule.severity) ?? ''] ?? 'medium',
    category: 'code-vulnerability',
    asset: c.asset,
    status: c.resolved ? 'resolved' : 'open',
    observedAt: changedAt(c.resolved, alert, receivedAt),
    dedupeKey: `github|${c.repo}|code-scanning|${str(alert.number) ?? str(rule.id)}`,
    details: {
      ...c.details,
      ruleId: str(rule.id),
      ruleSeverity: str(rule.severity),
      securitySeverityLevel: str(rule.security_severity_level),
      ruleTags: strings(rule.tags),
      tool: str(obj(alert.tool).name),
      ref: str(p.ref) ?? str(instance.ref),
      commitSha: str(p.commit_oid) ?? str(instance.commit_sha),
      path: str(location.path),
      startLine: num(location.start_line),
    },
    raw: { format: FORMAT, element: p, sourceId: `${c.repo}/code-scanning/${str(alert.number) ?? str(rule.id)}`, url: str(alert.html_url) },
  };
}
