/** Payloads as tests read them (no harness import: a test file that installs its own SDK logger can use it). */
import { CompressionCodec } from '../../audit/compression';

/**
 * A copy of any value from the SDK (a history, a describe() answer) with every payload drw's
 * workers compressed decompressed in place, so tests read and search what was written.
 */
export async function decompressed<T>(value: T): Promise<T> {
  const codec = new CompressionCodec();
  const walk = async (v: unknown): Promise<unknown> => {
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (!v || typeof v !== 'object' || v instanceof Uint8Array) return v;
    const o = v as { metadata?: Record<string, Uint8Array | null>; data?: Uint8Array | null };
    if (o.metadata?.encoding instanceof Uint8Array && (o.data === undefined || o.data === null || o.data instanceof Uint8Array)) return (await codec.decode([o as never]))[0];
    return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await walk(x)] as const)));
  };
  return (await walk(value)) as T;
}
