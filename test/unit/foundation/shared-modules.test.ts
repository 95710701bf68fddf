/**
 * The modules the worker shares between workflow runs (workflows/preload.ts) are deep-frozen by
 * the SDK's reusable V8 context. These check, without a server, that a frozen schema still
 * parses once readied (common/materialize.ts), and that every shared module holding zod schemas
 * is readied: one missed fails every workflow task that parses with it.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { materialize } from '../../../common/materialize';
import { detectionSchema } from '../../../domain/detection';
import { SHARED } from '../../../workflows/preload';

/** What the SDK does to a shared module (reusable-vm.js deepFreeze): own properties, recursively, errors ignored. */
function deepFreeze(o: unknown, seen = new WeakSet<object>()): void {
  if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) return;
  seen.add(o);
  if (typeof o === 'object') {
    for (const k of [...Object.getOwnPropertyNames(o), ...Object.getOwnPropertySymbols(o)]) {
      const v = (o as Record<PropertyKey, unknown>)[k];
      try {
        deepFreeze(v, seen);
      } catch {
        // as the SDK: what cannot be frozen stays as it is
      }
    }
  }
  Object.freeze(o);
}

test('a readied, frozen schema parses: lazy members, first-parse rewrites and format patterns', () => {
  const schemas = {
    email: z.string().email(),
    obj: z.object({ name: z.string().regex(/^a+$/g), tags: z.array(z.string().min(1)).optional() }),
    tree: z.object({ id: z.string(), get children(): z.ZodArray<z.ZodString> { return z.array(z.string()); } }),
  };
  const bare = { email: z.string().email() };
  materialize(schemas);
  deepFreeze(schemas);
  deepFreeze(bare);
  expect(schemas.email.safeParse('a@b.io').success).toBe(true);
  expect(schemas.email.safeParse('nope').success).toBe(false);
  // a pattern with the g flag is tested twice in a row from lastIndex 0
  expect(schemas.obj.safeParse({ name: 'aaa' }).success).toBe(true);
  expect(schemas.obj.safeParse({ name: 'aaa' }).success).toBe(true);
  expect(schemas.obj.safeParse({ name: 'b' }).success).toBe(false);
  expect(schemas.tree.parse({ id: 'x', children: ['y'] })).toEqual({ id: 'x', children: ['y'] });
  // Not readied: what the freeze alone does to a schema (why materialize exists).
  expect(() => bare.email.safeParse('a@b.io')).toThrow(TypeError);
});

test('the shared modules parse after the freeze the worker applies (a real detection)', () => {
  const sample = { source: 'falco', rule: 'Terminal shell in container', severity: 'high', riskScore: 80, asset: { id: 'web-1', kind: 'host' }, observedAt: new Date(0).toISOString(), raw: {} };
  const before = detectionSchema.safeParse(sample);
  deepFreeze(SHARED);
  const after = detectionSchema.safeParse(sample);
  expect(after.success).toBe(before.success);
  expect(after.success ? after.data : after.error.issues).toEqual(before.success ? before.data : before.error.issues);
  expect(detectionSchema.safeParse({}).success).toBe(false);
});

/** Relative imports of a source file, resolved to repository paths without extension. */
function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^(?:import|export)\s(?!type\b)[^'"]*?from\s+'(\.[^']+)'/gm)) {
    const p = path.resolve(path.dirname(file), m[1]);
    out.push(existsSync(`${p}.ts`) ? `${p}.ts` : path.join(p, 'index.ts'));
  }
  return out;
}

test('every shared module that builds zod schemas is readied by workflows/preload.ts', () => {
  const root = path.resolve(__dirname, '../../..');
  const preload = path.join(root, 'workflows/preload.ts');
  const listed = new Set(importsOf(preload));
  const seen = new Set<string>();
  const stack = [...listed];
  const missing: string[] = [];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    if (/from 'zod'/.test(readFileSync(f, 'utf8')) && !listed.has(f)) missing.push(path.relative(root, f));
    stack.push(...importsOf(f));
  }
  expect(seen.size).toBeGreaterThan(10);
  expect(missing).toEqual([]);
});
