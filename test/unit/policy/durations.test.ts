import { formatDuration, parseDuration } from '../../../planner/durations';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['15m', 900_000],
    ['4h', 14_400_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['1.5h', 5_400_000],
    ['15 m', 900_000],
    ['  30s  ', 30_000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('takes a number as milliseconds', () => {
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration(60_000)).toBe(60_000);
  });

  it.each(['4 hours', '', '   ', '10', 'h', '1h 30m', '5 min', '-5m', '1y'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(`invalid duration "${text}" (use e.g. 90s, 15m, 4h, 2d, 1h30m)`);
  });

  it('refuses negative and non-finite numbers', () => {
    expect(() => parseDuration(-1)).toThrow('invalid duration -1');
    expect(() => parseDuration(Number.POSITIVE_INFINITY)).toThrow('invalid duration Infinity');
    expect(() => parseDuration(Number.NaN)).toThrow('invalid duration NaN');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [500, '500ms'],
    [1500, '1500ms'],
    [90_000, '90s'],
    [900_000, '15m'],
    [5_400_000, '90m'],
    [14_400_000, '4h'],
    [86_400_000, '1d'],
    [129_600_000, '36h'],
    [604_800_000, '7d'],
  ])('%d ms → %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 3_660_000, 86_400_000, 90_061_001]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
