/**
 * `drw plan --dry-run <detection file>`: which playbook, which steps and why, for a
 * detection, from a policy folder, without starting anything (no server needed). Runs
 * the same pure planner the workflow runs, on the same facts it would build.
 */
import { createOpaPolicyEngine, loadOpaConfig } from '../../activities/adapters/opa';
import type { OpaConfig } from '../../activities/adapters/opa';
import type { PolicyEngine } from '../../activities/interfaces';
import { answerOf, type PolicyAnswer, type PolicyAsk } from '../../planner/policy-engine';
import path from 'node:path';
import type { Detection } from '../../domain/detection';
import { remediationId } from '../../domain/ids';
import { REPO_ROOT } from '../../common/config';
import { normalize } from '../../ingest';
import { evaluate } from '../../planner/conditions';
import { formatDuration } from '../../planner/durations';
import { PolicyError, formatProblem, loadPolicyDir } from '../../planner/load';
import { mismatch } from '../../planner/match';
import { buildPlan, choosePlaybook, conditionContext } from '../../planner/plan';
import type { PolicySet } from '../../planner/policy-schema';
import type { Facts, PlanResult, PlanStep } from '../../planner/types';
import { classifyPayload } from './detect';
import { CliError, EXIT, str, textTable, UsageError, type CommandSpec, type Ctx } from './common';
import { startFacts } from '../../planner/facts';
import { dedupeKeyFor } from '../../planner/dedupe';
import { assetSchema } from '../../domain/detection';
import { NATIVE_SOURCE, channelOfSource } from '../../domain/channel';
import { SUBMIT_SOURCES } from '../../ingest';
import { FACT_NAMES, establishFacts, type CmdbAnswer, type Provenance } from '../../planner/provenance';
import { buildSystems } from '../../activities/registry';
import { ConfigError } from '../../common/config';
import { kindsOf } from '../../remediation/routing';

/** `--cmdb`: what the CMDB says about the asset, as JSON (the fields facts come from). */
const cmdbOption = assetSchema.omit({ id: true, type: true }).partial().strict();

/** The policy folder: --policy, else DRW_POLICY_DIR, else policies/default of this install. */
export function policyDir(ctx: Ctx, given: string | undefined): string {
  if (given) return ctx.resolve(given);
  if (ctx.io.env.DRW_POLICY_DIR?.trim()) return ctx.resolve(ctx.io.env.DRW_POLICY_DIR.trim());
  return path.join(REPO_ROOT, 'policies', 'default');
}

export function loadPolicyOrFail(ctx: Ctx, dir: string): PolicySet {
  try {
    return loadPolicyDir(dir);
  } catch (e) {
    if (e instanceof PolicyError) {
      throw new CliError(EXIT.failure, `invalid policy ${dir}:\n${e.problems.map((p) => `  ${formatProblem({ ...p, file: p.file === dir ? p.file : relative(ctx, dir, p.file) })}`).join('\n')}`);
    }
    throw e;
  }
}

export function relative(ctx: Ctx, dir: string, file: string): string {
  const full = path.isAbsolute(file) ? file : path.join(dir, file);
  const rel = path.relative(ctx.io.cwd, full);
  return rel.startsWith('..') ? full : rel;
}

export interface DryRun {
  detection: Detection;
  remediationId: string;
  dedupeKey: string;
  policy: { dir: string; version: string };
  facts: Facts;
  /** Each approval-deciding fact with where it came from. */
  provenance: Provenance;
  /** The channel the detection is planned as coming through (its risk score counts only if trusted). */
  via: string;
  /** What the CMDB said (given with --cmdb), or that it was not consulted. */
  cmdb: CmdbAnswer | 'not consulted';
  risk: { score: number; why: string };
  playbook: { id: string; name: string; selection: string; matchedOn: Record<string, unknown> };
  notChosen: { id: string; priority: number; why: string }[];
  sla?: { severity: string; window: string };
  plan: PlanResult['plan'];
  notInPlan: { id: string; action: string; when: string; facts: Record<string, unknown> }[];
  /** The playbook's `approval.when` per step id, for steps whose approval is conditional. */
  approvalWhen: Record<string, string>;
  /** With --providers: what a worker with this environment would use per kind, and the steps it would block. */
  providers?: { byKind: Record<string, string>; blocked: { step: string; kind: string }[] };
  /** The policy engine's answers this plan used (--opa), and the questions left unasked (without it). */
  policyEngine?: { answers: PolicyAnswer[]; unasked: PolicyAsk[] };
}

export function dryRun(policy: PolicySet, dir: string, d: Detection, requestedBy: string, o: { via?: string; cmdb?: CmdbAnswer; policyAnswers?: Record<string, PolicyAnswer> } = {}): DryRun {
  const via = o.via ?? NATIVE_SOURCE;
  // The facts as the workflow establishes them: the channel decides whether the detection's risk score counts.
  const established = establishFacts({ detection: d, cmdb: o.cmdb, requestedBy: channelOfSource(via), rules: policy.facts, unknownWhy: o.cmdb ? undefined : 'the CMDB is not consulted in a dry run (--cmdb gives its record)' });
  const start = startFacts(d).facts;
  const facts = { ...start, asset: established.asset, riskScore: established.riskScore, provenance: established.provenance };
  const riskWhy = established.riskWhy;
  const key = dedupeKeyFor(policy, d, start);
  const id = remediationId(key);
  const match = choosePlaybook(policy, facts);
  const state = { remediationId: id, detection: d, facts, approvals: [], escalations: [], requestedBy, cancelled: false, falsePositive: false, resolvedAtSource: false, verificationFailures: 0, policyAnswers: o.policyAnswers ?? {} };
  const r = buildPlan(policy, state);
  const answers = Object.values(o.policyAnswers ?? {});
  const ranked = [...policy.playbooks].sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1));
  const notChosen = ranked
    .filter((pb) => pb.id !== match.playbook.id && pb.priority >= match.playbook.priority)
    .map((pb) => ({ id: pb.id, priority: pb.priority, why: mismatch(pb, facts, {}) ?? 'also matches, ranked lower (fewer criteria or id order)' }));
  const ctx = conditionContext(state);
  const inPlan = new Set(r.plan.steps.map((s) => s.id));
  const notInPlan = match.playbook.steps
    .filter((s) => !inPlan.has(`${match.playbook.id}.${s.id}`))
    .map((s) => {
      const seen: Record<string, unknown> = {};
      if (s.when) evaluate(s.when.cond, ctx, seen);
      return { id: `${match.playbook.id}.${s.id}`, action: s.action, when: s.when?.text ?? 'always', facts: seen };
    });
  const window = match.playbook.sla[facts.severity];
  const approvalWhen = Object.fromEntries(match.playbook.steps.filter((s) => s.approval?.when).map((s) => [`${match.playbook.id}.${s.id}`, s.approval!.when!.text]));
  return {
    detection: d,
    remediationId: id,
    dedupeKey: key,
    policy: { dir, version: policy.version },
    facts,
    provenance: established.provenance,
    via,
    cmdb: o.cmdb ?? 'not consulted',
    risk: { score: facts.riskScore, why: riskWhy },
    playbook: { id: match.playbook.id, name: match.playbook.name, selection: r.selection, matchedOn: match.matchedOn },
    notChosen,
    ...(window !== undefined ? { sla: { severity: facts.severity, window: formatDuration(window) } } : {}),
    plan: r.plan,
    notInPlan,
    approvalWhen,
    ...(answers.length || r.policyAsks ? { policyEngine: { answers, unasked: r.policyAsks ?? [] } } : {}),
  };
}

/** Plans, asks the engine what the plan needs (as the workflow does before anything runs), and plans again with its answers. */
export async function dryRunAsking(engine: PolicyEngine | undefined, plan: (answers: Record<string, PolicyAnswer>) => DryRun): Promise<DryRun> {
  const answers: Record<string, PolicyAnswer> = {};
  let r = plan(answers);
  // Each round can only add questions about steps the previous answers let in: a few rounds settle it.
  for (let round = 0; engine && r.policyEngine?.unasked.length && round < 5; round++) {
    for (const ask of r.policyEngine.unasked) {
      answers[ask.key] = answerOf(ask, await engine.evaluate({ path: ask.path, input: ask.input }).catch((e: Error) => ({ error: e.message })));
    }
    r = plan(answers);
  }
  return r;
}

function approvalText(s: PlanStep, when?: string): string {
  if (!s.approval) return when ? `no approval (needed only while ${when})` : '';
  const a = s.approval;
  return `needs ${[...a.users, ...a.groups.map((g) => `@${g}`)].join(' or ')}${a.quorum > 1 ? ` (quorum ${a.quorum})` : ''}${when ? ` while ${when}` : ''}${a.expiresAfterMs ? `, expires after ${formatDuration(a.expiresAfterMs)} (${a.onExpiry})` : ''}`;
}

function factsText(f: Record<string, unknown>, except: Record<string, unknown> = {}): string {
  const e = Object.entries(f).filter(([k]) => !(k in except));
  return e.length ? ` [${e.map(([k, v]) => `${k}=${JSON.stringify(v) ?? 'undefined'}`).join(', ')}]` : '';
}

export function dryRunText(r: DryRun): string {
  const d = r.detection;
  const lines = [
    `Detection: ${d.title}`,
    `  ${d.source} / ${d.rule}, severity ${d.severity}${d.category ? `, category ${d.category}` : ''}, asset ${d.asset.id} (${d.asset.type}${d.asset.environment ? `, ${d.asset.environment}` : ''}${d.asset.internetFacing ? ', internet-facing' : ''})`,
    `  deduplication key ${r.dedupeKey} → remediation ${r.remediationId}`,
    `  via ${r.via}; CMDB ${r.cmdb === 'not consulted' ? 'not consulted (the asset counts as unknown to it)' : r.cmdb.found ? 'record given' : 'does not know the asset'}`,
    'Facts:',
    ...FACT_NAMES.filter((n) => r.provenance[n]).map((n) => {
      const f = r.provenance[n]!;
      return `  ${n.padEnd(15)} ${String(f.value ?? '-').padEnd(12)} from ${f.from}: ${f.why}`;
    }),
    `Policy: ${r.policy.dir} (version ${r.policy.version})`,
    `Playbook: ${r.playbook.id} — ${r.playbook.name}`,
    `  ${r.playbook.selection}`,
    ...r.notChosen.map((n) => `  not ${n.id} (priority ${n.priority}): ${n.why}`),
    r.sla ? `SLA: ${r.sla.window} for ${r.sla.severity}` : 'SLA: none for this severity',
    '',
    `Plan v${r.plan.version} (${r.plan.steps.length} step${r.plan.steps.length === 1 ? '' : 's'}):`,
    textTable(
      ['STEP', 'ACTION', 'STATUS', 'WHY'],
      r.plan.steps.map((s) => {
        const approval = approvalText(s, r.approvalWhen[s.id]);
        return [s.id, s.action, s.status, `when ${s.reason.rule}${approval ? `; ${approval}` : ''}${factsText(s.reason.facts, r.playbook.matchedOn)}${s.disruptive ? '; disruptive (change window)' : ''}${s.windowOverride ? `; ${s.windowOverride}` : ''}${s.change ? `; under a ${s.change} change (the CAB approves it in the change system)` : ''}`];
      }),
    )
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  ];
  if (r.notInPlan.length) {
    lines.push('', 'Not in the plan (condition false):');
    for (const s of r.notInPlan) lines.push(`  ${s.id} (${s.action}): when ${s.when}${factsText(s.facts)}`);
  }
  if (r.policyEngine) {
    lines.push('', 'Policy engine:');
    for (const a of r.policyEngine.answers) lines.push(`  ${a.path}: ${a.error !== undefined ? `no answer (${a.error})` : JSON.stringify(a.result)}${a.decisionId ? ` (decision ${a.decisionId})` : ''}`);
    for (const a of r.policyEngine.unasked) lines.push(`  ${a.path}: not asked (--opa <url> asks it); until it answers, the steps it decides are left out and the approvals it could lift stay`);
  }
  if (r.providers) {
    lines.push('', `Providers a worker with this environment would use: ${Object.entries(r.providers.byKind).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    for (const b of r.providers.blocked) lines.push(`  ${b.step}: blocked when it runs — no ${b.kind} provider (set DRW_${b.kind.toUpperCase()} and its variables)`);
  }
  lines.push('', 'Dry run: nothing was started.');
  return lines.join('\n');
}

export const plan: CommandSpec = {
  name: 'plan',
  summary: 'Show which playbook and steps a detection would get, and why, without starting anything',
  usage: ['drw plan --dry-run <detection-file|-> [--policy <dir>] [--format <name>] [--as <requester>] [--via <source>] [--cmdb <json>] [--opa <url>] [--providers]'],
  description:
    "Runs the planner on the facts the workflow would build, each shown with where it came from (detection, cmdb, drw). No server is needed. The policy is --policy, else DRW_POLICY_DIR, else policies/default. The CMDB is not consulted: --cmdb gives its record (JSON: environment, criticality, internetFacing, owner, tags; '{}' for none found), else the asset counts as unknown to it.",
  options: {
    'dry-run': { type: 'boolean', help: 'required: plan only, start nothing' },
    policy: { type: 'string', arg: 'dir', help: 'policy folder (default policies/default)' },
    format: { type: 'string', arg: 'name', help: 'payload format when it is not drw JSON (detected otherwise)' },
    as: { type: 'string', arg: 'requester', help: 'who would submit it (affects self-approval); default cli' },
    via: { type: 'string', arg: 'source', help: `the channel it comes through: drw (the native API) or an ingest format; default the payload's format, else drw` },
    cmdb: { type: 'string', arg: 'json', help: "the CMDB's record of the asset, e.g. '{\"environment\":\"staging\"}'" },
    opa: { type: 'string', arg: 'url', help: "ask this Open Policy Agent the playbook's opa: questions (OPA_TOKEN from the environment), as the workflow would" },
    providers: { type: 'boolean', help: 'the providers a worker with this environment would pick (DRW_<KIND>, vendor variables, DRW_ALLOW_INPROCESS): steps of a kind with none are shown blocked' },
  },
  positionals: [1, 1],
  examples: ['drw plan --dry-run finding.json', 'drw plan --dry-run alert.json --policy policies/strict --json'],
  async run(ctx, { values, positionals }) {
    if (!values['dry-run']) throw new UsageError('drw plan only previews: pass --dry-run');
    const dir = policyDir(ctx, str(values.policy));
    const policy = loadPolicyOrFail(ctx, dir);
    const { text, name } = await ctx.readInput(positionals[0]);
    const kind = classifyPayload(text, str(values.format), {});
    const via = str(values.via) ?? kind.format;
    if (!(SUBMIT_SOURCES as readonly string[]).includes(via)) throw new UsageError(`--via ${via}: not a source; sources are ${SUBMIT_SOURCES.join(', ')}`);
    const cmdb = parseCmdbOption(str(values.cmdb));
    let detections: Detection[];
    if ('detections' in kind) detections = kind.detections;
    else {
      const r = normalize(kind.format, text);
      for (const s of r.skipped) ctx.err(`skipped ${s.ref ?? ''}: ${s.reason}`);
      if (r.findings.length === 0) throw new CliError(EXIT.failure, `${name}: no detection in this ${kind.format} payload`);
      detections = r.findings;
    }
    const requestedBy = str(values.as) ?? 'cli';
    const opaUrl = str(values.opa);
    const engine = opaUrl ? createOpaPolicyEngine(opaOption(opaUrl, ctx.io.env.OPA_TOKEN)) : undefined;
    const results: DryRun[] = [];
    for (const d of detections) results.push(await dryRunAsking(engine, (policyAnswers) => dryRun(policy, relative(ctx, ctx.io.cwd, dir), d, requestedBy, { via, policyAnswers, ...(cmdb ? { cmdb } : {}) })));
    if (values.providers) {
      const byKind = providersHere(ctx.io.env);
      const missing = (st: PlanStep) => kindsOf(st).find((k) => byKind[k] === 'none');
      for (const r of results) r.providers = { byKind, blocked: r.plan.steps.flatMap((st) => ((kind) => (kind ? [{ step: st.id, kind }] : []))(missing(st))) };
    }
    if (ctx.json) ctx.outJson(results.length === 1 ? results[0] : results);
    else ctx.out(results.map(dryRunText).join('\n\n---\n\n'));
    return EXIT.ok;
  },
};

/** --opa: the URL checked like OPA_URL (https, or http on loopback). */
function opaOption(url: string, token: string | undefined): OpaConfig {
  try {
    return loadOpaConfig({ OPA_URL: url, ...(token ? { OPA_TOKEN: token } : {}) })!;
  } catch (e) {
    throw new UsageError(`--opa: ${(e as Error).message}`);
  }
}

function parseCmdbOption(text: string | undefined): CmdbAnswer | undefined {
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--cmdb: not JSON (${(e as Error).message})`);
  }
  const r = cmdbOption.safeParse(json);
  if (!r.success) throw new UsageError(`--cmdb: ${r.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ')}`);
  // An empty record is the CMDB not knowing the asset.
  return Object.keys(r.data).length ? { found: true, ...r.data } : { found: false };
}

/** What buildSystems would choose for each kind in this environment (no vendor is called). */
function providersHere(env: NodeJS.ProcessEnv): Record<string, string> {
  try {
    const { policyEngine: _engine, ...kinds } = buildSystems(env).providers;
    return kinds;
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(EXIT.failure, `--providers: this environment would stop a worker:\n  ${e.problems.join('\n  ')}`);
    throw e;
  }
}
