import type { Asset, Severity } from '../domain/detection';

const SEVERITY_BASE: Record<Severity, number> = { critical: 80, high: 60, medium: 40, low: 20, info: 5 };
const CRITICALITY_BONUS = { critical: 15, high: 10, medium: 0, low: -10 } as const;

/**
 * The detection's own risk score wins when it has one (EDRs and scanners score better than
 * we can); otherwise severity, adjusted for what the asset is. Explained so the decision
 * log can say why a score is what it is.
 */
export function scoreRisk(input: { severity: Severity; riskScore?: number; asset: Asset }): { score: number; why: string } {
  if (typeof input.riskScore === 'number') return { score: clamp(input.riskScore), why: 'risk score given by the detection' };
  let score = SEVERITY_BASE[input.severity];
  const parts = [`severity ${input.severity} → ${score}`];
  if (input.asset.criticality) {
    score += CRITICALITY_BONUS[input.asset.criticality];
    parts.push(`criticality ${input.asset.criticality} ${signed(CRITICALITY_BONUS[input.asset.criticality])}`);
  }
  if (input.asset.internetFacing) {
    score += 10;
    parts.push('internet-facing +10');
  }
  if (input.asset.environment && isProduction(input.asset.environment)) {
    score += 5;
    parts.push('production +5');
  }
  return { score: clamp(score), why: parts.join(', ') };
}

/** What counts as production (prod, production, prod-eu, ...): the risk bonus and the strictest environment. */
export function isProduction(env: string): boolean {
  return /^prod/i.test(env);
}

function clamp(n: number): number {
  return Math.max(0, Math.min(100, Math.round(n * 10) / 10));
}
function signed(n: number): string {
  return n >= 0 ? `+${n}` : String(n);
}
