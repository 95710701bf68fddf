import { HclSyntaxError, lineOf, Token, tokenize } from './tokenizer';

/**
 * Structural HCL parser: bodies, blocks and attributes with their byte ranges. Expressions are
 * kept as token runs (never evaluated) because the templates only need to recognise literals
 * and references and to know exactly where each piece sits in the file.
 */

export interface HclAttribute {
  kind: 'attribute';
  name: string;
  /** Offset of the attribute name. */
  start: number;
  /** Offset just past the expression (trailing comments excluded). */
  end: number;
  exprStart: number;
  exprEnd: number;
  /** The expression's tokens, comments and newlines included, in order. */
  expr: Token[];
}

export interface HclBlock {
  kind: 'block';
  type: string;
  labels: string[];
  /** Offset of the block type identifier. */
  start: number;
  /** Offset just past the closing brace. */
  end: number;
  openBrace: number;
  closeBrace: number;
  body: HclBody;
}

export type HclItem = HclAttribute | HclBlock;

export interface HclBody {
  items: HclItem[];
}

export interface HclFile {
  src: string;
  body: HclBody;
}

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

export function parseHcl(src: string): HclFile {
  const tokens = tokenize(src);
  let i = 0;
  const fail = (msg: string, at: number): never => {
    throw new HclSyntaxError(msg, at, lineOf(src, at));
  };
  const skipBlank = () => {
    while (i < tokens.length && (tokens[i].kind === 'newline' || tokens[i].kind === 'comment')) i++;
  };

  const parseExpression = (): Token[] => {
    const out: Token[] = [];
    const stack: string[] = [];
    while (i < tokens.length) {
      const t = tokens[i];
      if (stack.length === 0 && (t.kind === 'newline' || (t.kind === 'punct' && t.text === '}'))) break;
      if (t.kind === 'punct' && OPEN[t.text]) stack.push(OPEN[t.text]);
      else if (t.kind === 'punct' && (t.text === ')' || t.text === ']' || t.text === '}')) {
        if (stack.pop() !== t.text) fail(`unbalanced ${t.text}`, t.start);
      }
      out.push(t);
      i++;
    }
    if (stack.length > 0) fail(`unclosed bracket, expected ${stack[stack.length - 1]}`, out[0]?.start ?? src.length);
    return out;
  };

  const parseBody = (closing: boolean): HclBody => {
    const items: HclItem[] = [];
    for (;;) {
      skipBlank();
      if (i >= tokens.length) {
        if (closing) fail('missing } at end of file', src.length);
        return { items };
      }
      const t = tokens[i];
      if (t.kind === 'punct' && t.text === '}') {
        if (!closing) fail('unexpected }', t.start);
        return { items };
      }
      if (t.kind !== 'ident') fail(`expected an attribute or block, found ${JSON.stringify(t.text)}`, t.start);
      i++;
      const next = tokens[i];
      if (next && next.kind === 'punct' && next.text === '=') {
        i++;
        const expr = parseExpression();
        const meaningful = expr.filter((x) => x.kind !== 'comment' && x.kind !== 'newline');
        if (meaningful.length === 0) fail(`attribute ${t.text} has no value`, t.start);
        const exprStart = meaningful[0].start;
        const exprEnd = meaningful[meaningful.length - 1].end;
        items.push({ kind: 'attribute', name: t.text, start: t.start, end: exprEnd, exprStart, exprEnd, expr });
        continue;
      }
      const labels: string[] = [];
      while (i < tokens.length && (tokens[i].kind === 'string' || tokens[i].kind === 'ident')) {
        const l = tokens[i];
        if (l.kind === 'string' && l.template) fail('block labels cannot be templates', l.start);
        labels.push(l.kind === 'string' ? unquote(l.text) : l.text);
        i++;
      }
      const brace = tokens[i];
      if (!brace || brace.kind !== 'punct' || brace.text !== '{') {
        fail(`expected = or { after ${JSON.stringify(t.text)}`, brace?.start ?? src.length);
      }
      i++;
      const body = parseBody(true);
      const close = tokens[i];
      i++;
      items.push({ kind: 'block', type: t.text, labels, start: t.start, end: close.end, openBrace: brace.start, closeBrace: close.start, body });
    }
  };

  return { src, body: parseBody(false) };
}

/** Decodes a quoted string literal (no templates) into its value. */
export function unquote(text: string): string {
  const inner = text.slice(1, -1);
  return inner.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|\$\$\{|%%\{/g, (m, esc: string | undefined) => {
    if (m === '$${') return '${';
    if (m === '%%{') return '%{';
    switch (esc![0]) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'u':
      case 'U':
        return String.fromCodePoint(parseInt(esc!.slice(1), 16));
      default:
        return esc!;
    }
  });
}

export function attributes(body: HclBody, name?: string): HclAttribute[] {
  return body.items.filter((x): x is HclAttribute => x.kind === 'attribute' && (name === undefined || x.name === name));
}

export function attribute(body: HclBody, name: string): HclAttribute | undefined {
  return attributes(body, name)[0];
}

export function blocks(body: HclBody, type?: string): HclBlock[] {
  return body.items.filter((x): x is HclBlock => x.kind === 'block' && (type === undefined || x.type === type));
}

/** Top-level `resource "<type>" "<name>"` blocks of a file. */
export function resources(file: HclFile, type: string): HclBlock[] {
  return blocks(file.body, 'resource').filter((b) => b.labels[0] === type && b.labels.length === 2);
}
