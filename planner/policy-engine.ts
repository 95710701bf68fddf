/**
 * Questions a playbook asks an external policy engine (Open Policy Agent), and what the
 * planner does with the answers. Pure: the workflow asks through an activity and hands the
 * answers back; the dry run and the replayer do the same with their own answers.
 *
 * A step's `opa` is a condition: the step is planned only when the engine answers `true`.
 * An approval's `opa` lets automation go ahead: `true` skips the approval, anything else (false,
 * no answer) asks people, so an engine that cannot be reached never removes a safeguard.
 */
import { fingerprint } from './hash';
import type { PolicyDecision } from '../activities/interfaces';
import type { Facts } from './types';

/** The facts a playbook may hand to the engine (`input:`); by default all of them but the details. */
export const POLICY_INPUT_FACTS = ['source', 'rule', 'category', 'severity', 'riskScore', 'asset', 'findingCount', 'details'] as const;
export type PolicyInputFact = (typeof POLICY_INPUT_FACTS)[number];
const DEFAULT_INPUT: PolicyInputFact[] = ['source', 'rule', 'category', 'severity', 'riskScore', 'asset', 'findingCount'];

/** What the engine is asked: its rule path and the facts as they are now (the key changes with them). */
export interface PolicyAsk {
  key: string;
  path: string;
  input: Record<string, unknown>;
}

/** The engine's answer to one ask, or why there is none. */
export interface PolicyAnswer {
  key: string;
  path: string;
  result?: unknown;
  /** OPA's decision id (with decision logging on), to find the decision in OPA's log. */
  decisionId?: string;
  engine?: string;
  /** Revision of each policy bundle the engine had loaded. */
  revisions?: Record<string, string>;
  error?: string;
}

export function policyAsk(opa: { path: string; input?: PolicyInputFact[] }, facts: Facts): PolicyAsk {
  const names = opa.input ?? DEFAULT_INPUT;
  const input = Object.fromEntries(names.filter((n) => facts[n] !== undefined).map((n) => [n, facts[n]]));
  return { key: `${opa.path}#${fingerprint(input)}`, path: opa.path, input };
}

/** The engine's decision for an ask, or why there is none: what the workflow and the dry run hand the planner. */
export function answerOf(ask: PolicyAsk, d: PolicyDecision | { error: string }): PolicyAnswer {
  if ('error' in d) return { key: ask.key, path: ask.path, error: d.error };
  return { key: ask.key, path: ask.path, result: d.result, engine: d.engine, ...(d.decisionId ? { decisionId: d.decisionId } : {}), ...(d.revisions ? { revisions: d.revisions } : {}) };
}

/** How an answer reads in a step's reasons: the value, its origin and the decision id. */
export function answerFact(a: PolicyAnswer): Record<string, unknown> {
  return a.error !== undefined
    ? { path: a.path, from: 'policy-engine', unavailable: a.error }
    : { path: a.path, value: a.result, from: 'policy-engine', ...(a.decisionId ? { decisionId: a.decisionId } : {}) };
}
