import type { ManifestBump } from './types';
import { compareVersions, isVersion } from './version';

/**
 * go.mod: bumps the module's version in `require` directives, single-line or in a block,
 * keeping `// indirect` and other comments. A `replace` directive for the same module wins
 * over `require` at build time, so it is reported for a human to check.
 */

export function bumpGoMod(path: string, content: string, module: string, fixed: string): ManifestBump {
  const target = fixed.startsWith('v') ? fixed : `v${fixed}`;
  const notes: string[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  let found = false;
  let block: string | undefined;
  let offset = 0;
  let lineNo = 0;
  for (const line of content.split('\n')) {
    const start = offset;
    offset += line.length + 1;
    lineNo++;
    const code = line.replace(/\/\/.*$/, '');
    if (block) {
      if (/^\s*\)\s*$/.test(code)) {
        block = undefined;
        continue;
      }
    } else {
      const open = /^\s*(\w+)\s*\(\s*$/.exec(code);
      if (open) {
        block = open[1];
        continue;
      }
    }
    const directive = block ?? /^\s*(\w+)\s/.exec(code)?.[1];
    const rest = block ? code : code.replace(/^\s*\w+\s/, (m) => ' '.repeat(m.length));
    if (directive === 'replace' && new RegExp(`^\\s*"?${escape(module)}"?(\\s|$)`).test(rest)) {
      notes.push(`- \`${path}\` line ${lineNo}: a \`replace\` directive for \`${module}\` overrides the required version; check it`);
      continue;
    }
    if (directive !== 'require') continue;
    const m = new RegExp(`^(\\s*"?${escape(module)}"?\\s+)(\\S+)`).exec(rest);
    if (!m) continue;
    found = true;
    const current = m[2];
    const where = `\`${path}\` line ${lineNo}`;
    if (isVersion(current) && compareVersions(current, target) >= 0) {
      notes.push(`- ${where}: \`${module}\` already at \`${current}\``);
      continue;
    }
    edits.push({ start: start + m[1].length, end: start + m[1].length + current.length, text: target });
    notes.push(`- ${where}: \`${module}\` \`${current}\` → \`${target}\``);
  }
  let out = content;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { content: out, found, notes };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
