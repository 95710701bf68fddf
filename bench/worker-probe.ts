/**
 * The worker process of the memory benchmark (d): exactly `node dist/workers/main.js`, plus a
 * probe on its IPC channel. Asked "drw-bench-memory", it runs full garbage collections (the
 * process is started with --expose-gc) and answers process.memoryUsage() before and after, and
 * the V8 heap of the SDK's workflow thread (where the workflows live; process.memoryUsage()
 * only sees the main thread's heap), so that memory really retained can be told from garbage
 * and the workflows' heap from native memory; and where the resident memory lies after that GC
 * (bench/memory-map.ts: files, glibc's heaps and arenas, other anonymous memory). (Not a signal: the Temporal runtime shuts its
 * workers down on SIGUSR2, and SIGUSR1 starts the inspector.)
 *
 * The workflow thread reports through a file: the probe wraps the SDK's worker_threads.Worker
 * for its workflow-worker-thread so that the thread also writes its heap statistics, after a
 * GC, to `<DRW_BENCH_THREAD_STATS>.<threadId>` whenever `<DRW_BENCH_THREAD_STATS>.request` exists.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import wt from 'node:worker_threads';
import '../workers/main';
import { memoryMap } from './memory-map';

const forceGc = (globalThis as { gc?: () => void }).gc;
const statsBase = process.env.DRW_BENCH_THREAD_STATS;

if (statsBase) {
  const Original = wt.Worker;
  class ProbedWorker extends Original {
    constructor(filename: string | URL, options?: wt.WorkerOptions) {
      if (typeof filename === 'string' && /workflow-worker-thread/.test(filename) && !options?.eval) {
        const code = `
          require(${JSON.stringify(filename)});
          const fs = require('node:fs'), v8 = require('node:v8'), { threadId } = require('node:worker_threads');
          const base = ${JSON.stringify(statsBase)};
          let last = 0;
          setInterval(() => {
            let asked = 0;
            try { asked = fs.statSync(base + '.request').mtimeMs; } catch { return; }
            if (asked <= last) return;
            last = asked;
            if (globalThis.gc) { globalThis.gc(); globalThis.gc(); }
            const h = v8.getHeapStatistics();
            fs.writeFileSync(base + '.' + threadId, JSON.stringify({ asked, used: h.used_heap_size, total: h.total_heap_size, external: h.external_memory, malloced: h.malloced_memory }));
          }, 200).unref();`;
        super(code, { ...options, eval: true });
      } else {
        super(filename, options);
      }
    }
  }
  (wt as { Worker: typeof wt.Worker }).Worker = ProbedWorker;
}

async function threadHeaps(): Promise<{ used: number; total: number; external: number; malloced: number }[]> {
  if (!statsBase) return [];
  const request = `${statsBase}.request`;
  writeFileSync(request, String(Date.now()));
  const asked = statSync(request).mtimeMs;
  const dir = path.dirname(statsBase);
  const prefix = `${path.basename(statsBase)}.`;
  const end = Date.now() + 10_000;
  for (;;) {
    const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && /^\d+$/.test(f.slice(prefix.length)));
    const stats = files.map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { asked: number; used: number; total: number; external: number; malloced: number });
    if ((stats.length > 0 && stats.every((x) => x.asked >= asked)) || Date.now() > end) {
      if (existsSync(request)) rmSync(request, { force: true });
      return stats.filter((x) => x.asked >= asked);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

process.on('message', (m) => {
  if (m !== 'drw-bench-memory' || !process.send) return;
  const before = process.memoryUsage();
  if (forceGc) {
    forceGc();
    forceGc();
  }
  const after = process.memoryUsage();
  void threadHeaps()
    .catch(() => [])
    .then((threads) => process.send!({ gc: Boolean(forceGc), before, after, threads, map: memoryMap() }));
});
// The channel must not keep the worker alive on its own.
process.channel?.unref();
