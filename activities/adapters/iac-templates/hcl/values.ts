import type { HclAttribute } from './parser';
import { unquote } from './parser';
import type { Token } from './tokenizer';

/** Reading literal values out of expressions; anything computed answers undefined. */

function meaningful(tokens: Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'comment' && t.kind !== 'newline');
}

export function stringValue(attr: HclAttribute | undefined): string | undefined {
  const t = attr && meaningful(attr.expr);
  if (!t || t.length !== 1 || t[0].kind !== 'string' || t[0].template) return undefined;
  return unquote(t[0].text);
}

export function boolValue(attr: HclAttribute | undefined): boolean | undefined {
  const t = attr && meaningful(attr.expr);
  if (!t || t.length !== 1 || t[0].kind !== 'ident') return undefined;
  return t[0].text === 'true' ? true : t[0].text === 'false' ? false : undefined;
}

export function numberValue(attr: HclAttribute | undefined): number | undefined {
  const t = attr && meaningful(attr.expr);
  if (!t) return undefined;
  // A negative literal (protocol -1 spelled as a number) is two tokens.
  if (t.length === 2 && t[0].text === '-' && t[1].kind === 'number') return -Number(t[1].text);
  if (t.length === 1 && t[0].kind === 'number') return Number(t[0].text);
  if (t.length === 1 && t[0].kind === 'string' && !t[0].template && /^-?\d+$/.test(unquote(t[0].text))) return Number(unquote(t[0].text));
  return undefined;
}

/** The expression's source with whitespace and comments squeezed out, for matching references. */
export function compactText(attr: HclAttribute | undefined): string | undefined {
  return attr ? meaningful(attr.expr).map((t) => t.text).join('') : undefined;
}

export interface TupleElement {
  start: number;
  end: number;
  tokens: Token[];
  /** Offset just past the comma that follows the element, when there is one. */
  commaEnd?: number;
  /** The literal string value, when the element is one. */
  value?: string;
}

export interface Tuple {
  open: number;
  close: number;
  elements: TupleElement[];
}

/** The elements of a `[ ... ]` tuple expression, or undefined when the expression is something else. */
export function tupleValue(attr: HclAttribute | undefined): Tuple | undefined {
  if (!attr) return undefined;
  const t = attr.expr;
  const m = meaningful(t);
  if (m.length < 2 || m[0].text !== '[' || m[m.length - 1].text !== ']') return undefined;
  const openIdx = t.indexOf(m[0]);
  const closeIdx = t.lastIndexOf(m[m.length - 1]);
  const elements: TupleElement[] = [];
  let depth = 0;
  let current: Token[] = [];
  const flush = (comma?: Token) => {
    const mm = meaningful(current);
    if (mm.length > 0) {
      const single = mm.length === 1 && mm[0].kind === 'string' && !mm[0].template;
      elements.push({
        start: mm[0].start,
        end: mm[mm.length - 1].end,
        tokens: mm,
        ...(comma ? { commaEnd: comma.end } : {}),
        ...(single ? { value: unquote(mm[0].text) } : {}),
      });
    }
    current = [];
  };
  for (let k = openIdx + 1; k < closeIdx; k++) {
    const tok = t[k];
    if (tok.kind === 'punct' && '([{'.includes(tok.text)) depth++;
    if (tok.kind === 'punct' && ')]}'.includes(tok.text) && --depth < 0) return undefined;
    if (depth === 0 && tok.kind === 'punct' && tok.text === ',') flush(tok);
    else current.push(tok);
  }
  flush();
  return { open: t[openIdx].start, close: t[closeIdx].start, elements };
}
