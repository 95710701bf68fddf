import type { Asset, Detection } from '../domain/detection';
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
