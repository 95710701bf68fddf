import type { ChangeApproval, ChangeStateName, ChangeType } from '../../interfaces';

/** The out-of-the-box change_request state model (choice values of change_request.state). */
export const CHANGE_STATE: Readonly<Record<ChangeStateName, number>> = {
  New: -5,
  Assess: -4,
  Authorize: -3,
  Scheduled: -2,
  Implement: -1,
  Review: 0,
  Closed: 3,
  Canceled: 4,
};

const LABELS = new Map<number, ChangeStateName>(Object.entries(CHANGE_STATE).map(([label, value]) => [value, label as ChangeStateName]));

export function stateLabel(value: number): ChangeStateName | undefined {
  return LABELS.get(value);
}

/** Where each type goes when drw asks for approval: normal to assessment, emergency straight to the emergency CAB, standard (pre-approved) to Scheduled. */
export const APPROVAL_REQUEST_STATE: Readonly<Record<ChangeType, number>> = {
  normal: CHANGE_STATE.Assess,
  emergency: CHANGE_STATE.Authorize,
  standard: CHANGE_STATE.Scheduled,
};

export const IMPLEMENTABLE: ReadonlySet<number> = new Set([CHANGE_STATE.Scheduled, CHANGE_STATE.Implement]);
export const FINISHED: ReadonlySet<number> = new Set([CHANGE_STATE.Closed, CHANGE_STATE.Canceled]);

/** change_request.approval choice values; anything else (a custom choice) reads as requested, which never lets a step run. */
export function approvalOf(value: string | undefined): ChangeApproval {
  const v = (value ?? '').trim().toLowerCase();
  if (v === 'approved' || v === 'rejected' || v === 'not requested') return v;
  if (v === '' || v === 'not_requested' || v === 'not yet requested') return 'not requested';
  return 'requested';
}
