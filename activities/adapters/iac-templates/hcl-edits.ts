import { attribute, HclBlock } from './hcl/parser';
import { boolValue, compactText } from './hcl/values';
import { eol, indentAt, lineStart, TextEdit } from './text-edits';

/** HCL-aware edits built on the scanner's positions. */

/** The indentation used for a block's items (that of its first item, or the block's plus two spaces). */
export function bodyIndent(src: string, block: HclBlock): string {
  const first = block.body.items[0];
  if (first && lineStart(src, first.start) > lineStart(src, block.openBrace)) return indentAt(src, first.start);
  return indentAt(src, block.start) + '  ';
}

/** Lines `name = value`, padded to line up with each other (editTerraform aligns them with their neighbours). */
export function attributeLines(names: string[], value: (name: string) => string, indent: string, width = 0): string[] {
  const w = Math.max(width, ...names.map((n) => n.length));
  return names.map((n) => `${indent}${n.padEnd(w)} = ${value(n)}`);
}

/** Inserts whole lines just before a block's closing brace, reflowing a one-line block if needed. */
export function insertLinesAtEnd(src: string, block: HclBlock, lines: string[]): TextEdit {
  const nl = eol(src);
  const closeLine = lineStart(src, block.closeBrace);
  const beforeClose = src.slice(closeLine, block.closeBrace);
  if (/^[ \t]*$/.test(beforeClose) && closeLine > block.openBrace) {
    return { start: closeLine, end: closeLine, text: lines.map((l) => l + nl).join('') };
  }
  // `resource "x" "y" { a = 1 }` or a body ending on the brace's line: break it open.
  const indent = bodyIndent(src, block);
  const inner = src.slice(block.openBrace + 1, block.closeBrace).trim();
  const body = [...(inner ? [indent + inner, ''] : []), ...lines];
  return { start: block.openBrace + 1, end: block.closeBrace, text: nl + body.join(nl) + nl + indentAt(src, block.start) };
}

export interface BoolFix {
  edits: TextEdit[];
  /** Human-readable notes, one per attribute changed. */
  notes: string[];
}

/** Makes every attribute in `names` equal to the literal `true`, repairing or adding as needed. */
export function ensureTrue(src: string, block: HclBlock, names: string[]): BoolFix {
  const edits: TextEdit[] = [];
  const notes: string[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const attr = attribute(block.body, name);
    if (!attr) {
      missing.push(name);
      continue;
    }
    if (boolValue(attr) === true) continue;
    edits.push({ start: attr.exprStart, end: attr.exprEnd, text: 'true' });
    notes.push(`\`${name}\` set to \`true\` (was \`${compactText(attr)}\`)`);
  }
  if (missing.length > 0) {
    edits.push(insertLinesAtEnd(src, block, attributeLines(missing, () => 'true', bodyIndent(src, block))));
    for (const n of missing) notes.push(`\`${n} = true\` added`);
  }
  return { edits, notes };
}
