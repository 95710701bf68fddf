/**
 * A generated policy of many playbooks for the planner benchmark (e): realistic playbooks
 * (rule regexes, categories, severities, asset criteria, approvals with conditions, change
 * windows, templates, verification, escalation), and the facts of a detection that only the
 * lowest-priority one matches, so every re-plan evaluates all of them.
 */
import { stringify } from 'yaml';
import type { Detection } from '../domain/detection';
import type { PlaybookInput } from '../planner/policy-schema';
import type { Facts, PlannerState } from '../planner/types';
import { factsOf } from '../planner/facts';

export function generatePlaybooks(n = 50): PlaybookInput[] {
  return Array.from({ length: n }, (_, i): PlaybookInput => ({
    id: `gen-${String(i).padStart(3, '0')}`,
    name: `Generated playbook ${i}`,
    description: `Benchmark playbook ${i} of ${n}.`,
    priority: 10_000 - i * 10,
    match: {
      rules: [`/^GEN-(${i}|${i + 1000})-\\d+$/`, `GEN-EXACT-${i}`],
      categories: [`category-${i % 10}`, 'generated'],
      severities: i % 3 === 0 ? ['critical', 'high'] : ['critical', 'high', 'medium', 'low'],
      asset: { environments: ['production', 'staging'], ...(i % 2 === 1 ? { internetFacing: true } : {}) },
    },
    sla: { critical: '4h', high: '24h', medium: '3d', low: '7d' },
    ...(i % 4 === 0
      ? { changeWindow: { utcOffsetMinutes: 60, windows: [{ days: ['sat', 'sun'], start: '02:00', end: '05:00' }], emergencyOverride: { minRiskScore: 90 } } }
      : {}),
    steps: [
      { id: 'ticket', action: 'ticket.open', params: { priority: 'high', labels: ['generated', `pb-${i}`] } },
      { id: 'notify', action: 'notify', params: { channel: 'secops', text: '{{rule}} on {{asset.id}} (risk {{riskScore}}, {{findingCount}} findings)' } },
      {
        id: 'contain',
        action: 'endpoint.isolate',
        title: 'Contain the host',
        disruptive: i % 4 === 0,
        params: { comment: 'drw: {{rule}} on {{asset.id}} (risk {{riskScore}})' },
        approval: { groups: ['secops'], when: 'riskScore < 90', expiresAfter: '1h', onExpiry: 'escalate' },
        timeout: '2m',
        compensation: { action: 'endpoint.release', params: { comment: 'drw: releasing {{asset.id}}' } },
      },
      {
        id: 'patch',
        action: 'iac.pull_request',
        when: 'details.fixedVersion and asset.environment in [production, staging]',
        params: { template: 'bump_package', repository: '{{details.repository}}', package: '{{details.package}}', fixedVersion: '{{details.fixedVersion}}', manifestPath: '{{details.manifestPath}}' },
        timeout: '5m',
      },
      { id: 'verify', action: 'verify', params: { checks: ['pr_merged', 'host_contained'] }, verify: { interval: '30s', deadline: '12h' } },
      { id: 'release', action: 'endpoint.release', when: 'doneSteps contains contain', params: { comment: 'drw: {{asset.id}} patched' } },
    ],
    escalation: [
      { id: 'page', action: 'escalate', params: { channel: 'secops', text: 'Escalation for {{asset.id}}: {{rule}}' } },
      { id: 'bump', action: 'ticket.update', params: { comment: 'escalated', priority: 'highest' } },
    ],
  }));
}

/** The policy as YAML files (name → text), loadable with loadPolicyDir once written to a folder. */
export function playbookFiles(playbooks: PlaybookInput[]): Record<string, string> {
  return Object.fromEntries(playbooks.map((pb, i) => [`${String(i).padStart(3, '0')}-${pb.id}.yaml`, stringify(pb)]));
}

/** A detection only the last of `n` generated playbooks matches. */
export function benchDetection(n = 50): Detection {
  return {
    source: 'bench',
    rule: `GEN-${n - 1}-0001`,
    title: 'Generated finding',
    severity: 'high',
    category: 'generated',
    riskScore: 70,
    asset: { id: 'bench-host-1', type: 'host', environment: 'production', internetFacing: true },
    details: { repository: 'acme/infra', package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'app/package.json' },
  };
}

export function benchPlannerState(d: Detection): PlannerState {
  const facts: Facts = { ...factsOf(d), riskScore: d.riskScore ?? 50 };
  return {
    remediationId: 'drw-bench-1',
    detection: d,
    facts,
    approvals: [],
    escalations: [],
    requestedBy: 'api:bench',
    cancelled: false,
    falsePositive: false,
    resolvedAtSource: false,
    verificationFailures: 0,
  };
}
