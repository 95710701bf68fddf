import { MAX_JSON_DEPTH, JsonInputError, parseStrictJson } from '../../../common/strict-json';
import { parseBody } from '../../../ingest';
import { IngestError } from '../../../ingest/errors';

const nest = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

describe('parseStrictJson', () => {
  test('parses ordinary JSON, including brackets and escaped quotes inside strings', () => {
    expect(parseStrictJson(Buffer.from('{"a":"[[[{\\"}","b":[1,{"c":null}]}'))).toEqual({ a: '[[[{"}', b: [1, { c: null }] });
    expect(parseStrictJson(nest(MAX_JSON_DEPTH))).toBeDefined();
  });

  test('refuses nesting over the cap before building it', () => {
    expect(() => parseStrictJson(nest(MAX_JSON_DEPTH + 1))).toThrow(new JsonInputError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`));
    expect(() => parseStrictJson(nest(200_000))).toThrow(JsonInputError);
  });

  test('refuses invalid UTF-8 instead of replacing it', () => {
    for (const bad of [[0xff], [0xc0, 0xaf], [0xe2, 0x82]]) {
      const body = Buffer.concat([Buffer.from('{"t":"a'), Buffer.from(bad), Buffer.from('b"}')]);
      expect(() => parseStrictJson(body)).toThrow('body is not valid UTF-8');
    }
    expect(parseStrictJson(Buffer.from('{"t":"é✓😀"}'))).toEqual({ t: 'é✓😀' });
  });

  test('refuses __proto__ and constructor.prototype keys at any depth', () => {
    expect(() => parseStrictJson('{"__proto__":{"x":1}}')).toThrow('"__proto__"');
    expect(() => parseStrictJson('{"d":{"e":[{"__proto__":1}]}}')).toThrow('"__proto__"');
    expect(() => parseStrictJson('{"d":{"constructor":{"prototype":{"x":1}}}}')).toThrow('"constructor.prototype"');
    // A plain "constructor" or "prototype" key is data, not an attack.
    expect(parseStrictJson('{"constructor":"Foo","prototype":"bar"}')).toEqual({ constructor: 'Foo', prototype: 'bar' });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  test('syntax errors stay SyntaxErrors', () => {
    expect(() => parseStrictJson('{"a":')).toThrow(SyntaxError);
  });
});

describe('ingest parseBody uses the same checks', () => {
  test.each([
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
    ['__proto__', Buffer.from('{"alerts":[{"labels":{"__proto__":{"x":1}}}]}')],
    ['too deep', Buffer.from(nest(1000))],
    ['__proto__ in one NDJSON line', Buffer.from('{"a":1}\n{"__proto__":{"x":1}}\n')],
  ])('%s → IngestError 400', (_name, body) => {
    let err: unknown;
    try {
      parseBody(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IngestError);
    expect((err as IngestError).status).toBe(400);
  });

  test('NDJSON still parses line by line', () => {
    expect(parseBody(Buffer.from('{"a":1}\n{"b":2}\n'))).toEqual([{ a: 1 }, { b: 2 }]);
  });
});
