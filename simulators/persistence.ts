/**
 * Keeps a simulator's state in the data folder (`<dataDir>/simulators/<name>.json`), so that the
 * embedded default's vendors remember their tickets, pull requests and containments across
 * restarts of `npm start`, as the Temporal dev server remembers the workflows that refer to them.
 *
 * A request that may change the state is saved before its answer leaves (an acknowledged ticket
 * is on disk before drw hears of it); reads, which some simulators count to move pending actions
 * on, are saved shortly after. Writes go to a temporary file renamed over the old one, so a killed
 * process leaves either the previous state or the new one (no fsync: a power cut is not a demo's
 * concern, and each write stays cheap). A file that is not a valid snapshot is moved
 * aside with a warning and the simulator starts empty: a bad file never stops `npm start`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { SimulatorServer } from './base';

/** What a simulator offers to be persisted. */
export interface PersistentState {
  /** Everything that must outlive the process, as plain JSON. */
  snapshot(): unknown;
  /** Replaces the state with a snapshot; throws, changing nothing, when `data` is not one. */
  restore(data: unknown): void;
}

export interface SimulatorStoreOptions {
  dataDir: string;
  /** File name and the simulator the file must belong to. */
  name: string;
  server: SimulatorServer;
  state: PersistentState;
  warn?: (message: string) => void;
  /** Delay of the save after a read (default 200 ms). */
  debounceMs?: number;
}

export interface SimulatorStore {
  readonly file: string;
  /** True when the simulator started from a saved snapshot. */
  readonly restored: boolean;
  /** Writes the state now if it changed since the last write. */
  save(): void;
  /** The state changed outside a request (e.g. a pull request merged by the demo reviewer): save soon. */
  changed(): void;
  /** Stops listening for changes and writes what is left. */
  close(): void;
}

const FORMAT = 'drw-simulator-state';

const StateFile = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  simulator: z.string(),
  savedAt: z.string(),
  state: z.unknown(),
});

export function simulatorStateFile(dataDir: string, name: string): string {
  return path.join(dataDir, 'simulators', `${name}.json`);
}

export function persistSimulator(o: SimulatorStoreOptions): SimulatorStore {
  const file = simulatorStateFile(o.dataDir, o.name);
  const warn = o.warn ?? ((m: string) => process.emitWarning(m));
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let failing = false;
  const restored = load();
  let last = restored ? serialize() : undefined;

  function serialize(): string {
    return JSON.stringify(o.state.snapshot());
  }

  function load(): boolean {
    let raw: string;
    try {
      raw = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') warn(`simulator ${o.name}: cannot read ${file} (${(e as Error).message}); starting empty`);
      return false;
    }
    try {
      const parsed = StateFile.parse(JSON.parse(raw));
      if (parsed.simulator !== o.name) throw new Error(`it holds the state of simulator "${parsed.simulator}"`);
      o.state.restore(parsed.state);
      return true;
    } catch (e) {
      const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      let moved = '';
      try {
        renameSync(file, aside);
        moved = `; moved to ${aside}`;
      } catch (err) {
        moved = `; could not move it aside (${(err as Error).message})`;
      }
      warn(`simulator ${o.name}: ${file} is not a state this simulator can restore (${reason(e)})${moved}; starting empty`);
      return false;
    }
  }

  function save(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    let state: string;
    try {
      state = serialize();
    } catch (e) {
      return report(e);
    }
    if (state === last) return;
    const body = `{"format":"${FORMAT}","version":1,"simulator":${JSON.stringify(o.name)},"savedAt":"${new Date().toISOString()}","state":${state}}\n`;
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(tmp, body);
      renameSync(tmp, file);
      last = state;
      failing = false;
    } catch (e) {
      report(e);
    }
  }

  /** Once per run of failures: a full disk must not flood the log, nor stop the simulator. */
  function report(e: unknown): void {
    if (!failing) warn(`simulator ${o.name}: cannot save its state to ${file} (${(e as Error).message}); it will be lost on restart until this is fixed`);
    failing = true;
  }

  function changed(): void {
    if (closed || timer) return;
    timer = setTimeout(save, o.debounceMs ?? 200);
    timer.unref();
  }

  o.server.onHandled((req) => {
    if (closed) return;
    if (req.method === 'GET' || req.method === 'HEAD') changed();
    else save();
  });

  return {
    file,
    restored,
    save,
    changed,
    close() {
      save();
      closed = true;
    },
  };
}

function reason(e: unknown): string {
  if (e instanceof z.ZodError) {
    const first = e.issues[0];
    return first ? `${first.path.join('.') || 'file'}: ${first.message}` : e.message;
  }
  return (e as Error).message;
}
