import { inChangeWindow, nextWindowOpen } from '../../../planner/windows';
import type { Playbook } from '../../../planner/policy-schema';
import { loadFixture } from '../planner/helpers';

type Cw = NonNullable<Playbook['changeWindow']>;
const ALL_DAYS: Cw['windows'][number]['days'] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

// 2024-01-05 is a Friday.
describe('a window across midnight (UTC, Friday 22:00–02:00)', () => {
  const cw: Cw = { utcOffsetMinutes: 0, windows: [{ days: ['fri'], start: '22:00', end: '02:00' }] };

  it.each([
    ['2024-01-04T12:00:00.000Z', '2024-01-05T22:00:00.000Z', false],
    ['2024-01-05T21:59:59.000Z', '2024-01-05T22:00:00.000Z', false],
    ['2024-01-05T22:00:00.000Z', '2024-01-05T22:00:00.000Z', true],
    ['2024-01-05T23:30:00.000Z', '2024-01-05T23:30:00.000Z', true],
    // Saturday early morning still belongs to Friday's window.
    ['2024-01-06T01:59:59.000Z', '2024-01-06T01:59:59.000Z', true],
    // The end is exclusive; the next one is a week later.
    ['2024-01-06T02:00:00.000Z', '2024-01-12T22:00:00.000Z', false],
  ])('at %s the next opening is %s (inside: %s)', (now, want, inside) => {
    expect(iso(nextWindowOpen(cw, at(now)))).toBe(want);
    expect(inChangeWindow(cw, at(now))).toBe(inside);
  });
});

describe('day filters (weekdays 09:00–17:00 UTC)', () => {
  const cw: Cw = { utcOffsetMinutes: 0, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }] };

  it('a Saturday waits for Monday morning', () => {
    expect(iso(nextWindowOpen(cw, at('2024-01-06T10:00:00.000Z')))).toBe('2024-01-08T09:00:00.000Z');
    expect(inChangeWindow(cw, at('2024-01-06T10:00:00.000Z'))).toBe(false);
  });

  it('Friday after hours waits for Monday; Monday at 16:59:59 is inside, at 17:00 it waits for Tuesday', () => {
    expect(iso(nextWindowOpen(cw, at('2024-01-05T17:00:00.000Z')))).toBe('2024-01-08T09:00:00.000Z');
    expect(inChangeWindow(cw, at('2024-01-08T16:59:59.000Z'))).toBe(true);
    expect(iso(nextWindowOpen(cw, at('2024-01-08T17:00:00.000Z')))).toBe('2024-01-09T09:00:00.000Z');
  });

  it('seconds in the window times count', () => {
    const tight: Cw = { utcOffsetMinutes: 0, windows: [{ days: ALL_DAYS, start: '12:00:30', end: '12:00:45' }] };
    expect(iso(nextWindowOpen(tight, at('2024-01-08T12:00:00.000Z')))).toBe('2024-01-08T12:00:30.000Z');
    expect(iso(nextWindowOpen(tight, at('2024-01-08T12:00:45.000Z')))).toBe('2024-01-09T12:00:30.000Z');
  });

  it('with several windows the earliest opening wins', () => {
    const two: Cw = {
      utcOffsetMinutes: 0,
      windows: [
        { days: ['sat'], start: '06:00', end: '08:00' },
        { days: ['fri'], start: '23:00', end: '23:30' },
      ],
    };
    expect(iso(nextWindowOpen(two, at('2024-01-05T12:00:00.000Z')))).toBe('2024-01-05T23:00:00.000Z');
    expect(iso(nextWindowOpen(two, at('2024-01-05T23:30:00.000Z')))).toBe('2024-01-06T06:00:00.000Z');
  });

  it('start equal to end is a whole day', () => {
    const monday: Cw = { utcOffsetMinutes: 0, windows: [{ days: ['mon'], start: '00:00', end: '00:00' }] };
    expect(inChangeWindow(monday, at('2024-01-08T23:59:59.000Z'))).toBe(true);
    expect(iso(nextWindowOpen(monday, at('2024-01-09T00:00:00.000Z')))).toBe('2024-01-15T00:00:00.000Z');
  });
});

describe('UTC offsets: window times and days are local', () => {
  // The gated fixture: Saturday and Sunday 22:00–04:00 at UTC+1, i.e. 21:00–03:00 UTC.
  const cw = loadFixture('gated').playbooks.find((p) => p.id === 'exposure')!.changeWindow!;

  it('is read from the playbook as written', () => {
    expect(cw).toEqual({ utcOffsetMinutes: 60, windows: [{ days: ['sat', 'sun'], start: '22:00', end: '04:00' }], emergencyOverride: { minRiskScore: 95 } });
  });

  it.each([
    // Friday 23:30 local: Friday has no window.
    ['2024-01-05T22:30:00.000Z', '2024-01-06T21:00:00.000Z', false],
    ['2024-01-06T20:59:00.000Z', '2024-01-06T21:00:00.000Z', false],
    ['2024-01-06T21:00:00.000Z', '2024-01-06T21:00:00.000Z', true],
    // Monday 03:30 local is the tail of Sunday night's window.
    ['2024-01-08T02:30:00.000Z', '2024-01-08T02:30:00.000Z', true],
    ['2024-01-08T03:00:00.000Z', '2024-01-13T21:00:00.000Z', false],
  ])('at %s the next opening is %s (inside: %s)', (now, want, inside) => {
    expect(iso(nextWindowOpen(cw, at(now)))).toBe(want);
    expect(inChangeWindow(cw, at(now))).toBe(inside);
  });

  it('a negative offset moves the local day back (UTC-5, Monday 09:00–10:00 local)', () => {
    const est: Cw = { utcOffsetMinutes: -300, windows: [{ days: ['mon'], start: '09:00', end: '10:00' }] };
    // Monday 03:00 UTC is still Sunday 22:00 in UTC-5.
    expect(iso(nextWindowOpen(est, at('2024-01-08T03:00:00.000Z')))).toBe('2024-01-08T14:00:00.000Z');
    expect(inChangeWindow(est, at('2024-01-08T14:30:00.000Z'))).toBe(true);
    // Tuesday 02:00 UTC is Monday 21:00 local: this week's window is over.
    expect(iso(nextWindowOpen(est, at('2024-01-09T02:00:00.000Z')))).toBe('2024-01-15T14:00:00.000Z');
  });
});
