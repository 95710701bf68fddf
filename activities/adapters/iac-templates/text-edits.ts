/**
 * Offset-based text edits. Every template change is expressed as replacements of exact byte
 * ranges, so whatever a template does not mean to touch stays byte-identical.
 */

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

export function applyEdits(src: string, edits: TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = src;
  let limit = Infinity;
  for (const e of sorted) {
    // Overlapping edits mean a template bug; applying them anyway would corrupt the file.
    if (e.end > limit) throw new Error(`overlapping edits at offset ${e.start}`);
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    limit = e.start;
  }
  return out;
}

export function lineStart(src: string, offset: number): number {
  return src.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset of the newline ending the line holding `offset` (or the end of the text). */
export function lineEnd(src: string, offset: number): number {
  const j = src.indexOf('\n', offset);
  return j < 0 ? src.length : j;
}

export function indentAt(src: string, offset: number): string {
  const s = lineStart(src, offset);
  return /^[ \t]*/.exec(src.slice(s))![0];
}

/** The newline style of a file, so inserted lines match it. */
export function eol(src: string): string {
  return src.includes('\r\n') ? '\r\n' : '\n';
}

const TRAILING_COMMENT = /^[ \t]*(,[ \t]*)?((#|\/\/).*|\/\*.*\*\/[ \t]*)?\r?$/;

/**
 * The range to delete to remove [start, end) cleanly: whole lines when the item sits alone on
 * its lines (a trailing comment on its last line goes with it), and one of two blank lines
 * that would otherwise end up next to each other.
 */
export function removalRange(src: string, start: number, end: number): { start: number; end: number } {
  const ls = lineStart(src, start);
  const le = lineEnd(src, end);
  const before = src.slice(ls, start);
  const after = src.slice(end, le);
  if (!/^[ \t]*$/.test(before) || !TRAILING_COMMENT.test(after)) return { start, end };
  let s = ls;
  let e = Math.min(le + 1, src.length);
  const prevLine = s === 0 ? undefined : src.slice(lineStart(src, s - 1), s);
  const nextLine = e >= src.length ? undefined : src.slice(e, lineEnd(src, e));
  const prevBlank = prevLine !== undefined && /^[ \t]*\r?\n$/.test(prevLine);
  const prevOpens = prevLine !== undefined && /\{[ \t]*\r?\n$/.test(prevLine);
  const nextBlank = nextLine !== undefined && /^[ \t]*\r?$/.test(nextLine);
  const nextCloses = nextLine === undefined || /^[ \t]*[}\]]/.test(nextLine);
  // Never leave two blank lines together, nor a blank line just inside a brace.
  if ((prevBlank || prevOpens || s === 0) && nextBlank) e = Math.min(lineEnd(src, e) + 1, src.length);
  else if (prevBlank && nextCloses) s = lineStart(src, s - 1);
  return { start: s, end: e };
}

/** The start of the comment lines directly above `start` (no blank line between), or `start`. */
export function attachedCommentsStart(src: string, start: number): number {
  let from = lineStart(src, start);
  if (!/^[ \t]*$/.test(src.slice(from, start))) return start;
  let result = start;
  while (from > 0) {
    const prev = lineStart(src, from - 1);
    if (!/^[ \t]*(#|\/\/)/.test(src.slice(prev, from))) break;
    from = prev;
    result = prev;
  }
  return result;
}

/**
 * Removals that overlap (two neighbours each taking the blank line between them, as removalRange
 * does for each alone) become one removal of both items, whose blank lines are decided once.
 * Other edits are left as they are; an overlap with one of them stays an error for applyEdits.
 */
export function mergeRemovals(src: string, edits: TextEdit[]): TextEdit[] {
  const out: TextEdit[] = [];
  for (const e of [...edits].sort((a, b) => a.start - b.start || a.end - b.end)) {
    let cur = e;
    for (let prev = out.at(-1); prev && prev.text === '' && cur.text === '' && cur.start < prev.end; prev = out.at(-1)) {
      out.pop();
      const start = Math.min(prev.start, cur.start);
      const end = Math.max(prev.end, cur.end);
      // The items themselves: the union without the blank space each removal took around them.
      const itemStart = start + (/^\s*/.exec(src.slice(start, end))?.[0].length ?? 0);
      const itemEnd = start + src.slice(start, end).trimEnd().length;
      const whole = removalRange(src, itemStart, itemEnd);
      const byLines = whole.start !== itemStart || whole.end !== itemEnd;
      cur = byLines ? { ...whole, text: '' } : { start, end, text: '' };
    }
    out.push(cur);
  }
  return out;
}
