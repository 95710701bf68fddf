import { MAX_DETAILS_BYTES, mergeDetails } from '../domain/details';
import { SEVERITY_RANK, type Asset, type Detection } from '../domain/detection';
import { scoreRisk } from './risk';
import type { Facts } from './types';

/** The facts a detection gives the planner as it arrives: its own risk score (0 without one), its asset as reported. */
export function factsOf(d: Detection): Facts {
  return { source: d.source, rule: d.rule, category: d.category, severity: d.severity, riskScore: d.riskScore ?? 0, asset: d.asset, findingCount: 1, details: d.details ?? {} };
}

/** Facts as the workflow has them once started: the (enriched) asset and the risk scored on it. */
export function startFacts(d: Detection, asset: Asset = d.asset): { facts: Facts; riskWhy: string } {
  const risk = scoreRisk({ severity: d.severity, riskScore: d.riskScore, asset });
  return { facts: { ...factsOf(d), riskScore: risk.score, asset }, riskWhy: risk.why };
}

/**
 * The facts after a repeat of the finding: a repeat can only make things worse, so the worst
 * severity and the highest given score are kept; a given score counts only when `riskCounts`
 * (the channel is a trusted risk source, or the run began before that rule).
 */
export function withRepeat(f: Facts, d: Detection, riskCounts = true): Facts {
  const raised = riskCounts && typeof d.riskScore === 'number' && d.riskScore > f.riskScore;
  return {
    ...f,
    findingCount: f.findingCount + 1,
    severity: SEVERITY_RANK[d.severity] > SEVERITY_RANK[f.severity] ? d.severity : f.severity,
    riskScore: raised ? d.riskScore! : f.riskScore,
    ...(raised && f.provenance
      ? { provenance: { ...f.provenance, riskScore: { value: d.riskScore!, from: 'detection' as const, why: 'raised by a repeat of the finding (a trusted risk source)', detection: d.riskScore! } } }
      : {}),
    // Repeats can carry new keys forever; the merged details stay within the history-friendly bound.
    details: mergeDetails(f.details, d.details, MAX_DETAILS_BYTES).details,
  };
}
