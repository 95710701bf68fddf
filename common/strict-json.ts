/**
 * JSON from an untrusted body (HTTP API, ingest formats), parsed so that what passes can be held
 * in a workflow's input and history without surprises:
 * - the bytes must be valid UTF-8 (a lenient decode would put U+FFFD where the sender wrote
 *   something else, and the history would record a text nobody sent);
 * - nesting is capped (a 10,000-deep object parses, but then overflows the stack of whoever walks
 *   it next: the payload converter, protobuf, a report);
 * - `__proto__` and `constructor.prototype` keys are refused anywhere: harmless to JSON.parse
 *   itself, but the classic prototype-pollution carrier for any code that later merges the value.
 */

/** Deeper than any tool's real payload (ASFF and OCSF reach about 8). */
export const MAX_JSON_DEPTH = 64;

export class JsonInputError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(bytes: Buffer | Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new JsonInputError('body is not valid UTF-8');
  }
}

/** Scans the text once (strings skipped) so an over-deep document is refused before JSON.parse builds it. */
function checkDepth(text: string, max: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) throw new JsonInputError(`JSON nested deeper than ${max} levels`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new JsonInputError('JSON key "__proto__" is not allowed');
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, 'prototype')) {
    throw new JsonInputError('JSON key "constructor.prototype" is not allowed');
  }
  return value;
}

/** JSON.parse with the checks above; SyntaxError for text that is not JSON, JsonInputError for the rest. */
export function parseStrictJson(input: string | Buffer | Uint8Array): unknown {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  checkDepth(text, MAX_JSON_DEPTH);
  return JSON.parse(text, refuseProtoKeys);
}
