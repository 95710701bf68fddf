import type { Tuple } from './hcl/values';
import { eol, indentAt, lineEnd, lineStart, TextEdit } from './text-edits';

/**
 * Removes elements from a tuple literal. A multi-line list loses exactly the lines of the
 * removed elements (comments on other lines survive); a one-line list is rewritten from its
 * remaining elements' own source text.
 */
export function removeTupleElements(src: string, tuple: Tuple, remove: Set<number>): TextEdit[] {
  if (remove.size === 0) return [];
  const multiLine = src.slice(tuple.open, tuple.close).includes('\n');
  if (multiLine) {
    const lines = tuple.elements.map((el, i) => (remove.has(i) ? ownLines(src, el.start, el.commaEnd ?? el.end) : undefined));
    if (lines.every((l, i) => !remove.has(i) || l)) return lines.filter((l): l is TextEdit => !!l);
  }
  const kept = tuple.elements.filter((_, i) => !remove.has(i)).map((el) => src.slice(el.start, el.end));
  if (!multiLine) return [{ start: tuple.open + 1, end: tuple.close, text: kept.join(', ') }];
  const nl = eol(src);
  const indent = indentAt(src, tuple.elements[0].start);
  const text = kept.length === 0 ? '' : nl + kept.map((k) => `${indent}${k},`).join(nl) + nl + indentAt(src, tuple.open);
  return [{ start: tuple.open + 1, end: tuple.close, text }];
}

/** The full-line range of [start, end) when nothing but whitespace and a comment shares its lines. */
function ownLines(src: string, start: number, end: number): TextEdit | undefined {
  const ls = lineStart(src, start);
  const le = lineEnd(src, end);
  if (!/^[ \t]*$/.test(src.slice(ls, start))) return undefined;
  if (!/^[ \t]*((#|\/\/).*)?\r?$/.test(src.slice(end, le))) return undefined;
  return { start: ls, end: Math.min(le + 1, src.length), text: '' };
}
