/**
 * Facts with provenance: which value of each fact that decides an approval (environment,
 * criticality, internet-facing, risk score) the planner uses, and where it came from. A
 * detection may make an asset look more important than the CMDB says, never less; a detection's
 * own risk score counts only from a channel the policy trusts (facts.yaml). Pure: the workflow,
 * the dry run and the reports call it with the same inputs and get the same answer.
 */
import { CRITICALITIES, type Asset, type Detection } from '../domain/detection';
import { sourceOf } from '../domain/channel';
import type { AssetFacts } from '../activities/interfaces';
import { DEFAULT_FACT_RULES, type FactRules } from './policy-schema';
import { isProduction, scoreRisk } from './risk';

export const FACT_NAMES = ['environment', 'criticality', 'internetFacing', 'riskScore'] as const;
export type FactName = (typeof FACT_NAMES)[number];
export type FactOrigin = 'detection' | 'cmdb' | 'operator' | 'drw';
type Value = string | number | boolean;

export interface FactProvenance {
  /** The value in force (null: nobody said). */
  value: Value | null;
  from: FactOrigin;
  why: string;
  /** What the detection said, and what the CMDB said, when they said something. */
  detection?: Value;
  cmdb?: Value;
  /** The operator who set it. */
  by?: string;
}
export type Provenance = Partial<Record<FactName, FactProvenance>>;

/** What the CMDB answered about the asset: the fields of its record that facts come from. */
export type CmdbAnswer = Pick<AssetFacts, 'found' | 'environment' | 'criticality' | 'internetFacing' | 'owner' | 'tags'>;

export interface EstablishedFacts {
  asset: Asset;
  riskScore: number;
  riskWhy: string;
  provenance: Provenance;
}

/** Production outranks staging-like environments, which outrank the rest: the stricter needs more approval. */
export function environmentRank(env: string): number {
  if (isProduction(env)) return 3;
  if (/^(stag|pre-?prod|uat)/i.test(env)) return 2;
  return 1;
}
const criticalityRank = (c: string) => CRITICALITIES.indexOf(c as (typeof CRITICALITIES)[number]);
const flagRank = (b: boolean) => (b ? 1 : 0);

/** Whether a remediation opened through `requestedBy`'s channel may bring its own risk score. */
export function riskTrusted(rules: FactRules | undefined, requestedBy: string): boolean {
  return (rules ?? DEFAULT_FACT_RULES).trustedRiskSources.includes(sourceOf(requestedBy));
}

interface Candidate<T extends Value> {
  from: FactOrigin;
  value: T;
}
const LABEL: Record<FactOrigin, string> = { detection: 'the detection', cmdb: 'the CMDB', operator: 'an operator', drw: 'drw' };

/** The strictest candidate (ties: the CMDB, then the detection, then drw's default), with why. */
function stricter<T extends Value>(candidates: (Candidate<T> | undefined)[], rank: (v: T) => number, unknownNote: string): FactProvenance | undefined {
  const cs = candidates.filter((c): c is Candidate<T> => c !== undefined);
  if (!cs.length) return undefined;
  const order: FactOrigin[] = ['cmdb', 'detection', 'drw'];
  const best = [...cs].sort((a, b) => rank(b.value) - rank(a.value) || order.indexOf(a.from) - order.indexOf(b.from))[0];
  const said = (from: FactOrigin) => cs.find((c) => c.from === from)?.value;
  const others = cs.filter((c) => c !== best && c.value !== best.value);
  const why =
    best.from === 'drw'
      ? unknownNote
      : others.length
        ? `${LABEL[best.from]} says ${String(best.value)}, stricter than ${others.map((c) => `${String(c.value)} from ${LABEL[c.from]}`).join(' and ')}`
        : cs.length > 1
          ? `${LABEL[best.from]} and ${cs.filter((c) => c !== best).map((c) => LABEL[c.from]).join(' and ')} agree`
          : `only ${LABEL[best.from]} says`;
  return {
    value: best.value,
    from: best.from,
    why,
    ...(said('detection') !== undefined ? { detection: said('detection') } : {}),
    ...(said('cmdb') !== undefined ? { cmdb: said('cmdb') } : {}),
  };
}

const given = <T extends Value>(from: FactOrigin, value: T | undefined): Candidate<T> | undefined => (value === undefined ? undefined : { from, value });

/**
 * The facts the planner uses for a detection and the CMDB's answer (undefined: not asked or the
 * lookup failed, so the asset is unknown), received through `requestedBy`'s channel.
 */
export function establishFacts(o: { detection: Detection; cmdb?: CmdbAnswer; requestedBy: string; rules?: FactRules; unknownWhy?: string }): EstablishedFacts {
  const rules = o.rules ?? DEFAULT_FACT_RULES;
  const d = o.detection;
  const known = o.cmdb?.found ? o.cmdb : undefined;
  const unknownEnv = known ? undefined : (rules.unknownAsset.environment ?? undefined);
  const why = o.unknownWhy ?? (o.cmdb ? 'the CMDB does not know this asset' : 'the CMDB could not be asked');
  const provenance: Provenance = {};
  const env = stricter<string>(
    [given('detection', d.asset.environment), given('cmdb', known?.environment), given('drw', unknownEnv)],
    environmentRank,
    `${why}: it counts as ${unknownEnv} (facts.yaml unknownAsset.environment)${d.asset.environment ? `, stricter than ${d.asset.environment} from the detection` : ''}`,
  );
  const crit = stricter<string>([given('detection', d.asset.criticality), given('cmdb', known?.criticality)], criticalityRank, '');
  const facing = stricter<boolean>([given('detection', d.asset.internetFacing), given('cmdb', known?.internetFacing)], flagRank, '');
  if (env) provenance.environment = env;
  if (crit) provenance.criticality = crit;
  if (facing) provenance.internetFacing = facing;

  const asset: Asset = { ...d.asset };
  delete asset.environment;
  delete asset.criticality;
  delete asset.internetFacing;
  if (env) asset.environment = String(env.value);
  if (crit) asset.criticality = crit.value as Asset['criticality'];
  if (facing) asset.internetFacing = Boolean(facing.value);
  // Not approval facts: what the detection says wins, the CMDB fills the gaps.
  const owner = d.asset.owner ?? known?.owner;
  const tags = d.asset.tags ?? known?.tags;
  if (owner !== undefined) asset.owner = owner;
  if (tags !== undefined) asset.tags = tags;

  const source = sourceOf(o.requestedBy);
  const trusted = riskTrusted(rules, o.requestedBy);
  if (d.riskScore !== undefined && trusted) {
    const risk = scoreRisk({ severity: d.severity, riskScore: d.riskScore, asset });
    provenance.riskScore = { value: risk.score, from: 'detection', why: `given by the detection (${source} is a trusted risk source)`, detection: d.riskScore };
    return { asset, riskScore: risk.score, riskWhy: risk.why, provenance };
  }
  // Scored by drw on what a detection cannot inflate: its severity and the CMDB's (or the unknown-asset default's) facts.
  const scoredOn: Asset = { id: asset.id, type: asset.type };
  const scoreEnv = known ? known.environment : unknownEnv;
  if (scoreEnv) scoredOn.environment = scoreEnv;
  if (known?.criticality) scoredOn.criticality = known.criticality;
  if (known?.internetFacing !== undefined) scoredOn.internetFacing = known.internetFacing;
  const risk = scoreRisk({ severity: d.severity, asset: trusted ? asset : scoredOn });
  const ignored = d.riskScore !== undefined ? `; the detection's ${d.riskScore} does not count: ${source} is not a trusted risk source` : '';
  const riskWhy = `${risk.why}${trusted ? '' : ' (severity and CMDB facts only)'}${ignored}`;
  provenance.riskScore = { value: risk.score, from: 'drw', why: riskWhy, ...(d.riskScore !== undefined ? { detection: d.riskScore } : {}) };
  return { asset, riskScore: risk.score, riskWhy, provenance };
}

/** One line per fact, for the CLI and the decision log: `environment production (the CMDB; …)`. */
export function provenanceLines(p: Provenance): string[] {
  return FACT_NAMES.filter((n) => p[n]).map((n) => {
    const f = p[n]!;
    return `${n} ${f.value === null ? '-' : String(f.value)} (${f.from}${f.by ? ` ${f.by}` : ''}: ${f.why})`;
  });
}
