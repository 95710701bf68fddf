/**
 * The policy as loadPolicy sends it to a workflow, where it is recorded in the history of every
 * remediation: each step's defaults (retry, timeout, disruptive: false, empty params, an approval's
 * empty users, quorum 1, allowRequester false, onExpiry deny) are left out, and put back by
 * `expandPolicy` before anything plans with it. The values are the policy schema's defaults; a
 * value equal to one is left out and put back as it was, whether the file set it or the schema
 * did. The playbooks' descriptions and the files they came from are left out for good: nothing
 * plans with them, and the policy's version names the files. Pure: the workflow, the activity and
 * the history readers (reports, what-if) share it.
 */
import { canonicalJson } from './hash';
import type { PolicySet, StepDef } from './policy-schema';

const STEP_DEFAULTS = {
  params: {},
  disruptive: false,
  timeout: 60_000,
  retry: { maximumAttempts: 5, initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 60_000 },
} as const;
const APPROVAL_DEFAULTS = { users: [], quorum: 1, allowRequester: false, onExpiry: 'deny' } as const;

/**
 * Marks a policy sent without its defaults. Only a workflow that asks gets one (an older workflow
 * never does); readers of histories from this release on (reports, what-if) expand it.
 */
export const COMPACT_POLICY = 'defaultsOmitted';

type Compact = PolicySet & { [COMPACT_POLICY]?: true };

function without(o: Record<string, unknown>, defaults: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => !(k in defaults) || canonicalJson(v) !== canonicalJson(defaults[k])));
}

function compactStep(s: StepDef): StepDef {
  const out = without(s as unknown as Record<string, unknown>, STEP_DEFAULTS);
  if (s.approval) out.approval = without(s.approval as unknown as Record<string, unknown>, APPROVAL_DEFAULTS);
  return out as unknown as StepDef;
}

function expandStep(s: StepDef): StepDef {
  const out = { ...structuredCloneDefaults(STEP_DEFAULTS), ...s } as StepDef;
  if (s.approval) out.approval = { ...structuredCloneDefaults(APPROVAL_DEFAULTS), ...s.approval } as StepDef['approval'];
  return out;
}

/** Fresh copies of the defaults' objects, so no two steps share one. */
function structuredCloneDefaults<T extends Record<string, unknown>>(d: T): T {
  return JSON.parse(JSON.stringify(d)) as T;
}

export function compactPolicy(p: PolicySet): Compact {
  // Nothing plans with a playbook's description or the files the playbooks came from: the policy's version names them.
  const { files: _files, ...rest } = p;
  return {
    ...rest,
    files: {},
    playbooks: p.playbooks.map(({ description: _description, ...pb }) => ({ ...pb, steps: pb.steps.map(compactStep), escalation: pb.escalation.map(compactStep) })),
    [COMPACT_POLICY]: true,
  };
}

/** The policy with every default in place; a policy sent whole (an older activity worker, an older history) comes back as it was. */
export function expandPolicy<T extends PolicySet>(p: T): T {
  const c = p as T & { [COMPACT_POLICY]?: true };
  if (c[COMPACT_POLICY] !== true) return p;
  const { [COMPACT_POLICY]: _marker, ...rest } = c;
  return { ...rest, playbooks: rest.playbooks.map((pb) => ({ ...pb, steps: pb.steps.map(expandStep), escalation: pb.escalation.map(expandStep) })) } as unknown as T;
}
