import { describe, expect, it } from 'vitest';
import { ENDLESS_GAP_MS, gapMark, hourIsClean, hourMark, type HourMarks } from '../../../src/store/influx/gap-marks.js';

const H = 3_600_000;
const FLOOR = 90_000;

describe('hourMark', () => {
  it("marks a writer's first point of an hour and remembers that hour; later points of the hour need none", () => {
    expect(hourMark(10 * H, true, 10 * H - 30_000, FLOOR, 9)).toEqual({ mark: 89_999, marksHour: 10 });
    expect(hourMark(10 * H + 30_000, true, 10 * H, FLOOR, 10)).toEqual({ mark: undefined, marksHour: undefined });
    expect(hourMark(10 * H + 30_000, true, 10 * H, FLOOR, undefined)).toEqual({ mark: 89_999, marksHour: 10 });
  });

  it('remembers a gap at or over the floor as marking its hour, never an endless mark', () => {
    expect(hourMark(10 * H + 100_000, true, 10 * H + 10_000, FLOOR, 10)).toEqual({ mark: 90_000, marksHour: 10 });
    expect(hourMark(10 * H + 60_000, false, 10 * H + 30_000, FLOOR, 9)).toEqual({
      mark: ENDLESS_GAP_MS,
      marksHour: undefined,
    });
  });
});

describe('gapMark', () => {
  it('marks nothing on an up point a short gap after one in the same hour', () => {
    expect(gapMark(10 * H + 60_000, true, 10 * H + 30_000, FLOOR, true)).toBeUndefined();
  });

  it('marks a down point, an unknown gap and a point out of order as endless', () => {
    expect(gapMark(10 * H + 60_000, false, 10 * H + 30_000, FLOOR, true)).toBe(ENDLESS_GAP_MS);
    expect(gapMark(10 * H + 60_000, true, undefined, FLOOR, true)).toBe(ENDLESS_GAP_MS);
    expect(gapMark(10 * H + 60_000, true, 10 * H + 60_000, FLOOR, true)).toBe(ENDLESS_GAP_MS);
    expect(gapMark(10 * H + 60_000, true, 10 * H + 90_000, FLOOR, true)).toBe(ENDLESS_GAP_MS);
    expect(gapMark(10 * H + 5_000, false, 10 * H - 30_000, FLOOR, true)).toBe(ENDLESS_GAP_MS);
  });

  it('marks a gap at or over the floor with the gap, one just under it not at all', () => {
    expect(gapMark(10 * H + 100_000, true, 10 * H + 10_000, FLOOR, true)).toBe(90_000);
    expect(gapMark(10 * H + 100_000, true, 10 * H + 10_001, FLOOR, true)).toBeUndefined();
    expect(gapMark(10 * H + 5_000, true, 9 * H, FLOOR, true)).toBe(H + 5_000);
  });

  it("marks the writer's first point of an hour with the floor less 1 ms, unless it has a larger mark", () => {
    expect(gapMark(10 * H, true, 10 * H - 30_000, FLOOR, false)).toBe(89_999);
    // After a restart in the middle of the hour: the point before is in the same hour, written by another process.
    expect(gapMark(10 * H + 1_800_000, true, 10 * H + 1_770_000, FLOOR, false)).toBe(89_999);
    expect(gapMark(10 * H + 30_000, true, 10 * H, FLOOR, true)).toBeUndefined();
    expect(gapMark(10 * H + 100_000, true, 10 * H, FLOOR, false)).toBe(100_000);
    expect(gapMark(10 * H + 100_000, false, 10 * H, FLOOR, false)).toBe(ENDLESS_GAP_MS);
  });
});

describe('hourIsClean', () => {
  const marked: HourMarks = { oldCount: 0, oldMin: null, oldMax: null, markMax: 89_999 };

  it('is clean when the largest mark is below staleAfter', () => {
    expect(hourIsClean(marked, 90_000)).toBe(true);
    expect(hourIsClean({ ...marked, markMax: 179_999 }, 180_000)).toBe(true);
  });

  it('is not clean when a mark reaches staleAfter: a floor over it, a long gap, a down point', () => {
    expect(hourIsClean(marked, 89_999)).toBe(false);
    expect(hourIsClean({ ...marked, markMax: 180_000 }, 180_000)).toBe(false);
    expect(hourIsClean({ ...marked, markMax: ENDLESS_GAP_MS }, 180_000)).toBe(false);
  });

  it('is not clean with neither marks nor old points (nothing InfluxDB could aggregate)', () => {
    expect(hourIsClean({ ...marked, markMax: null }, 90_000)).toBe(false);
  });

  it('tests points of the old form (gap_ms on each) the old way, beside marked ones', () => {
    const old: HourMarks = { oldCount: 120, oldMin: 30_000, oldMax: 30_000, markMax: null };
    expect(hourIsClean(old, 90_000)).toBe(true);
    expect(hourIsClean({ ...old, oldMin: -1 }, 90_000)).toBe(false);
    expect(hourIsClean({ ...old, oldMax: 90_000 }, 90_000)).toBe(false);
    // Some points of the hour are of the marked form: their mark is there, and must be below staleAfter.
    expect(hourIsClean({ ...old, oldCount: 60, markMax: 89_999 }, 90_000)).toBe(true);
    expect(hourIsClean({ ...old, oldCount: 60, markMax: 90_000 }, 90_000)).toBe(false);
    expect(hourIsClean({ ...old, oldMax: 90_000, markMax: 89_999 }, 90_000)).toBe(false);
    // A key written in both forms (InfluxDB merges its fields): every point has gap_ms, and a mark still counts.
    expect(hourIsClean({ ...old, markMax: ENDLESS_GAP_MS }, 90_000)).toBe(false);
  });
});
