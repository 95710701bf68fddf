/**
 * The playbook file format (policies/<set>/*.yaml), validated with zod. Conditions and
 * durations are parsed here, at load time, so a bad policy is refused before any
 * workflow sees it, with the file, the path inside it and the reason.
 */
import { z } from 'zod';
import { SEVERITIES } from '../domain/detection';
import { ACTIONS, CHANGE_TYPES } from './types';
import { POLICY_INPUT_FACTS } from './policy-engine';
import { parseCondition, type Condition } from './conditions';
import { parseDuration } from './durations';
import { rulePatternProblem } from './rule-pattern';

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

/** Kept with its text so plan reasons quote the policy as written. */
const condition = z.string().min(1).transform((v, ctx): { text: string; cond: Condition } => {
  try {
    return { text: v.trim(), cond: parseCondition(v) };
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lower-case letters, digits, - and _ (max 63)');
const list = <T extends z.ZodType>(t: T) => z.array(t).min(1);

export const matchSchema = z
  .object({
    sources: list(z.string()).optional(),
    /** Exact rule ids, or `/regex/` (written between slashes, RE2 syntax: matched in linear time). */
    rules: list(
      // A `/regex/` that does not compile would silently never match; one that could be slow is refused too.
      z.string().superRefine((p, ctx) => {
        const problem = rulePatternProblem(p);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    ).optional(),
    categories: list(z.string()).optional(),
    severities: list(z.enum(SEVERITIES)).optional(),
    riskScore: z.object({ min: z.number().min(0).max(100).default(0), max: z.number().min(0).max(100).default(100) }).strict().optional(),
    asset: z
      .object({
        types: list(z.string()).optional(),
        environments: list(z.string()).optional(),
        criticalities: list(z.enum(['low', 'medium', 'high', 'critical'])).optional(),
        internetFacing: z.boolean().optional(),
        /** Every tag listed must be on the asset. */
        tags: list(z.string()).optional(),
        owners: list(z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A question to the policy engine (planner/policy-engine.ts): its rule path and which facts it is given. */
const opaAskSchema = z
  .object({
    path: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/, 'a slash-separated rule path like drw/containment/allow'),
    input: z.array(z.enum(POLICY_INPUT_FACTS)).min(1).optional(),
  })
  .strict();

export const approvalSchema = z
  .object({
    users: z.array(z.string().min(1)).default([]),
    groups: z.array(z.string().min(1)).default([]),
    quorum: z.number().int().min(1).default(1),
    allowRequester: z.boolean().default(false),
    expiresAfter: duration.optional(),
    onExpiry: z.enum(['deny', 'escalate', 'auto_approve']).default('deny'),
    /** Approval is needed only while this holds (e.g. "riskScore < 90" for contain-at-once above 90). */
    when: condition.optional(),
    /** The policy engine may let automation go ahead: an answer of `true` skips the approval; anything else asks people. */
    opa: opaAskSchema.optional(),
  })
  .strict()
  .refine((a) => a.users.length + a.groups.length > 0, { message: 'an approval names at least one user or group' })
  // Only when users are named: with none at all the first refinement already says what is wrong.
  .refine((a) => a.groups.length > 0 || a.users.length === 0 || a.users.length >= a.quorum, {
    message: 'quorum is larger than the number of users who may approve',
    path: ['quorum'],
  });

const retrySchema = z
  .object({
    maximumAttempts: z.number().int().min(1).max(100).default(5),
    initialInterval: duration.default(1000),
    backoffCoefficient: z.number().min(1).max(10).default(2),
    maximumInterval: duration.default(60_000),
  })
  .strict();

export const stepSchema = z
  .object({
    id,
    action: z.enum(ACTIONS),
    title: z.string().min(1).max(200).optional(),
    params: z.record(z.string(), z.unknown()).default({}),
    when: condition.optional(),
    /**
     * Planned only when the policy engine answers `true`. Without an answer (unreachable, an error):
     * `block` (default) plans the step blocked with the reason, so people are asked; `plan` plans it; `skip` leaves it out.
     */
    opa: opaAskSchema.extend({ onUnavailable: z.enum(['block', 'plan', 'skip']).default('block') }).strict().optional(),
    approval: approvalSchema.optional(),
    /** Held until a change window opens (unless the emergency override applies). */
    disruptive: z.boolean().default(false),
    /** Runs under a change record (ServiceNow Change); `normal` becomes `emergency` above the change window's emergency risk score. */
    change: z.enum(CHANGE_TYPES).optional(),
    timeout: duration.default(60_000),
    retry: retrySchema.default({ maximumAttempts: 5, initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 60_000 }),
    compensation: z
      .object({ action: z.enum(ACTIONS), params: z.record(z.string(), z.unknown()).default({}) })
      .strict()
      .optional(),
    /** For `verify`: how often to check and for how long. */
    verify: z.object({ interval: duration.default(30_000), deadline: duration.default(3_600_000) }).strict().optional(),
  })
  .strict();

const windowSchema = z
  .object({
    days: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']),
    start: z.string().regex(/^\d{2}:\d{2}(:\d{2})?$/, 'HH:MM or HH:MM:SS'),
    end: z.string().regex(/^\d{2}:\d{2}(:\d{2})?$/, 'HH:MM or HH:MM:SS'),
  })
  .strict();

export const playbookSchema = z
  .object({
    id,
    name: z.string().min(1).max(200),
    description: z.string().max(4000).optional(),
    /** Higher wins when several playbooks match; the fallback playbook uses the lowest. */
    priority: z.number().int().default(0),
    match: matchSchema.default({}),
    /** Deduplication key template, e.g. "{{source}}|{{asset.id}}" (default source|asset|rule). */
    dedupeKey: z.string().min(1).optional(),
    /** Exposure window per severity; SLA breach runs the escalation steps. */
    sla: z.partialRecord(z.enum(SEVERITIES), duration).default({}),
    changeWindow: z
      .object({
        /** Minutes east of UTC the window times are written in (e.g. 60 for CET). */
        utcOffsetMinutes: z.number().int().min(-840).max(840).default(0),
        windows: z.array(windowSchema).min(1),
        emergencyOverride: z.object({ minRiskScore: z.number().min(0).max(100) }).strict().optional(),
      })
      .strict()
      .optional(),
    /**
     * Change control by default: a disruptive step on a production asset that names no `change`
     * runs under a change record of this type (`none`: no record); a normal change is an emergency
     * change at or above `emergencyAtRiskScore` (else the change window's emergency risk score).
     */
    changeControl: z
      .object({
        disruptiveInProduction: z.enum([...CHANGE_TYPES, 'none']).default('normal'),
        emergencyAtRiskScore: z.number().min(0).max(100).optional(),
      })
      .strict()
      .optional(),
    steps: z.array(stepSchema).min(1),
    escalation: z.array(stepSchema).default([]),
  })
  .strict()
  .superRefine((pb, ctx) => {
    const seen = new Set<string>();
    pb.steps.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id "${s.id}"` });
      seen.add(s.id);
      if (s.action === 'verify' && !s.verify) {
        // defaults apply; nothing to report
      }
    });
  });

/**
 * `facts.yaml` in a policy folder: which facts the planner believes, and from whom. Absent: the
 * defaults (no detection's own risk score counts; an asset the CMDB does not know is production).
 */
export const factRulesSchema = z
  .object({
    /** Channels whose detections' own risk scores count: `drw` (the native API) or ingest format names. */
    trustedRiskSources: z.array(z.string().min(1)).default([]),
    unknownAsset: z
      .object({
        /** The environment an asset the CMDB does not know counts as (at least); null: as the detection says. */
        environment: z.string().min(1).max(64).nullable().default('production'),
      })
      .strict()
      .default({ environment: 'production' }),
  })
  .strict();
export type FactRules = z.output<typeof factRulesSchema>;
export const DEFAULT_FACT_RULES: FactRules = { trustedRiskSources: [], unknownAsset: { environment: 'production' } };

export type PlaybookInput = z.input<typeof playbookSchema>;
export type Playbook = z.output<typeof playbookSchema>;
export type StepDef = z.output<typeof stepSchema>;

export interface PolicySet {
  /** sha256 of the files' contents (sorted by name), first 16 hex digits. */
  version: string;
  playbooks: Playbook[];
  /** facts.yaml (absent in policies loaded before fact provenance: the defaults apply). */
  facts?: FactRules;
  /** Where each playbook came from, for error messages and `drw policy validate`. */
  files: Record<string, string>;
}
