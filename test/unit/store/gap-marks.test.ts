import { describe, expect, it } from 'vitest';
import { gapMarks, type HourMarks, hourIsClean } from '../../../src/store/influx/gap-marks.js';

const H = 3_600_000;
const FLOOR = 90_000;

describe('gapMarks', () => {
  it('marks nothing on an up point a short gap after one in the same hour', () => {
    expect(gapMarks(10 * H + 60_000, true, 10 * H + 30_000, FLOOR)).toEqual({});
  });

  it('marks a down point, an unknown gap and a point out of order with -1', () => {
    expect(gapMarks(10 * H + 60_000, false, 10 * H + 30_000, FLOOR)).toEqual({ breakMs: -1 });
    expect(gapMarks(10 * H + 60_000, true, undefined, FLOOR)).toEqual({ breakMs: -1 });
    expect(gapMarks(10 * H + 60_000, true, 10 * H + 60_000, FLOOR)).toEqual({ breakMs: -1 });
    expect(gapMarks(10 * H + 60_000, true, 10 * H + 90_000, FLOOR)).toEqual({ breakMs: -1 });
  });

  it('marks a gap at or over the floor with the gap, one just under it not at all', () => {
    expect(gapMarks(10 * H + 100_000, true, 10 * H + 10_000, FLOOR)).toEqual({ breakMs: 90_000 });
    expect(gapMarks(10 * H + 100_000, true, 10 * H + 10_001, FLOOR)).toEqual({});
  });

  it('puts the floor on the first point of an hour whose previous point is in an earlier hour', () => {
    expect(gapMarks(10 * H, true, 10 * H - 30_000, FLOOR)).toEqual({ floorMs: FLOOR });
    expect(gapMarks(10 * H + 5_000, false, 10 * H - 30_000, FLOOR)).toEqual({ breakMs: -1, floorMs: FLOOR });
    expect(gapMarks(10 * H + 5_000, true, 9 * H, FLOOR)).toEqual({ breakMs: H + 5_000, floorMs: FLOOR });
    // Unknown gap: no floor (the -1 already makes the hour unclean).
    expect(gapMarks(10 * H, true, undefined, FLOOR)).toEqual({ breakMs: -1 });
  });
});

describe('hourIsClean', () => {
  const marked: HourMarks = {
    count: 120,
    oldCount: 0,
    oldMin: null,
    oldMax: null,
    breakMin: null,
    breakMax: null,
    floorMax: 90_000,
  };

  it('is clean with no breaks and a floor at most staleAfter', () => {
    expect(hourIsClean(marked, 90_000)).toBe(true);
    expect(hourIsClean(marked, 180_000)).toBe(true);
  });

  it('is not clean when the floor is over staleAfter: unmarked gaps could be too', () => {
    expect(hourIsClean(marked, 89_999)).toBe(false);
  });

  it('is not clean with marked points but no floor, or no points', () => {
    expect(hourIsClean({ ...marked, floorMax: null }, 90_000)).toBe(false);
    expect(hourIsClean({ ...marked, count: 0 }, 90_000)).toBe(false);
  });

  it('tests the breaks against staleAfter', () => {
    expect(hourIsClean({ ...marked, breakMin: 95_000, breakMax: 120_000 }, 180_000)).toBe(true);
    expect(hourIsClean({ ...marked, breakMin: 95_000, breakMax: 180_000 }, 180_000)).toBe(false);
    expect(hourIsClean({ ...marked, breakMin: -1, breakMax: 120_000 }, 180_000)).toBe(false);
  });

  it('tests points of the old form (gap_ms on each) the old way, beside marked ones', () => {
    const old: HourMarks = { ...marked, oldCount: 120, oldMin: 30_000, oldMax: 30_000, floorMax: null };
    expect(hourIsClean(old, 90_000)).toBe(true);
    expect(hourIsClean({ ...old, oldMin: -1 }, 90_000)).toBe(false);
    expect(hourIsClean({ ...old, oldMax: 90_000 }, 90_000)).toBe(false);
    // Some points of the hour are marked ones: their floor must be there.
    expect(hourIsClean({ ...old, oldCount: 60 }, 90_000)).toBe(false);
    expect(hourIsClean({ ...old, oldCount: 60, floorMax: 90_000 }, 90_000)).toBe(true);
  });
});
