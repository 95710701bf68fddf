import type { ContainmentState } from '../../interfaces';

export type IsolationActionType = 'Isolate' | 'Unisolate';

export interface MachineAction {
  id: string;
  type: string;
  status: string;
  machineId?: string;
  creationDateTimeUtc?: string;
  lastUpdateDateTimeUtc?: string;
}

export const TERMINAL = new Set(['Succeeded', 'Failed', 'Cancelled', 'TimeOut']);
const ACTIVE = new Set(['Pending', 'InProgress']);

export function isActive(a: MachineAction): boolean {
  return ACTIVE.has(a.status);
}

/** Newest first, by creation time (Defender's list order is not documented). */
export function newestFirst(actions: MachineAction[]): MachineAction[] {
  const t = (a: MachineAction) => Date.parse(a.creationDateTimeUtc ?? '') || 0;
  return [...actions].sort((a, b) => t(b) - t(a));
}

/**
 * Defender has no containment field on the machine: the state is what the newest isolation
 * action says. An action still running wins over an older finished one; failed, cancelled and
 * timed-out actions changed nothing, so they are skipped.
 */
export function containmentFrom(actions: MachineAction[]): { state: ContainmentState; action?: MachineAction } {
  for (const a of newestFirst(actions)) {
    if (a.type !== 'Isolate' && a.type !== 'Unisolate') continue;
    if (isActive(a)) return { state: a.type === 'Isolate' ? 'containment_pending' : 'lift_containment_pending', action: a };
    if (a.status === 'Succeeded') return { state: a.type === 'Isolate' ? 'contained' : 'normal', action: a };
  }
  return { state: 'normal' };
}
