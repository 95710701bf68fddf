import { SEVERITY_RANK } from '../domain/detection';
import type { Playbook, PolicySet } from './policy-schema';
import { ruleMatches } from './rule-pattern';
import type { Facts } from './types';

export interface MatchResult {
  playbook: Playbook;
  /** The facts each criterion looked at, for the step reasons. */
  matchedOn: Record<string, unknown>;
  explanation: string;
}

function eqi(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Why a playbook does not match, or undefined when it does. */
export function mismatch(pb: Playbook, f: Facts, seen: Record<string, unknown>): string | undefined {
  const m = pb.match;
  if (m.sources) {
    seen.source = f.source;
    if (!m.sources.some((s) => eqi(s, f.source))) return `source ${f.source} not in [${m.sources.join(', ')}]`;
  }
  if (m.rules) {
    seen.rule = f.rule;
    if (!m.rules.some((r) => ruleMatches(r, f.rule))) return `rule ${f.rule} not matched`;
  }
  if (m.categories) {
    seen.category = f.category ?? null;
    if (!f.category || !m.categories.some((c) => eqi(c, f.category!))) return `category ${f.category ?? '(none)'} not in [${m.categories.join(', ')}]`;
  }
  if (m.severities) {
    seen.severity = f.severity;
    if (!m.severities.includes(f.severity)) return `severity ${f.severity} not in [${m.severities.join(', ')}]`;
  }
  if (m.riskScore) {
    seen.riskScore = f.riskScore;
    if (f.riskScore < m.riskScore.min || f.riskScore > m.riskScore.max) return `risk ${f.riskScore} outside ${m.riskScore.min}-${m.riskScore.max}`;
  }
  const a = m.asset;
  if (a) {
    if (a.types) {
      seen['asset.type'] = f.asset.type;
      if (!a.types.some((t) => eqi(t, f.asset.type))) return `asset type ${f.asset.type} not in [${a.types.join(', ')}]`;
    }
    if (a.environments) {
      seen['asset.environment'] = f.asset.environment ?? null;
      if (!f.asset.environment || !a.environments.some((e) => eqi(e, f.asset.environment!))) return `environment ${f.asset.environment ?? '(unknown)'} not in [${a.environments.join(', ')}]`;
    }
    if (a.criticalities) {
      seen['asset.criticality'] = f.asset.criticality ?? null;
      if (!f.asset.criticality || !a.criticalities.includes(f.asset.criticality)) return `criticality ${f.asset.criticality ?? '(unknown)'} not in [${a.criticalities.join(', ')}]`;
    }
    if (a.internetFacing !== undefined) {
      seen['asset.internetFacing'] = f.asset.internetFacing ?? null;
      if ((f.asset.internetFacing ?? false) !== a.internetFacing) return `internetFacing is ${f.asset.internetFacing ?? false}`;
    }
    if (a.tags) {
      seen['asset.tags'] = f.asset.tags ?? [];
      const tags = f.asset.tags ?? [];
      const missing = a.tags.filter((t) => !tags.some((x) => eqi(x, t)));
      if (missing.length) return `asset lacks tags [${missing.join(', ')}]`;
    }
    if (a.owners) {
      seen['asset.owner'] = f.asset.owner ?? null;
      if (!f.asset.owner || !a.owners.some((o) => eqi(o, f.asset.owner!))) return `owner ${f.asset.owner ?? '(unknown)'} not in [${a.owners.join(', ')}]`;
    }
  }
  return undefined;
}

/** Which playbook is tried first: higher priority, then the more specific match, then the id. */
const byRank = (x: Playbook, y: Playbook) => y.priority - x.priority || specificity(y) - specificity(x) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

/**
 * Picks the playbook: highest priority first, then the most specific (more criteria), then
 * id, so the choice never depends on file order.
 */
export function selectPlaybook(playbooks: Playbook[], facts: Facts): MatchResult | undefined {
  const ranked = [...playbooks].sort(byRank);
  for (const pb of ranked) {
    const seen: Record<string, unknown> = {};
    if (mismatch(pb, facts, seen) === undefined) {
      const on = Object.entries(seen).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
      return { playbook: pb, matchedOn: seen, explanation: `playbook ${pb.id} (priority ${pb.priority}) matched on ${on || 'anything (fallback)'}` };
    }
  }
  return undefined;
}

function specificity(pb: Playbook): number {
  const m = pb.match;
  return [m.sources, m.rules, m.categories, m.severities, m.riskScore].filter(Boolean).length + Object.keys(m.asset ?? {}).length;
}

export { SEVERITY_RANK };

/** What a remediation keeps for its whole life: messages change severity, risk and the asset, never these. */
export type FixedFacts = Pick<Facts, 'source' | 'rule' | 'category'>;

/**
 * The part of a policy a remediation can ever use: the playbooks whose source, rule and
 * category criteria accept its fixed facts. Every other playbook fails those criteria whatever
 * the signals do, so re-planning on the subset chooses exactly as on the whole policy, and the
 * workflow's history holds a few KiB of policy instead of all of it. The version stays the
 * whole policy's, and the fact rules (facts.yaml) go with it.
 */
export function playbooksFor(policy: PolicySet, f: FixedFacts): PolicySet {
  const probe: Facts = { ...f, severity: 'info', riskScore: 0, asset: { id: '', type: '' }, findingCount: 1, details: {} };
  const fixed = (pb: Playbook): Playbook => ({ ...pb, match: { sources: pb.match.sources, rules: pb.match.rules, categories: pb.match.categories } });
  const candidates = policy.playbooks.filter((pb) => mismatch(fixed(pb), probe, {}) === undefined);
  // The first candidate (in selection order) that asks nothing of the facts that change always
  // wins over the ones ranked after it: they can never be selected, so they are not carried.
  const ranked = [...candidates].sort(byRank);
  const always = ranked.findIndex((pb) => !pb.match.severities && !pb.match.riskScore && Object.keys(pb.match.asset ?? {}).length === 0);
  const reachable = new Set(always < 0 ? ranked : ranked.slice(0, always + 1));
  const playbooks = candidates.filter((pb) => reachable.has(pb));
  const files = Object.fromEntries(playbooks.filter((pb) => policy.files[pb.id]).map((pb) => [pb.id, policy.files[pb.id]]));
  return { version: policy.version, playbooks, ...(policy.facts ? { facts: policy.facts } : {}), files };
}
