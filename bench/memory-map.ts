/**
 * Where a process's resident memory lies, from /proc/<pid>/smaps. What the V8 heaps do not
 * account for is split into the mapped files (the node binary, the SDK's Rust core, ICU data),
 * glibc's allocator (its main heap, grown with brk, and its per-thread arenas, each a 64 MiB
 * reservation aligned to 64 MiB: Node's and the Rust core's mallocs land there), the main
 * thread's stack, and the rest of the anonymous memory (V8's heap pages and code space, and
 * allocations large enough that glibc maps them on their own). Linux only: elsewhere there is
 * no map to read.
 */
import { readFileSync } from 'node:fs';

export interface MemoryMap {
  /** Resident bytes of file-backed mappings (code and read-only data). */
  filesBytes: number;
  /** glibc's main arena (the brk heap, "[heap]"). */
  brkHeapBytes: number;
  /** glibc's thread arenas: resident bytes, and how many there are. */
  arenaBytes: number;
  arenas: number;
  /** The main thread's stack ("[stack]"; other threads' stacks are anonymous mappings like the rest). */
  stackBytes: number;
  /** Every other anonymous mapping: V8's heaps and code, large mallocs, the Rust core's own mappings. */
  otherAnonBytes: number;
  rssBytes: number;
}

/** glibc's HEAP_MAX_SIZE on 64-bit: every thread arena is a reservation of this size, aligned to it. */
const ARENA = 64 * 1024 * 1024;

interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rss: number;
}

export function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: parseInt(head[1], 16), end: parseInt(head[2], 16), perms: head[3], path: head[4].trim(), rss: 0 };
      out.push(cur);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && cur) cur.rss = Number(rss[1]) * 1024;
  }
  return out;
}

/**
 * A thread arena: an anonymous read-write mapping that starts on a 64 MiB boundary and, with the
 * inaccessible rest of its reservation right after it, spans exactly 64 MiB.
 */
function arenaStarts(maps: Mapping[]): Set<number> {
  const starts = new Set<number>();
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    if (m.path || m.start % ARENA !== 0 || !m.perms.startsWith('rw')) continue;
    const rest = maps[i + 1];
    const end = rest && !rest.path && rest.perms === '---p' && rest.start === m.end ? rest.end : m.end;
    if (end - m.start === ARENA) starts.add(m.start);
  }
  return starts;
}

export function summarizeSmaps(maps: Mapping[]): MemoryMap {
  const arenas = arenaStarts(maps);
  const r: MemoryMap = { filesBytes: 0, brkHeapBytes: 0, arenaBytes: 0, arenas: arenas.size, stackBytes: 0, otherAnonBytes: 0, rssBytes: 0 };
  for (const m of maps) {
    r.rssBytes += m.rss;
    if (m.path === '[heap]') r.brkHeapBytes += m.rss;
    else if (m.path === '[stack]') r.stackBytes += m.rss;
    else if (m.path.startsWith('/')) r.filesBytes += m.rss;
    else if (arenas.has(m.start)) r.arenaBytes += m.rss;
    else r.otherAnonBytes += m.rss;
  }
  return r;
}

/** This process's (or `pid`'s) memory map, or undefined where /proc/<pid>/smaps cannot be read. */
export function memoryMap(pid: number | 'self' = 'self'): MemoryMap | undefined {
  try {
    return summarizeSmaps(parseSmaps(readFileSync(`/proc/${pid}/smaps`, 'utf8')));
  } catch {
    return undefined;
  }
}
