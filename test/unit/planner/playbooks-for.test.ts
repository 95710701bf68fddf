/**
 * A remediation loads only the playbooks it can ever use (activities loadPolicy `for`). Its
 * re-plans must choose exactly as on the whole policy, whatever the signals change later
 * (severity, risk, the asset after enrichment).
 */
import path from 'node:path';
import { loadPolicyDir } from '../../../planner/load';
import { playbooksFor } from '../../../planner/match';
import { choosePlaybook } from '../../../planner/plan';
import type { Playbook, PolicySet } from '../../../planner/policy-schema';
import type { Facts } from '../../../planner/types';
import { SEVERITIES } from '../../../domain/detection';
import { mulberry32 } from '../../../simulators/base';

const whole = loadPolicyDir(path.resolve(__dirname, '../../../policies/default'));

/** The default set plus playbooks keyed on source and rule (exact and /regex/), to exercise every fixed criterion. */
const extra: Playbook[] = [
  { ...whole.playbooks[0], id: 'falco-shell', priority: 90, match: { sources: ['falco'], rules: ['/shell/'] } },
  { ...whole.playbooks[0], id: 'wazuh-rootcheck', priority: 80, match: { sources: ['Wazuh'], rules: ['rootcheck'], categories: ['malware'], riskScore: { min: 60, max: 100 } } },
];
const policy: PolicySet = { ...whole, playbooks: [...whole.playbooks, ...extra] };

const sources = ['falco', 'wazuh', 'trivy', 'securityhub'];
const rules = ['Terminal shell in container', 'rootcheck', 'CVE-2024-1234', 'S3.8'];
const categories = [undefined, 'malware', 'vulnerability', 'misconfiguration', 'infrastructure', 'runtime-threat', 'other'];

test('the subset chooses the same playbook as the whole policy for every later severity, risk and asset', () => {
  const rnd = mulberry32(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  let compared = 0;
  for (const source of sources) {
    for (const rule of rules) {
      for (const category of categories) {
        const subset = playbooksFor(policy, { source, rule, category });
        expect(subset.version).toBe(policy.version);
        expect(subset.playbooks.length).toBeLessThanOrEqual(policy.playbooks.length);
        for (let i = 0; i < 40; i++) {
          const facts: Facts = {
            source,
            rule,
            category,
            severity: pick(SEVERITIES),
            riskScore: Math.floor(rnd() * 101),
            asset: { id: 'a', type: pick(['host', 'container', 'bucket']), environment: pick([undefined, 'production', 'prod', 'dev']), internetFacing: pick([undefined, true, false]), criticality: pick([undefined, 'high', 'low'] as const) },
            findingCount: 1,
            details: {},
          };
          expect(choosePlaybook(subset, facts).playbook.id).toBe(choosePlaybook(policy, facts).playbook.id);
          compared++;
        }
      }
    }
  }
  expect(compared).toBe(sources.length * rules.length * categories.length * 40);
});

test('it keeps only what the fixed facts allow, and nothing ranked below a playbook that matches whatever else changes', () => {
  const ids = (f: Parameters<typeof playbooksFor>[1]) => playbooksFor(policy, f).playbooks.map((p) => p.id).sort();
  // falco-shell (priority 90, more specific than edr-malware's 90) asks nothing of severity, risk or asset:
  // edr-malware and triage, ranked after it, can never be chosen.
  expect(ids({ source: 'falco', rule: 'Terminal shell in container', category: 'malware' })).toEqual(['falco-shell']);
  // wazuh-rootcheck (80) ranks after edr-malware (90), which takes any malware.
  expect(ids({ source: 'wazuh', rule: 'rootcheck', category: 'malware' })).toEqual(['edr-malware']);
  expect(ids({ source: 'crowdstrike', rule: 'x', category: 'malware' })).toEqual(['edr-malware']);
  // critical-vuln-internet-prod asks for a critical, internet-facing production asset: vulnerability stays; triage does not.
  expect(ids({ source: 'trivy', rule: 'CVE-1', category: 'vulnerability' })).toEqual(['critical-vuln-internet-prod', 'vulnerability']);
  expect(Object.keys(playbooksFor(policy, { source: 'trivy', rule: 'x', category: 'vulnerability' }).files).sort()).toEqual(['critical-vuln-internet-prod', 'vulnerability']);
  expect(ids({ source: 'nessus', rule: 'x', category: 'other' })).toEqual(['triage']);
});
