import { memoryMap, parseSmaps, summarizeSmaps } from '../../../bench/memory-map';

/** One mapping of /proc/<pid>/smaps: its header line and the Rss line (the rest is left out). */
const mapping = (start: number, end: number, perms: string, path: string, rssKb: number) =>
  `${start.toString(16)}-${end.toString(16)} ${perms} 00000000 00:00 0          ${path}\nSize: ${(end - start) / 1024} kB\nRss:            ${rssKb} kB\nPss: ${rssKb} kB\n`;

const MiB = 1024 * 1024;
const at = (mib: number) => 0x7f0000000000 + mib * MiB;

test('tells files, the brk heap, glibc thread arenas, stacks and other anonymous memory apart', () => {
  const text = [
    mapping(0x555500000000, 0x555500400000, 'r-xp', '/usr/bin/node', 40_000),
    mapping(0x555600000000, 0x555601000000, 'rw-p', '[heap]', 9_000),
    // A thread arena: 64 MiB-aligned, its used part then the inaccessible rest of the 64 MiB.
    mapping(at(0), at(10), 'rw-p', '', 8_000),
    mapping(at(10), at(64), '---p', '', 0),
    // An arena grown to its whole reservation.
    mapping(at(64), at(128), 'rw-p', '', 30_000),
    // Aligned but not 64 MiB long (V8 pages, a large malloc): other anonymous memory.
    mapping(at(192), at(193), 'rw-p', '', 1_000),
    mapping(at(300) + 4096, at(301), 'rw-p', '', 500),
    mapping(0x7ffd00000000, 0x7ffd00021000, 'rw-p', '[stack]', 100),
  ].join('');
  const maps = parseSmaps(text);
  expect(maps).toHaveLength(8);
  expect(summarizeSmaps(maps)).toEqual({
    filesBytes: 40_000 * 1024,
    brkHeapBytes: 9_000 * 1024,
    arenaBytes: 38_000 * 1024,
    arenas: 2,
    stackBytes: 100 * 1024,
    otherAnonBytes: 1_500 * 1024,
    rssBytes: (40_000 + 9_000 + 8_000 + 30_000 + 1_000 + 500 + 100) * 1024,
  });
});

test('reads this process, whose parts add up to its RSS', () => {
  const m = memoryMap();
  if (process.platform !== 'linux') return expect(m).toBeUndefined();
  expect(m).toBeDefined();
  const { rssBytes, filesBytes, brkHeapBytes, arenaBytes, stackBytes, otherAnonBytes } = m!;
  expect(filesBytes + brkHeapBytes + arenaBytes + stackBytes + otherAnonBytes).toBe(rssBytes);
  expect(filesBytes).toBeGreaterThan(10 * MiB); // the node binary at least
  expect(otherAnonBytes).toBeGreaterThan(0); // V8's heap
  expect(memoryMap(2 ** 22 + 12345)).toBeUndefined(); // no such process
});
