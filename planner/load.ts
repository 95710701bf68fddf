/**
 * Loads a policy set (a folder of playbook YAML files). Node-only: the workflow gets the
 * result through the loadPolicy activity, never this module.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { SUBMIT_SOURCES } from '../ingest';
import { DEFAULT_FACT_RULES, factRulesSchema, playbookSchema, type FactRules, type Playbook, type PolicySet } from './policy-schema';

/** The file of a policy folder that holds the fact rules rather than a playbook. */
export const FACT_RULES_FILE = 'facts.yaml';

export class PolicyError extends Error {
  constructor(readonly problems: PolicyProblem[]) {
    super(`invalid policy:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'PolicyError';
  }
}

export interface PolicyProblem {
  file: string;
  /** Dotted path inside the file, e.g. steps.2.approval.quorum. */
  path: string;
  line?: number;
  message: string;
}

export function formatProblem(p: PolicyProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''}: ${p.path || '(top level)'}: ${p.message}`;
}

export function parsePlaybookText(text: string, file: string): { playbook?: Playbook; problems: PolicyProblem[] } {
  const y = parseYaml(text, file);
  if (!y.doc) return { problems: y.problems };
  const result = playbookSchema.safeParse(y.doc.toJS());
  if (result.success) return { playbook: result.data, problems: [] };
  return { problems: zodProblems(result.error.issues, y.doc, y.lc, file) };
}

/** The policy folder's facts.yaml: which channels' risk scores count, what an unknown asset is. */
export function parseFactRulesText(text: string, file: string, knownSources: readonly string[]): { rules?: FactRules; problems: PolicyProblem[] } {
  const y = parseYaml(text, file);
  if (!y.doc) return { problems: y.problems };
  const result = factRulesSchema.safeParse(y.doc.toJS() ?? {});
  if (!result.success) return { problems: zodProblems(result.error.issues, y.doc, y.lc, file) };
  // A misspelt source would silently trust nobody (or the wrong channel).
  const problems = result.data.trustedRiskSources.flatMap((src, i) =>
    knownSources.includes(src) ? [] : [{ file, path: `trustedRiskSources.${i}`, line: lineOf(y.doc!, y.lc, ['trustedRiskSources', i]), message: `unknown source "${src}"; sources are ${knownSources.join(', ')}` }],
  );
  return problems.length ? { problems } : { rules: result.data, problems: [] };
}

function parseYaml(text: string, file: string): { doc?: Document; lc: LineCounter; problems: PolicyProblem[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (!doc.errors.length) return { doc, lc, problems: [] };
  // With prettyErrors off, yaml leaves linePos unset; the offset is always there.
  return { lc, problems: doc.errors.map((e) => ({ file, path: '', line: lc.linePos(e.pos[0]).line, message: `YAML: ${e.message.split('\n')[0]}` })) };
}

function zodProblems(issues: z.core.$ZodIssue[], doc: Document, lc: LineCounter, file: string): PolicyProblem[] {
  return issues.flatMap((i) => {
    const at = i.path as (string | number)[];
    // One problem per unknown key, pointing at the key itself rather than at the map holding it.
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ file, path: [...at, k].join('.'), line: lineOf(doc, lc, [...at, k]), message: `unknown key "${k}"` }));
    }
    return [{ file, path: at.join('.'), line: lineOf(doc, lc, at), message: i.message }];
  });
}

/** The line of the key that names `at` (a block map's own range starts on its first key's line, not its parent key's). */
function lineOf(doc: Document, lc: LineCounter, at: (string | number)[]): number | undefined {
  if (at.length > 0) {
    const parent = doc.getIn(at.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === at[at.length - 1]);
      if (isNode(pair?.key) && pair.key.range) return lc.linePos(pair.key.range[0]).line;
    }
  }
  const node = doc.getIn(at, true);
  return isNode(node) && node.range ? lc.linePos(node.range[0]).line : undefined;
}

export function policyFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/i.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Reads, validates and versions a policy folder; throws PolicyError listing every problem. */
export function loadPolicyDir(dir: string): PolicySet {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new PolicyError([{ file: dir, path: '', message: 'not a folder of playbook YAML files' }]);
  }
  const files = policyFiles(dir);
  const hash = createHash('sha256');
  const playbooks: Playbook[] = [];
  const where: Record<string, string> = {};
  const problems: PolicyProblem[] = [];
  let facts: FactRules | undefined;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const rel = path.basename(file);
    hash.update(rel).update('\0').update(text).update('\0');
    if (rel === FACT_RULES_FILE) {
      const r = parseFactRulesText(text, rel, SUBMIT_SOURCES);
      problems.push(...r.problems);
      facts = r.rules;
      continue;
    }
    const { playbook, problems: p } = parsePlaybookText(text, rel);
    problems.push(...p);
    if (!playbook) continue;
    if (where[playbook.id]) {
      const lc = new LineCounter();
      problems.push({ file: rel, path: 'id', line: lineOf(parseDocument(text, { lineCounter: lc }), lc, ['id']), message: `playbook id "${playbook.id}" is also used by ${where[playbook.id]}` });
      continue;
    }
    where[playbook.id] = rel;
    playbooks.push(playbook);
  }
  if (files.every((f) => path.basename(f) === FACT_RULES_FILE)) problems.push({ file: dir, path: '', message: 'no .yaml playbooks in this folder' });
  if (problems.length) throw new PolicyError(problems);
  return { version: hash.digest('hex').slice(0, 16), playbooks, facts: facts ?? DEFAULT_FACT_RULES, files: where };
}
