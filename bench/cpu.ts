/**
 * CPU time from /proc, to say where a batch's CPU went: the Temporal server's process, and this
 * process's threads grouped by name (Node's main thread, the SDK's workflow thread, the core
 * SDK's Rust runtime, V8's and libuv's helpers).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function statCpu(file: string): { name: string; seconds: number } | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { name, seconds: (Number(fields[11]) + Number(fields[12])) / TICKS };
  } catch {
    return undefined;
  }
}

/** utime + stime of a whole process (every thread), in seconds; 0 when it is gone. */
export function processCpuSeconds(pid: number): number {
  return statCpu(`/proc/${pid}/stat`)?.seconds ?? 0;
}

/** CPU seconds the whole machine spent busy (every core: all of /proc/stat's cpu line but idle and iowait). */
export function machineBusySeconds(): number {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + (steal || 0)) / TICKS;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of this process's threads, by thread name (the main thread is "main"); "exited
 * threads" is what threads that no longer run used (the whole process's time less the live
 * threads': e.g. the watchdog thread Node starts for each vm call with a timeout).
 */
export function threadCpuSeconds(): Record<string, number> {
  const out: Record<string, number> = {};
  let live = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    const s = statCpu(`/proc/self/task/${tid}/stat`);
    if (!s) continue;
    const name = Number(tid) === process.pid ? 'main' : s.name;
    out[name] = (out[name] ?? 0) + s.seconds;
    live += s.seconds;
  }
  out['exited threads'] = Math.max(0, processCpuSeconds(process.pid) - live);
  return out;
}

/** What a batch used: milliseconds of CPU per item, the server's and this process's threads'. */
export interface CpuUse {
  serverMs: number;
  threadsMs: Record<string, number>;
}

export function cpuMeter(serverPid: number | undefined): () => (items: number) => CpuUse {
  return () => {
    const s0 = serverPid ? processCpuSeconds(serverPid) : 0;
    const t0 = threadCpuSeconds();
    return (items) => {
      const s1 = serverPid ? processCpuSeconds(serverPid) : 0;
      const t1 = threadCpuSeconds();
      const threadsMs: Record<string, number> = {};
      for (const [k, v] of Object.entries(t1)) {
        const d = ((v - (t0[k] ?? 0)) * 1000) / items;
        if (d > 0) threadsMs[k] = d;
      }
      return { serverMs: ((s1 - s0) * 1000) / items, threadsMs };
    };
  };
}
