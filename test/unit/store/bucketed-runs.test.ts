import { describe, expect, it } from 'vitest';
import { BUCKET_MS, classifyBuckets, compactRuns, type RunBucket } from '../../../src/store/bucketed-runs.js';

const H = BUCKET_MS;
const bucket = (hour: number, clean: boolean, times?: { firstMs: number; lastMs: number }): RunBucket => ({
  location: 'waw',
  check: 'web',
  startMs: hour * H,
  count: 120,
  clean,
  ...times,
});

describe('classifyBuckets', () => {
  it('without observation times, reads the clean buckets at each end of a clean stretch row by row', () => {
    // Hours 0-8: 4 is dirty, 7 has no data. Inner clean hours: 1-2 (between 0 and 3) only.
    const buckets = [0, 1, 2, 3, 4, 5, 6, 8].map((h) => bucket(h, h !== 4));
    const { runs, dirty, aggregated } = classifyBuckets(buckets, { fromMs: 0, toMs: 9 * H });
    expect(aggregated).toBe(2);
    expect(runs).toEqual([{ location: 'waw', check: 'web', up: true, firstMs: 1 * H, lastMs: 3 * H - 1, count: 240 }]);
    expect(dirty).toEqual([
      { location: 'waw', check: 'web', fromMs: 0, toMs: 1 * H },
      { location: 'waw', check: 'web', fromMs: 3 * H, toMs: 7 * H },
      { location: 'waw', check: 'web', fromMs: 8 * H, toMs: 9 * H },
    ]);
  });

  it('with observation times, every clean bucket is a run and ranges are clipped to the query', () => {
    const buckets = [
      bucket(0, true, { firstMs: 10, lastMs: H - 20 }),
      bucket(1, false),
      bucket(2, true, { firstMs: 2 * H + 5, lastMs: 3 * H - 5 }),
    ];
    const { runs, dirty, aggregated } = classifyBuckets(buckets, { fromMs: 0, toMs: 2 * H + H / 2 });
    expect(aggregated).toBe(2);
    expect(runs.map((r) => [r.firstMs, r.lastMs])).toEqual([
      [10, H - 20],
      [2 * H + 5, 3 * H - 5],
    ]);
    expect(dirty).toEqual([{ location: 'waw', check: 'web', fromMs: H, toMs: 2 * H }]);
  });

  it('never joins buckets of different series', () => {
    const other = (hour: number): RunBucket => ({ ...bucket(hour, true), check: 'tcp' });
    const { runs } = classifyBuckets(
      [bucket(0, true), bucket(1, true), bucket(2, true), other(3), other(4), other(5)],
      { fromMs: 0, toMs: 6 * H },
    );
    expect(runs.map((r) => [r.check, r.firstMs, r.lastMs])).toEqual([
      ['web', H, 2 * H - 1],
      ['tcp', 4 * H, 5 * H - 1],
    ]);
  });
});

describe('compactRuns', () => {
  it('joins same-state neighbours less than staleAfter apart, and splits at exactly staleAfter', () => {
    const run = (firstMs: number, lastMs: number, up = true) => ({
      location: 'waw',
      check: '',
      up,
      firstMs,
      lastMs,
      count: 1,
    });
    expect(compactRuns([run(200, 200), run(0, 100), run(189, 189, false), run(289, 289), run(379, 379)], 90)).toEqual([
      run(0, 100),
      run(189, 189, false),
      { ...run(200, 289), count: 2 },
      run(379, 379),
    ]);
  });
});
