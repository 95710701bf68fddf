import type { Severity } from '../../domain/detection';
import { Collector, isObj, num, obj, str, strings, toIso, type Draft, type Obj } from '../common';
import { notFormat } from '../errors';
import type { Detector, Normalizer } from '../types';

/** Wazuh alerts as written to alerts.json / sent by integrations; one alert or an array. */
export const FORMAT = 'wazuh';

const isAlert = (v: unknown): v is Obj => isObj(v) && isObj(v.rule) && num(v.rule.level) !== undefined && isObj(v.agent);

export const detect: Detector = (p) => isAlert(p) || (Array.isArray(p) && p.length > 0 && p.every(isAlert));

export const normalize: Normalizer = (payload, ctx) => {
  if (!isObj(payload) && !Array.isArray(payload)) throw notFormat(FORMAT, '$', 'must be a Wazuh alert object or an array of them');
  if (!Array.isArray(payload)) {
    if (!isObj(payload.rule)) throw notFormat(FORMAT, '$.rule', 'is missing (expected a Wazuh alert)');
    if (num(payload.rule.level) === undefined) throw notFormat(FORMAT, '$.rule.level', 'is missing');
    if (!isObj(payload.agent)) throw notFormat(FORMAT, '$.agent', 'is missing');
  } else if (!payload.some(isAlert)) {
    throw notFormat(FORMAT, '$[*].rule.level', 'is missing (expected Wazuh alerts)');
  }
  const events = Array.isArray(payload) ? payload : [payload];
  const out = new Collector(ctx);
  events.forEach((a, i) => {
    const ref = Array.isArray(payload) ? `[${i}]` : undefined;
    if (!isAlert(a)) return out.skip('not a Wazuh alert (rule.level/agent missing)', ref);
    out.add(() => toDraft(a), ref ?? str(a.id));
  });
  return out.result();
};

/** Wazuh's 0-15 rule levels, banded as its own dashboards do (12+ high importance, 15 severe attack). */
function levelSeverity(level: number): Severity {
  return level >= 15 ? 'critical' : level >= 12 ? 'high' : level >= 7 ? 'medium' : level >= 4 ? 'low' : 'info';
}

function toDraft(a: Obj): Draft {
  const rule = obj(a.rule);
  const agent = obj(a.agent);
  const groups = strings(rule.groups);
  const level = num(rule.level) as number;
  const agentName = str(agent.name) ?? str(agent.id);
  const subject = subjectOf(a, groups);
  return {
    source: 'wazuh',
    rule: str(rule.id),
    title: str(rule.description),
    severity: levelSeverity(level),
    category: categoryOf(groups),
    asset: { id: agentName, type: 'host' },
    status: subject.resolved ? 'resolved' : 'open',
    observedAt: toIso(a.timestamp),
    // Keyed by what the alert is about, not rule.id: SCA and vulnerability-detector raise "failed"
    // and "passed"/"solved" under different rule ids, and the second must close the first.
    dedupeKey: `wazuh|${agentName}|${subject.key ?? `rule:${str(rule.id)}`}`,
    details: {
      agentId: str(agent.id),
      agentIp: str(agent.ip),
      manager: str(obj(a.manager).name),
      ruleLevel: level,
      ruleGroups: groups,
      mitreIds: strings(obj(rule.mitre).id),
      location: str(a.location),
      decoder: str(obj(a.decoder).name),
      ...subject.details,
      fullLog: str(a.full_log)?.slice(0, 512),
    },
    raw: { format: FORMAT, element: a, sourceId: str(a.id) },
  };
}

function categoryOf(groups: string[]): string {
  if (groups.includes('syscheck')) return 'integrity';
  if (groups.includes('rootcheck') || groups.includes('virustotal') || groups.includes('yara')) return 'malware';
  if (groups.includes('sca')) return 'misconfiguration';
  if (groups.includes('vulnerability-detector')) return 'vulnerability';
  return 'security-event';
}

/** What the alert is about (a file, a check, a CVE+package), for dedupe, resolution and details. */
function subjectOf(a: Obj, groups: string[]): { key?: string; resolved: boolean; details: Obj } {
  const data = obj(a.data);
  const sca = obj(data.sca);
  const check = obj(sca.check);
  if (groups.includes('sca') && str(check.id)) {
    const policy = str(sca.policy_id) ?? str(sca.policy);
    const result = str(check.result);
    return {
      key: `sca:${policy}:${str(check.id)}`,
      resolved: result === 'passed',
      details: {
        scaPolicy: str(sca.policy),
        checkId: str(check.id),
        checkTitle: str(check.title),
        checkResult: result,
        previousResult: str(check.previous_result),
        remediation: str(check.remediation)?.slice(0, 512),
      },
    };
  }
  const vuln = obj(data.vulnerability);
  if (groups.includes('vulnerability-detector') && str(vuln.cve)) {
    const pkg = obj(vuln.package);
    return {
      key: `vuln:${str(vuln.cve)}:${str(pkg.name)}`,
      resolved: /^solved$/i.test(str(vuln.status) ?? ''),
      details: { cve: str(vuln.cve), package: str(pkg.name), installedVersion: str(pkg.version), packageCondition: str(pkg.condition) },
    };
  }
  const sys = obj(a.syscheck);
  if (str(sys.path)) {
    const path = str(sys.value_name) ? `${str(sys.path)}\\${str(sys.value_name)}` : str(sys.path);
    return {
      key: `syscheck:${path}`,
      resolved: false,
      details: { path, fimEvent: str(sys.event), changedAttributes: strings(sys.changed_attributes), sha256After: str(sys.sha256_after) },
    };
  }
  if (groups.includes('rootcheck')) {
    const file = str(data.file);
    return { key: `rootcheck:${str(obj(a.rule).id)}:${file ?? str(data.title)}`, resolved: false, details: { file, rootcheckTitle: str(data.title) } };
  }
  return { resolved: false, details: {} };
}
