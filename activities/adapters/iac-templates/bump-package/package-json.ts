import { TemplateError } from '../types';
import { locateJson, member } from './json-locate';
import type { ManifestBump } from './types';
import { compareVersions } from './version';

/**
 * package.json: bumps the package in dependencies, devDependencies and optionalDependencies,
 * keeping its range operator (`^1.2.3` → `^1.4.0`). Specs that are not a plain version
 * (ranges with spaces or `||`, tags, git or file URLs, workspace:) are reported, not touched.
 */

const SECTIONS = ['dependencies', 'devDependencies', 'optionalDependencies'];
const PLAIN = /^(\^|~|>=|=|)v?(\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/;

export function bumpPackageJson(path: string, content: string, pkg: string, fixed: string): ManifestBump {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (err) {
    throw new TemplateError('parse_error', `${path}: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object') throw new TemplateError('parse_error', `${path}: not a JSON object`);
  const root = locateJson(content);
  const target = fixed.replace(/^v/, '');
  const notes: string[] = [];
  let found = false;
  let out = content;
  // Replacements run from the end of the file backwards so earlier offsets stay valid.
  const edits: { start: number; end: number; text: string }[] = [];
  for (const section of SECTIONS) {
    const node = member(member(root, section), pkg);
    if (!node) continue;
    found = true;
    const where = `\`${path}\`: \`${section}.${pkg}\``;
    if (node.kind !== 'string') {
      notes.push(`- ${where} is not a version string; left as is`);
      continue;
    }
    const spec = JSON.parse(content.slice(node.start, node.end)) as string;
    const m = PLAIN.exec(spec.trim());
    if (!m) {
      notes.push(`- ${where} is \`${spec}\`, not a plain version; left as is, bump it by hand`);
      continue;
    }
    if (compareVersions(m[2], target) >= 0) {
      notes.push(`- ${where} already at \`${spec}\` (fixed in \`${target}\`)`);
      continue;
    }
    const next = `${m[1]}${target}`;
    edits.push({ start: node.start, end: node.end, text: JSON.stringify(next) });
    notes.push(`- ${where}: \`${spec}\` → \`${next}\``);
  }
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { content: out, found, notes };
}
