import { TemplateError } from '../types';
import type { ManifestBump } from './types';
import { compareVersions, isVersion } from './version';

/**
 * pip requirements files: raises the lower bound of the package's specifier (`==`, `~=`, `>=`,
 * `>`) to the fixed version, or adds `>=fixed` to an unpinned requirement. Extras, environment
 * markers, comments and continuation lines are kept. Hash-pinned requirements and upper bounds
 * that exclude the fix are refused: the first needs hashes we cannot compute offline, the
 * second a human decision.
 */

/** PEP 503 normalization: `Foo.Bar_baz` and `foo-bar-baz` are the same project. */
export function normalizePyName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const NAME = /^([ \t]*)([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)[ \t]*(\[[^\]]*\])?/;
const CLAUSE = /(===|==|~=|!=|>=|<=|>|<)[ \t]*([^\s,;\\#]+)/g;
const LOWER = new Set(['===', '==', '~=', '>=', '>']);

interface LogicalLine {
  start: number;
  text: string;
  line: number;
}

function logicalLines(content: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  let start = 0;
  let line = 1;
  let pendingStart = -1;
  let pendingLine = 0;
  const physical = content.split('\n');
  for (const p of physical) {
    if (pendingStart < 0) {
      pendingStart = start;
      pendingLine = line;
    }
    start += p.length + 1;
    line++;
    if (/\\\r?$/.test(p)) continue;
    out.push({ start: pendingStart, text: content.slice(pendingStart, Math.min(start - 1, content.length)), line: pendingLine });
    pendingStart = -1;
  }
  if (pendingStart >= 0 && pendingStart < content.length) out.push({ start: pendingStart, text: content.slice(pendingStart), line: pendingLine });
  return out;
}

export function bumpRequirements(path: string, content: string, pkg: string, fixed: string): ManifestBump {
  const wanted = normalizePyName(pkg);
  const target = fixed.replace(/^v/, '');
  const notes: string[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  let found = false;
  for (const ll of logicalLines(content)) {
    // pip starts a comment at a # that begins the line or follows whitespace.
    const commentAt = ll.text.search(/(^|[ \t])#/);
    const body = commentAt >= 0 ? ll.text.slice(0, commentAt) : ll.text;
    const m = NAME.exec(body);
    if (!m || /^[ \t]*-/.test(body) || normalizePyName(m[2]) !== wanted) continue;
    found = true;
    const where = `\`${path}\` line ${ll.line}`;
    const afterName = m[0].length;
    const specEnd = [body.indexOf(';'), body.search(/[ \t]--/), body.search(/\\\r?\n/)].filter((x) => x >= 0).reduce((a, b) => Math.min(a, b), body.length);
    const spec = body.slice(afterName, specEnd);
    if (/^\s*@/.test(spec)) {
      notes.push(`- ${where}: \`${pkg}\` is installed from a URL; left as is, bump it by hand`);
      continue;
    }
    const clauses = [...spec.matchAll(CLAUSE)].map((c) => ({
      op: c[1],
      version: c[2],
      at: ll.start + afterName + c.index! + c[0].length - c[2].length,
      opAt: ll.start + afterName + c.index!,
    }));
    const lower = clauses.filter((c) => LOWER.has(c.op));
    const current = lower.map((c) => c.version.replace(/\.\*$/, '')).filter(isVersion);
    if (current.length > 0 && current.some((v) => compareVersions(v, target) >= 0)) {
      notes.push(`- ${where}: \`${body.trim()}\` already allows only \`${target}\` or later`);
      continue;
    }
    for (const c of clauses) {
      const excludes =
        (c.op === '<' && isVersion(c.version) && compareVersions(c.version, target) <= 0) ||
        (c.op === '<=' && isVersion(c.version) && compareVersions(c.version, target) < 0) ||
        (c.op === '!=' && c.version === target);
      if (excludes) throw new TemplateError('refused', `${path} line ${ll.line}: "${c.op}${c.version}" excludes the fixed version ${target}; bump it by hand`);
    }
    if (/--hash[= ]/.test(ll.text)) {
      throw new TemplateError('refused', `${path} line ${ll.line}: ${pkg} is hash-pinned; new hashes cannot be computed offline, bump it with pip-compile`);
    }
    if (lower.length === 0) {
      const insertAt = ll.start + afterName;
      const extra = clauses.length > 0 ? `>=${target},` : `>=${target}`;
      // `pkg <3` becomes `pkg >=fixed,<3`; a bare `pkg` becomes `pkg>=fixed`.
      const lead = clauses.length > 0 ? spec.match(/^[ \t]*/)![0].length : 0;
      edits.push({ start: insertAt + lead, end: insertAt + lead, text: extra });
      notes.push(`- ${where}: \`${pkg}\` now requires \`>=${target}\``);
      continue;
    }
    for (const c of lower) {
      const op = c.op === '>' ? '>=' : c.op;
      edits.push({ start: c.opAt, end: c.at + c.version.length, text: `${op}${target}` });
    }
    notes.push(`- ${where}: \`${spec.trim()}\` → \`${lower.map((c) => `${c.op === '>' ? '>=' : c.op}${target}`).join(',')}\``);
  }
  let out = content;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { content: out, found, notes };
}
