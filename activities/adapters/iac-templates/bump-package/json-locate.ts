/**
 * Finds where JSON object members sit in the text, so one string value can be replaced in place
 * and everything else (indentation, key order, escapes, line endings) stays byte-identical:
 * better than parse + stringify, which reflows arrays and rewrites escapes. Only called on text
 * that JSON.parse has already accepted, so it can assume well-formed input.
 */

export interface JsonNode {
  start: number;
  end: number;
  kind: 'object' | 'array' | 'string' | 'other';
  members?: { key: string; value: JsonNode }[];
}

export function locateJson(text: string): JsonNode {
  let i = 0;
  const ws = () => {
    while (i < text.length && /[ \t\r\n\uFEFF]/.test(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): JsonNode => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      const members: { key: string; value: JsonNode }[] = [];
      ws();
      while (text[i] !== '}') {
        ws();
        const key = str();
        ws();
        i++; // ':'
        members.push({ key, value: value() });
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
      return { start, end: i, kind: 'object', members };
    }
    if (c === '[') {
      i++;
      ws();
      while (text[i] !== ']') {
        value();
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
      return { start, end: i, kind: 'array' };
    }
    if (c === '"') {
      str();
      return { start, end: i, kind: 'string' };
    }
    while (i < text.length && !/[\s,\]}]/.test(text[i])) i++;
    return { start, end: i, kind: 'other' };
  };
  return value();
}

export function member(node: JsonNode | undefined, key: string): JsonNode | undefined {
  // JSON.parse keeps the last duplicate key; so does this, to agree with every consumer.
  return node?.members?.filter((m) => m.key === key).pop()?.value;
}
