/** `drw policy validate | test | whatif`. */
import { paramsDigest } from '../../planner/digest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { assetSchema, detectionSchema, severitySchema } from '../../domain/detection';
import { remediationId } from '../../domain/ids';
import { formatProblem, loadPolicyDir, PolicyError } from '../../planner/load';
import type { PolicySet } from '../../planner/policy-schema';
import type { EscalationTrigger, PlanStep } from '../../planner/types';
import { runsFromText, HistoryFormatError } from '../../report/history';
import { Replayer, type ReplayEvent, type ReplayInput } from '../../report/replay';
import { formatWhatIf, whatIf, type WhatIfResult } from '../../report/whatif';
import { CliError, EXIT, str, UsageError, type CommandSpec } from './common';
import { loadPolicyOrFail, policyDir, relative } from './plan';
import { dedupeKeyFor } from '../../planner/dedupe';
import { startFacts } from '../../planner/facts';

// ---- validate ----

export const policyValidate: CommandSpec = {
  name: 'policy validate',
  summary: 'Validate a policy folder: every problem as file:line: path: reason',
  usage: ['drw policy validate [--policy <dir>]'],
  description: 'Exit 1 when the policy is invalid. The policy is --policy, else DRW_POLICY_DIR, else policies/default.',
  options: { policy: { type: 'string', arg: 'dir', help: 'policy folder' } },
  positionals: [0, 0],
  async run(ctx, { values }) {
    const dir = policyDir(ctx, str(values.policy));
    const shown = relative(ctx, ctx.io.cwd, dir);
    try {
      const p = loadPolicyDir(dir);
      const playbooks = [...p.playbooks].sort((a, b) => b.priority - a.priority).map((pb) => ({ id: pb.id, name: pb.name, priority: pb.priority, file: p.files[pb.id], steps: pb.steps.length, escalation: pb.escalation.length }));
      if (ctx.json) ctx.outJson({ valid: true, dir: shown, version: p.version, playbooks });
      else {
        ctx.out(`${shown}: valid — ${playbooks.length} playbook${playbooks.length === 1 ? '' : 's'}, version ${p.version}`);
        for (const pb of playbooks) ctx.out(`  ${String(pb.priority).padStart(5)}  ${pb.id.padEnd(32)} ${pb.steps} step(s), ${pb.escalation} escalation step(s)  ${pb.file}`);
      }
      return EXIT.ok;
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      const problems = e.problems.map((p) => ({ ...p, file: p.file === dir ? shown : relative(ctx, dir, p.file) }));
      if (ctx.json) ctx.outJson({ valid: false, dir: shown, problems: problems.map((p) => ({ ...p, text: formatProblem(p) })) });
      else {
        for (const p of problems) ctx.out(formatProblem(p));
        ctx.err(`${shown}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
      }
      return EXIT.failure;
    }
  },
};

// ---- publish ----

export const policyPublish: CommandSpec = {
  name: 'policy publish',
  summary: "Roll out a policy version: validate the folder, then tell drw's open remediations (all, by playbook, or a canary share) to re-plan on it",
  usage: ['drw policy publish --reason <text> [--policy <dir>] [--playbook <id>[,<id>]] [--percent <1-100>] [--as <user>]'],
  description:
    "Validates the folder (as drw policy validate) and sends its version to POST /v1/policy/publish, which needs the operate permission. The API's (and the workers') policy folder must already hold that version: deploy first, then publish. A canary (--percent 10, then 50, then 100) keeps the remediations it chose as it grows. A worker that cannot load the version keeps a remediation on its current policy and records why.",
  options: {
    policy: { type: 'string', arg: 'dir', help: 'the policy folder to validate (default DRW_POLICY_DIR, else policies/default)' },
    playbook: { type: 'string', arg: 'ids', help: 'only remediations on these playbooks (comma-separated)' },
    percent: { type: 'string', arg: 'n', help: 'canary: this share of the selection, 1-100 (default 100)' },
    reason: { type: 'string', arg: 'text', help: 'why (required; recorded in each remediation)' },
    as: { type: 'string', arg: 'user', help: 'who publishes (default DRW_USER or your OS user; with DRW_TOKEN, the token)' },
  },
  positionals: [0, 0],
  async run(ctx, { values }) {
    const reason = str(values.reason)?.trim();
    if (!reason) throw new UsageError('--reason is required');
    const percentText = str(values.percent);
    const percent = percentText === undefined ? undefined : Number(percentText);
    if (percent !== undefined && (!Number.isInteger(percent) || percent < 1 || percent > 100)) throw new UsageError(`--percent: a whole number from 1 to 100 (got "${percentText}")`);
    const playbooks = str(values.playbook)?.split(',').map((x) => x.trim()).filter(Boolean);
    const policy = loadPolicyOrFail(ctx, policyDir(ctx, str(values.policy)));
    const by = ctx.io.env.DRW_TOKEN?.trim() && !str(values.as) ? undefined : ctx.identity(str(values.as));
    const res = await ctx.api('POST', '/v1/policy/publish', { version: policy.version, reason, ...(playbooks?.length ? { playbooks } : {}), ...(percent !== undefined ? { percent } : {}), ...(by ? { by } : {}) });
    ctx.check(res, `policy ${policy.version}`);
    const out = res.body as { version: string; signalled: string[]; heldBack: number };
    if (ctx.json) ctx.outJson(out);
    else {
      ctx.out(`policy ${out.version} published to ${out.signalled.length} open remediation${out.signalled.length === 1 ? '' : 's'}${out.heldBack ? ` (${out.heldBack} held back by the canary)` : ''}`);
      for (const id of out.signalled) ctx.out(`  ${id}`);
    }
    return EXIT.ok;
  },
};

// ---- test ----

const stepExpect = z
  .object({
    id: z.string().min(1),
    status: z.string().min(1).optional(),
    /** true: must need approval; false: must not; object: must need exactly these approvers. */
    approval: z.union([z.boolean(), z.object({ users: z.array(z.string()).optional(), groups: z.array(z.string()).optional(), quorum: z.number().int().optional() }).strict()]).optional(),
  })
  .strict();
const expectSchema = z
  .object({
    playbook: z.string().min(1).optional(),
    /** The whole plan, in order. */
    steps: z.array(stepExpect).optional(),
    /** Steps that must not be in the plan. */
    absent: z.array(z.string()).optional(),
  })
  .strict();
const who = z.object({ step: z.string().min(1), by: z.string().min(1), groups: z.array(z.string()).default([]), reason: z.string().default('policy test') }).strict();
const eventSchema = z
  .object({
    risk: z.number().min(0).max(100).optional(),
    repeat: z.record(z.string(), z.unknown()).optional(),
    severity: severitySchema.optional(),
    approve: who.optional(),
    deny: who.optional(),
    done: z.union([z.string(), z.array(z.string())]).optional(),
    failed: z.string().optional(),
    escalate: z.enum(['sla_breached', 'verification_failed', 'approval_expired', 'step_failed']).optional(),
    resolved: z.literal(true).optional(),
    cancel: z.literal(true).optional(),
    falsePositive: z.literal(true).optional(),
    expect: expectSchema.optional(),
  })
  .strict();
export const policyTestSchema = z
  .object({
    name: z.string().min(1),
    detection: detectionSchema,
    /** What the CMDB would say about the asset (none: the CMDB does not know it); the stricter value applies, as in the workflow. */
    cmdb: assetSchema.omit({ id: true, type: true }).partial().optional(),
    /** Who submitted it: `ingest:<format>` for an ingest channel (whose risk score counts if trusted), else the native API. */
    requestedBy: z.string().min(1).default('api:policy-test'),
    expect: expectSchema,
    then: z.array(eventSchema).default([]),
  })
  .strict();
export type PolicyTest = z.output<typeof policyTestSchema>;
const fileSchema = z.union([z.object({ tests: z.array(policyTestSchema).min(1) }).strict(), policyTestSchema]);

export interface TestOutcome {
  file: string;
  name: string;
  passed: boolean;
  failures: string[];
}

function full(steps: PlanStep[], id: string): PlanStep | undefined {
  return steps.find((s) => s.id === id) ?? steps.find((s) => s.id.endsWith(`.${id}`));
}

function checkExpect(r: Replayer, e: z.output<typeof expectSchema>, where: string): string[] {
  const out: string[] = [];
  const steps = r.plan.steps;
  if (e.playbook !== undefined && r.plan.playbook !== e.playbook) out.push(`${where}: playbook ${r.plan.playbook || '(none)'}, expected ${e.playbook}`);
  if (e.steps) {
    const got = steps.map((s) => `${s.id} ${s.status}`);
    const n = Math.max(e.steps.length, steps.length);
    for (let i = 0; i < n; i++) {
      const want = e.steps[i];
      const have = steps[i];
      if (!want) {
        out.push(`${where}: unexpected step ${i + 1}: ${have.id} (${have.status})`);
        continue;
      }
      if (!have || !(have.id === want.id || have.id.endsWith(`.${want.id}`))) {
        out.push(`${where}: step ${i + 1}: expected ${want.id}${want.status ? ` (${want.status})` : ''}, got ${have ? `${have.id} (${have.status})` : 'nothing'}; plan: [${got.join(', ')}]`);
        continue;
      }
      if (want.status && have.status !== want.status) out.push(`${where}: ${have.id}: status ${have.status}, expected ${want.status}${have.note ? ` (${have.note})` : ''}`);
      if (want.approval !== undefined) {
        const a = have.approval;
        if (want.approval === true && !a) out.push(`${where}: ${have.id}: needs no approval, expected one`);
        else if (want.approval === false && a) out.push(`${where}: ${have.id}: needs approval (${[...a.users, ...a.groups.map((g) => `@${g}`)].join(', ')}), expected none`);
        else if (typeof want.approval === 'object') {
          if (!a) out.push(`${where}: ${have.id}: needs no approval, expected one`);
          else {
            if (want.approval.groups && [...want.approval.groups].sort().join(',') !== [...a.groups].sort().join(',')) out.push(`${where}: ${have.id}: approval groups [${a.groups.join(', ')}], expected [${want.approval.groups.join(', ')}]`);
            if (want.approval.users && [...want.approval.users].sort().join(',') !== [...a.users].sort().join(',')) out.push(`${where}: ${have.id}: approval users [${a.users.join(', ')}], expected [${want.approval.users.join(', ')}]`);
            if (want.approval.quorum !== undefined && want.approval.quorum !== a.quorum) out.push(`${where}: ${have.id}: quorum ${a.quorum}, expected ${want.approval.quorum}`);
          }
        }
      }
    }
  }
  for (const id of e.absent ?? []) {
    const s = full(steps, id);
    if (s) out.push(`${where}: ${s.id} is in the plan (${s.status}), expected absent`);
  }
  return out;
}

/** Runs one playbook test: the detection's initial plan, then each event and its expectation. */
export function runPolicyTest(policy: PolicySet, t: PolicyTest): string[] {
  const d = t.detection;
  // Without a `cmdb:` the asset is one the CMDB does not know, as a new remediation would find it.
  const cmdb = t.cmdb ? { found: true, ...t.cmdb } : { found: false };
  const { facts } = startFacts(d);
  const r = new Replayer({ remediationId: remediationId(dedupeKeyFor(policy, d, facts)), detection: d, requestedBy: t.requestedBy, fixedPolicy: policy, planningChecks: true });
  const at = '1970-01-01T00:00:00.000Z';
  const apply = (input: ReplayEvent) => r.apply({ at, label: input.kind, ...input } as ReplayInput);
  const feed = (input: ReplayEvent) => {
    apply(input);
    // A stand-in for the IaC preview the workflow makes before anyone may approve a pull request.
    for (const st of r.plan.steps) {
      if (st.action !== 'iac.pull_request' || st.target || (st.status !== 'pending' && st.status !== 'awaiting_approval')) continue;
      apply({ kind: 'previewed', stepId: st.id, repository: String(st.params.repository ?? ''), files: [], baseCommit: 'policy-test', digest: paramsDigest(st.params) });
    }
  };
  feed({ kind: 'policy', policy });
  feed({ kind: 'enrich', cmdb });
  const failures = checkExpect(r, t.expect, 'initial plan');
  t.then.forEach((ev, i) => {
    const where = `then[${i}]`;
    const stepId = (id: string) => full(r.plan.steps, id)?.id ?? id;
    if (ev.risk !== undefined) feed({ kind: 'risk', riskScore: ev.risk, by: 'policy-test' });
    if (ev.repeat || ev.severity) {
      const repeat = { ...d, ...(ev.repeat ?? {}), ...(ev.severity ? { severity: ev.severity } : {}) };
      feed({ kind: 'repeat', detection: repeat });
    }
    for (const [kind, a] of [['approve', ev.approve], ['deny', ev.deny]] as const) {
      if (!a) continue;
      const before = r.notes.length;
      feed({ kind: 'decision', decision: kind, stepId: stepId(a.step), approver: a.by, groups: a.groups, reason: a.reason, via: 'update' });
      if (r.notes.length > before) failures.push(`${where}: ${r.notes[r.notes.length - 1].message}`);
    }
    for (const s of ev.done === undefined ? [] : Array.isArray(ev.done) ? ev.done : [ev.done]) {
      const id = stepId(s);
      const before = r.notes.length;
      feed({ kind: 'step', stepId: id, outcome: 'started' });
      feed({ kind: 'step', stepId: id, outcome: 'done' });
      if (r.notes.length > before) failures.push(`${where}: done ${s}: ${r.notes[r.notes.length - 1].message.replace(/ in reality/, '')}`);
    }
    if (ev.failed) {
      const id = stepId(ev.failed);
      feed({ kind: 'step', stepId: id, outcome: 'started' });
      feed({ kind: 'step', stepId: id, outcome: 'failed', note: 'failed in a policy test' });
      const st = r.step(id);
      if (st?.reason.section === 'steps') feed({ kind: 'escalate', trigger: 'step_failed' });
    }
    if (ev.escalate) feed({ kind: 'escalate', trigger: ev.escalate as EscalationTrigger });
    if (ev.resolved) feed({ kind: 'resolved', by: 'policy-test' });
    if (ev.cancel) feed({ kind: 'operator', action: 'cancel', by: 'policy-test' });
    if (ev.falsePositive) feed({ kind: 'operator', action: 'falsePositive', by: 'policy-test' });
    if (ev.expect) failures.push(...checkExpect(r, ev.expect, where));
  });
  return failures;
}

export function loadPolicyTests(file: string, text: string): { tests: PolicyTest[]; error?: string } {
  let value: unknown;
  try {
    value = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    return { tests: [], error: `not ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}` };
  }
  const r = fileSchema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.flatMap((i) => (i.code === 'invalid_union' && 'errors' in i ? (i.errors as z.core.$ZodIssue[][]).flat() : [i]));
    return { tests: [], error: issues.slice(0, 5).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ') };
  }
  return { tests: 'tests' in r.data ? r.data.tests : [r.data] };
}

export function testFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ya?ml|json)$/i.test(f)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export const policyTest: CommandSpec = {
  name: 'policy test',
  summary: 'Run playbook tests: each fixture has a detection and the expected playbook, steps and statuses',
  usage: ['drw policy test [--policy <dir>] [--tests <dir>]'],
  description: [
    'Test files (YAML or JSON, one test or {tests: [...]}) look like:',
    '  name: EDR malware below 90 waits for secops',
    '  detection: { source: crowdstrike, rule: X, title: X, severity: high, category: malware, riskScore: 60, asset: { id: h1, type: host } }',
    '  cmdb: { environment: production }            # what the CMDB knows (none: an unknown asset, production by default)',
    '  requestedBy: ingest:falcon                   # optional: the channel (ingest:<format>); its risk score counts if facts.yaml trusts it',
    '  expect: { playbook: edr-malware, steps: [ { id: ticket, status: pending }, { id: contain, status: awaiting_approval, approval: { groups: [secops] } } ] }',
    '  then:                                         # optional events, each with an optional expect',
    '    - { risk: 95, expect: { steps: [...] } }',
    '    - { approve: { step: contain, by: alice, groups: [secops] } }',
    'Events: risk, repeat (detection fields), severity, approve, deny, done (step ids), failed, escalate, resolved, cancel, falsePositive.',
    'Default tests folder: <policy>/../tests (policies/tests for policies/default). Exit 1 when a test fails.',
  ].join('\n'),
  options: {
    policy: { type: 'string', arg: 'dir', help: 'policy folder (default policies/default)' },
    tests: { type: 'string', arg: 'dir', help: 'tests folder (default: the policy folder\'s sibling "tests")' },
  },
  positionals: [0, 0],
  async run(ctx, { values }) {
    const dir = policyDir(ctx, str(values.policy));
    const policy = loadPolicyOrFail(ctx, dir);
    const testsDir = str(values.tests) ? ctx.resolve(str(values.tests)!) : path.join(path.dirname(dir), 'tests');
    if (!statSync(testsDir, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(EXIT.notFound, `${relative(ctx, ctx.io.cwd, testsDir)}: no tests folder (pass --tests <dir>)`);
    const files = testFiles(testsDir);
    if (files.length === 0) throw new CliError(EXIT.failure, `${relative(ctx, ctx.io.cwd, testsDir)}: no .yaml or .json tests`);
    const outcomes: TestOutcome[] = [];
    for (const f of files) {
      const rel = relative(ctx, ctx.io.cwd, f);
      const { tests, error } = loadPolicyTests(f, readFileSync(f, 'utf8'));
      if (error) {
        outcomes.push({ file: rel, name: '(invalid test file)', passed: false, failures: [error] });
        continue;
      }
      for (const t of tests) {
        let failures: string[];
        try {
          failures = runPolicyTest(policy, t);
        } catch (e) {
          failures = [`error: ${(e as Error).message}`];
        }
        outcomes.push({ file: rel, name: t.name, passed: failures.length === 0, failures });
      }
    }
    const failed = outcomes.filter((o) => !o.passed);
    if (ctx.json) ctx.outJson({ policy: { dir: relative(ctx, ctx.io.cwd, dir), version: policy.version }, passed: outcomes.length - failed.length, failed: failed.length, tests: outcomes });
    else {
      for (const o of outcomes) {
        ctx.out(`${o.passed ? 'PASS' : 'FAIL'}  ${o.file}: ${o.name}`);
        for (const f of o.failures) ctx.out(`        ${f}`);
      }
      ctx.out(`${outcomes.length - failed.length} passed, ${failed.length} failed (policy ${policy.version})`);
    }
    return failed.length ? EXIT.failure : EXIT.ok;
  },
};

// ---- whatif ----

export const policyWhatif: CommandSpec = {
  name: 'policy whatif',
  summary: 'Replay exported remediation histories through a candidate policy and show where the plans would differ',
  usage: ['drw policy whatif --policy <dir> <history-file>... [--exit-code]'],
  description: [
    'Each file is a history from `drw history export` (one run, or --chain for all runs).',
    'The decision inputs (detection, enrichment, risk changes, repeats, approvals, escalations, step outcomes, resolution)',
    'are replayed with the pure planner twice: with the policy the workflow recorded, and with the candidate.',
    'Differences per plan: playbook, steps added/removed, approval changes, statuses, parameters.',
  ].join('\n'),
  options: {
    policy: { type: 'string', arg: 'dir', help: 'the candidate policy folder (required)' },
    'exit-code': { type: 'boolean', help: 'exit 1 when any remediation would be planned differently' },
  },
  positionals: [1, Infinity],
  examples: ['drw history export drw-… --out h.json && drw policy whatif --policy policies/candidate h.json'],
  async run(ctx, { values, positionals }) {
    const given = str(values.policy);
    if (!given) throw new UsageError('--policy <dir> is required: the candidate policy');
    const dir = ctx.resolve(given);
    const policy = loadPolicyOrFail(ctx, dir);
    const results: WhatIfResult[] = [];
    const errors: { file: string; error: string }[] = [];
    let i = 0;
    for (const f of positionals) {
      i++;
      if (positionals.length > 1) ctx.progress(`replaying ${i}/${positionals.length}: ${f}`);
      const { text } = await ctx.readInput(f);
      try {
        const { runs } = runsFromText(text);
        results.push(whatIf(runs, policy, { source: f }));
      } catch (e) {
        if (!(e instanceof HistoryFormatError) && !(e instanceof Error)) throw e;
        errors.push({ file: f, error: (e as Error).message });
      }
    }
    const differ = results.filter((r) => r.differs).length;
    if (ctx.json) ctx.outJson({ policy: { dir: relative(ctx, ctx.io.cwd, dir), version: policy.version }, differ, results, errors });
    else {
      ctx.out(results.map(formatWhatIf).join('\n\n'));
      for (const e of errors) ctx.err(`${e.file}: ${e.error}`);
      ctx.out(`\n${results.length} remediation${results.length === 1 ? '' : 's'} replayed with policy ${policy.version}: ${differ} would be planned differently${errors.length ? `; ${errors.length} file(s) could not be read` : ''}`);
    }
    if (errors.length) return EXIT.failure;
    return values['exit-code'] && differ > 0 ? EXIT.failure : EXIT.ok;
  },
};
