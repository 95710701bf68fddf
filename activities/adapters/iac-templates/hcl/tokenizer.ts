/**
 * Tokenizer for HCL native syntax (Terraform .tf files). It exists so the templates can find
 * blocks and attributes by byte offset and edit them surgically: it only has to be exact
 * about what can hide structure (strings with `${...}` holding nested strings and braces,
 * heredocs, the three comment forms), not about expression semantics.
 */

export type TokenKind = 'ident' | 'number' | 'string' | 'heredoc' | 'comment' | 'newline' | 'punct';

export interface Token {
  kind: TokenKind;
  /** Offset of the first character. */
  start: number;
  /** Offset just past the last character (a line comment stops before its newline). */
  end: number;
  text: string;
  /** Strings and heredocs: true when they contain `${` or `%{` (so they are not literals). */
  template?: boolean;
}

export class HclSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly line: number,
  ) {
    super(`${message} at line ${line}`);
    this.name = 'HclSyntaxError';
  }
}

export function lineOf(src: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < src.length; i++) if (src.charCodeAt(i) === 10) line++;
  return line;
}

const MULTI_PUNCT = ['...', '==', '!=', '<=', '>=', '&&', '||', '=>'];
const SINGLE_PUNCT = '{}[]()=,.:?!+-*/%<>&|;';

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const fail = (msg: string, at: number): never => {
    throw new HclSyntaxError(msg, at, lineOf(src, at));
  };
  const push = (kind: TokenKind, start: number, end: number, template?: boolean) =>
    tokens.push({ kind, start, end, text: src.slice(start, end), ...(template ? { template } : {}) });

  /** Scans a quoted template from its opening quote; returns the offset after the closing quote. */
  const scanQuoted = (from: number, flags: { template: boolean }): number => {
    let i = from + 1;
    while (i < src.length) {
      const c = src[i];
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === '"') return i + 1;
      if (c === '\n') fail('unterminated string', from);
      if ((c === '$' || c === '%') && src[i + 1] === c && src[i + 2] === '{') {
        // `$${` and `%%{` are escapes for a literal `${` / `%{`.
        i += 3;
        continue;
      }
      if ((c === '$' || c === '%') && src[i + 1] === '{') {
        flags.template = true;
        i = scanInterpolation(i + 2);
        continue;
      }
      i++;
    }
    return fail('unterminated string', from);
  };

  /** Scans the inside of `${ ... }` from just after the brace; returns the offset after its `}`. */
  const scanInterpolation = (from: number): number => {
    let depth = 1;
    let i = from;
    while (i < src.length) {
      const c = src[i];
      if (c === '"') {
        i = scanQuoted(i, { template: false });
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) return i + 1;
      i++;
    }
    return fail('unterminated template interpolation', from);
  };

  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\uFEFF') {
      i++;
      continue;
    }
    if (c === '\n') {
      push('newline', i, i + 1);
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      let j = src.indexOf('\n', i);
      if (j < 0) j = src.length;
      // Keep a CR of a CRLF file out of the comment text.
      push('comment', i, src[j - 1] === '\r' ? j - 1 : j);
      i = j;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const j = src.indexOf('*/', i + 2);
      if (j < 0) fail('unterminated comment', i);
      push('comment', i, j + 2);
      i = j + 2;
      continue;
    }
    if (c === '"') {
      const flags = { template: false };
      const j = scanQuoted(i, flags);
      push('string', i, j, flags.template);
      i = j;
      continue;
    }
    if (c === '<' && src[i + 1] === '<') {
      const m = /^<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n/.exec(src.slice(i, i + 200));
      if (m) {
        const marker = m[2];
        let lineStart = i + m[0].length;
        let template = false;
        for (;;) {
          if (lineStart >= src.length) fail(`unterminated heredoc <<${marker}`, i);
          let lineEnd = src.indexOf('\n', lineStart);
          if (lineEnd < 0) lineEnd = src.length;
          const line = src.slice(lineStart, lineEnd).replace(/\r$/, '');
          if (line.trim() === marker) {
            push('heredoc', i, lineStart + line.length, template);
            i = lineStart + line.length;
            break;
          }
          if (/(^|[^$])\$\{|(^|[^%])%\{/.test(line)) template = true;
          lineStart = lineEnd + 1;
        }
        continue;
      }
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i, i + 64))!;
      push('number', i, i + m[0].length);
      i += m[0].length;
      continue;
    }
    if (/[\p{L}_]/u.test(c)) {
      let j = i + 1;
      while (j < src.length && /[\p{L}\p{N}_-]/u.test(src[j])) j++;
      push('ident', i, j);
      i = j;
      continue;
    }
    const multi = MULTI_PUNCT.find((p) => src.startsWith(p, i));
    if (multi) {
      push('punct', i, i + multi.length);
      i += multi.length;
      continue;
    }
    if (SINGLE_PUNCT.includes(c)) {
      push('punct', i, i + 1);
      i++;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(c)}`, i);
  }
  return tokens;
}
