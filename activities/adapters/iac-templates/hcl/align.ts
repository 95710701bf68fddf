import { HclBlock, parseHcl } from './parser';
import { Token, tokenize } from './tokenizer';
import { applyEdits, TextEdit } from '../text-edits';

/**
 * Re-aligns `=` signs and trailing comments the way `terraform fmt` does, inside the top-level
 * blocks a template changed, so a drw pull request passes a `terraform fmt -check` CI step.
 * The rules follow hclwrite's formatter: consecutive lines that hold a complete `name = value`
 * form a chain whose `=` line up one space after the longest name; consecutive lines ending in
 * a `#`/`//` comment form a chain whose comments line up one space after the longest code.
 * Blank lines, comment-only lines, block openers and closers, and multi-line brackets break
 * chains; a heredoc or multi-line comment does not (hclwrite sees it as one token of its first
 * line, and so does our tokenizer). Only whitespace changes.
 */

interface Line {
  tokens: Token[];
  /** Index in `tokens` of the assignment's `=`, when the line is a complete assignment. */
  assign?: number;
  /** The trailing line comment, when the line has code before it. */
  comment?: Token;
}

function linesOf(tokens: Token[]): Line[] {
  const lines: Line[] = [];
  let current: Token[] = [];
  const close = () => {
    const code = current.filter((t) => t.kind !== 'comment');
    const last = current[current.length - 1];
    const line: Line = { tokens: current };
    if (last && last.kind === 'comment' && !last.text.startsWith('/*') && code.length > 0) line.comment = last;
    const eq = code.findIndex((t, i) => i > 0 && t.kind === 'punct' && t.text === '=');
    if (eq > 0) {
      let net = 0;
      for (const t of code.slice(eq)) if (t.kind === 'punct') net += '([{'.includes(t.text) ? 1 : ')]}'.includes(t.text) ? -1 : 0;
      if (net === 0) line.assign = current.indexOf(code[eq]);
    }
    lines.push(line);
    current = [];
  };
  for (const t of tokens) {
    if (t.kind === 'newline') close();
    else current.push(t);
  }
  close();
  return lines;
}

function alignLines(src: string, lines: Line[]): TextEdit[] {
  const edits: TextEdit[] = [];
  const lineStartOf = (l: Line) => src.lastIndexOf('\n', l.tokens[0].start - 1) + 1;
  // Widths after this pass's own `=` moves, so the comment pass sees the final positions.
  const codeWidth = new Map<Line, number>();

  const chains = (has: (l: Line) => boolean): Line[][] => {
    const out: Line[][] = [];
    let chain: Line[] = [];
    const end = () => {
      if (chain.length) out.push(chain);
      chain = [];
    };
    for (const l of lines) {
      if (l.tokens.length > 0 && has(l)) chain.push(l);
      else end();
    }
    end();
    return out;
  };

  for (const chain of chains((l) => l.assign !== undefined)) {
    const lead = (l: Line) => l.tokens[l.assign! - 1].end - lineStartOf(l);
    const max = Math.max(...chain.map(lead));
    for (const l of chain) {
      const eq = l.tokens[l.assign!];
      const prev = l.tokens[l.assign! - 1];
      const want = ' '.repeat(max - lead(l) + 1);
      if (src.slice(prev.end, eq.start) !== want) edits.push({ start: prev.end, end: eq.start, text: want });
      codeWidth.set(l, max + 1 + (lastCode(l).end - eq.start));
    }
  }
  for (const chain of chains((l) => l.comment !== undefined)) {
    const width = (l: Line) => codeWidth.get(l) ?? lastCode(l).end - lineStartOf(l);
    const max = Math.max(...chain.map(width));
    for (const l of chain) {
      const want = ' '.repeat(max - width(l) + 1);
      const end = lastCode(l).end;
      if (src.slice(end, l.comment!.start) !== want) edits.push({ start: end, end: l.comment!.start, text: want });
    }
  }
  return edits;
}

function lastCode(l: Line): Token {
  const code = l.tokens.filter((t) => t !== l.comment);
  return code[code.length - 1];
}

function blockKey(b: HclBlock): string {
  return JSON.stringify([b.type, ...b.labels]);
}

/**
 * Aligns the top-level blocks of `after` that differ from their namesake in `before` (or are new).
 * Falls back to `after` untouched if it cannot be parsed, which a template's own checks catch.
 */
export function alignChangedBlocks(before: string, after: string): string {
  let oldBlocks: Map<string, string>;
  let tokens: Token[];
  let changed: HclBlock[];
  try {
    const old = parseHcl(before);
    oldBlocks = new Map(old.body.items.filter((i): i is HclBlock => i.kind === 'block').map((b) => [blockKey(b), before.slice(b.start, b.end)]));
    const next = parseHcl(after);
    changed = next.body.items.filter((i): i is HclBlock => i.kind === 'block' && oldBlocks.get(blockKey(i)) !== after.slice(i.start, i.end));
    tokens = tokenize(after);
  } catch {
    return after;
  }
  const edits = changed.flatMap((b) => alignLines(after, linesOf(tokens.filter((t) => t.start >= b.start && t.end <= b.end))));
  return applyEdits(after, edits);
}
