/**
 * Step conditions (`when:` in a playbook). Written as a short expression so a playbook
 * reads like a runbook: `riskScore >= 90 and asset.environment == production`.
 * Parsed once at policy load into a tree, evaluated by the planner against facts; no
 * eval, so a policy file cannot run code.
 *
 * Grammar: clause (("and" | "or") clause)*, "and" binding tighter than "or";
 * clause: [not] <field> <op> <value> | [not] <field>
 * op: == != > >= < <= in contains ; value: number, true, false, 'text', "text", bare-word, [a, b]
 */

export type Scalar = string | number | boolean;
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { field: string; op: Op; value?: Scalar | Scalar[] };
export type Op = '==' | '!=' | '>' | '>=' | '<' | '<=' | 'in' | 'contains' | 'truthy';

const OPS: Op[] = ['==', '!=', '>=', '<=', '>', '<', 'in', 'contains'];

export function parseCondition(text: string): Condition {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];

  const parseValue = (): Scalar | Scalar[] => {
    const t = next();
    if (t === undefined) throw new Error(`"${text}": a value is missing at the end`);
    if (t === '[') {
      const list: Scalar[] = [];
      while (peek() !== ']') {
        if (peek() === undefined) throw new Error(`"${text}": unclosed [`);
        list.push(scalar(next()!));
        if (peek() === ',') next();
      }
      next();
      return list;
    }
    return scalar(t);
  };
  const parseClause = (): Condition => {
    if (peek() === 'not') {
      next();
      return { not: parseClause() };
    }
    if (peek() === '(') {
      next();
      const inner = parseOr();
      if (next() !== ')') throw new Error(`"${text}": unclosed (`);
      return inner;
    }
    const field = next();
    if (!field || !/^[A-Za-z_][\w.]*$/.test(field)) throw new Error(`"${text}": expected a field name, got ${field ?? 'the end'}`);
    const op = peek();
    if (op && (OPS as string[]).includes(op)) {
      next();
      return { field, op: op as Op, value: parseValue() };
    }
    return { field, op: 'truthy' };
  };
  const parseAnd = (): Condition => {
    const parts = [parseClause()];
    while (peek() === 'and') {
      next();
      parts.push(parseClause());
    }
    return parts.length === 1 ? parts[0] : { all: parts };
  };
  const parseOr = (): Condition => {
    const parts = [parseAnd()];
    while (peek() === 'or') {
      next();
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0] : { any: parts };
  };
  const cond = parseOr();
  if (pos !== tokens.length) throw new Error(`"${text}": unexpected "${tokens[pos]}"`);
  return cond;
}

function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /\s*(>=|<=|==|!=|>|<|\[|\]|\(|\)|,|'[^']*'|"[^"]*"|[^\s,()[\]<>=!]+)/y;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(text)) !== null) {
    out.push(m[1]);
    last = re.lastIndex;
    if (last >= text.length) break;
  }
  if (text.slice(last).trim() !== '') throw new Error(`"${text}": cannot read "${text.slice(last).trim()}"`);
  return out;
}

function scalar(t: string): Scalar {
  if (/^'.*'$|^".*"$/.test(t)) return t.slice(1, -1);
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

/** Reads `a.b.c` from facts; used by conditions and by `{{...}}` parameter templates. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function evaluate(cond: Condition, facts: unknown, seen?: Record<string, unknown>): boolean {
  if ('all' in cond) return cond.all.every((c) => evaluate(c, facts, seen));
  if ('any' in cond) return cond.any.some((c) => evaluate(c, facts, seen));
  if ('not' in cond) return !evaluate(cond.not, facts, seen);
  const actual = getPath(facts, cond.field);
  if (seen) seen[cond.field] = actual ?? null;
  const v = cond.value;
  switch (cond.op) {
    case 'truthy':
      return Boolean(actual);
    case '==':
      return actual === v || (typeof actual === 'string' && typeof v === 'string' && actual.toLowerCase() === v.toLowerCase());
    case '!=':
      return !(actual === v || (typeof actual === 'string' && typeof v === 'string' && actual.toLowerCase() === v.toLowerCase()));
    case '>':
      return typeof actual === 'number' && typeof v === 'number' && actual > v;
    case '>=':
      return typeof actual === 'number' && typeof v === 'number' && actual >= v;
    case '<':
      return typeof actual === 'number' && typeof v === 'number' && actual < v;
    case '<=':
      return typeof actual === 'number' && typeof v === 'number' && actual <= v;
    case 'in':
      return Array.isArray(v) && v.some((x) => x === actual || (typeof x === 'string' && typeof actual === 'string' && x.toLowerCase() === actual.toLowerCase()));
    case 'contains':
      return Array.isArray(actual) ? actual.includes(v as Scalar) : typeof actual === 'string' && typeof v === 'string' && actual.includes(v);
  }
}
