/**
 * Readies objects for Object.freeze: builds every value they would build lazily on first read.
 *
 * zod 4 keeps a schema's methods and derived internals as accessors on its prototype that define
 * an own property on the schema the first time they are read. A frozen schema cannot take that
 * own property, so its first `safeParse` throws. The worker deep-freezes the modules it shares
 * between workflow runs (workflows/preload.ts), so those modules' schemas are walked first: the
 * same own-property graph the freeze walks, reading each accessor the prototypes define, and
 * each schema parses twice (a schema also rewrites its own parse function on its first parse:
 * zod's memoizer removes itself from a schema that cannot recurse). And zod resets a pattern's
 * `lastIndex` before each test, which a frozen RegExp refuses: every RegExp the walk finds is
 * replaced by a view of it that refuses to be frozen (the freeze skips what it cannot freeze).
 */

/**
 * A RegExp that Object.freeze leaves alone: its own state (lastIndex) stays writable. A copy, so
 * that the freeze of another holder of the original (a module's exported constant) cannot reach it.
 */
function unfreezable(original: RegExp): RegExp {
  return new Proxy(new RegExp(original), {
    preventExtensions: () => false,
    get: (target, key) => {
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
    set: (target, key, value) => Reflect.set(target, key, value, target),
  });
}
const shielded = new WeakSet<object>();

/**
 * The names of a prototype's accessors. Thousands of schemas share about 60 prototypes with up to
 * 90 accessors each: listing and describing them once per prototype rather than once per object
 * takes the walk over the preloaded modules (4,096 objects) from 106–113 to 85–87 ms in
 * plain Node, time a worker, and every replay, spends before its first workflow.
 */
const accessors = new WeakMap<object, string[]>();
function accessorsOf(proto: object): string[] {
  let keys = accessors.get(proto);
  if (!keys) {
    keys = Object.getOwnPropertyNames(proto).filter((key) => Object.getOwnPropertyDescriptor(proto, key)?.get !== undefined);
    accessors.set(proto, keys);
  }
  return keys;
}

/** Walks everything reachable from the roots by own properties; answers how many objects it readied. */
export function materialize(...roots: unknown[]): number {
  const seen = new WeakSet<object>();
  const stack: unknown[] = [...roots];
  let objects = 0;
  while (stack.length) {
    const o = stack.pop();
    if (o === null || typeof o !== 'object' || seen.has(o)) continue;
    seen.add(o);
    objects++;
    const obj = o as Record<PropertyKey, unknown>;
    if ('_zod' in obj && typeof obj.safeParse === 'function') {
      try {
        // Twice: a schema with a lazily resolved shape settles on its second parse.
        (obj.safeParse as (v: unknown) => unknown)(undefined);
        (obj.safeParse as (v: unknown) => unknown)(undefined);
      } catch {
        // A refinement that throws on nothing: the parse function has been rewritten all the same.
      }
    }
    for (let proto = Object.getPrototypeOf(o); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const key of accessorsOf(proto as object)) {
        try {
          void obj[key];
        } catch {
          // An accessor that does not apply to this object (a built-in's on a subclass): nothing to build.
        }
      }
    }
    for (const key of [...Object.getOwnPropertyNames(o), ...Object.getOwnPropertySymbols(o)]) {
      let v: unknown;
      try {
        v = obj[key];
      } catch {
        continue;
      }
      if (v instanceof RegExp && !shielded.has(v)) {
        const d = Object.getOwnPropertyDescriptor(o, key);
        if (d && 'value' in d && (d.writable || d.configurable)) {
          const p = unfreezable(v);
          shielded.add(p);
          Object.defineProperty(o, key, { ...d, value: p });
        }
        continue;
      }
      if (v !== null && typeof v === 'object') stack.push(v);
    }
  }
  return objects;
}
