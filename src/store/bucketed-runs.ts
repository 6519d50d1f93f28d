// Runs from hourly aggregates, shared by the stores that can aggregate where the data lives (InfluxDB, SQLite).
// Each observation's gap to the previous observation of its series is known as it was when written (never smaller
// than the true gap: a later write in between only shortens it); SQLite keeps it on every row, InfluxDB as marks
// on the few points that matter (influx/gap-marks.ts). A bucket whose observations are all up, all with a known
// gap below staleAfter, is "clean": it lies inside one up run. Only the other buckets are read row by row;
// compactRuns then joins neighbouring runs as a row-by-row read would.
//
// When the store cannot say cheaply when a clean bucket's first and last observations were (InfluxDB: every
// aggregate of a field every point carries is another full scan), the clean buckets at either end of a stretch of
// clean buckets are read row by row too. A run can only start or end in such an end bucket, so the inner buckets
// stand in as one run spanning their hours: each is joined to the exact rows on both sides (their gaps are known
// to be below staleAfter), and the joined run starts and ends at exact times.
import { at } from '../sla/at.js';
import { continuesRun } from '../sla/availability.js';
import type { ObservationRun } from '../sla/types.js';
import type { RunQuery } from './store.js';

/** Width of an aggregate bucket. */
export const BUCKET_MS = 3_600_000;

/** The aggregates of one series in one bucket. */
export interface RunBucket {
  location: string;
  check: string;
  /** Start of the bucket (a multiple of BUCKET_MS). */
  startMs: number;
  /** Its observations, or at least 1 when the store does not count them (ObservationRun.count). */
  count: number;
  /** Every observation up, with a known gap below staleAfter. */
  clean: boolean;
  /** The first and last observation times, when the store has them; without them, see above. */
  firstMs?: number;
  lastMs?: number;
}

/** A time range of one series that must be read row by row. */
export interface DirtyRange {
  location: string;
  check: string;
  fromMs: number;
  toMs: number;
}

/**
 * Splits the buckets (grouped by series, each series in time order) into whole runs and ranges to read row by
 * row; `aggregated` counts the buckets answered by their aggregates.
 */
export function classifyBuckets(
  buckets: readonly RunBucket[],
  query: Pick<RunQuery, 'fromMs' | 'toMs'>,
): { runs: ObservationRun[]; dirty: DirtyRange[]; aggregated: number } {
  const runs: ObservationRun[] = [];
  const dirty: DirtyRange[] = [];
  let aggregated = 0;
  const sameSeries = (a: RunBucket | undefined, b: RunBucket): a is RunBucket =>
    a !== undefined && a.location === b.location && a.check === b.check;
  // A clean bucket stands for itself when its times are known, or when both neighbours are clean buckets.
  const standsAlone = (b: RunBucket, i: number) => {
    if (!b.clean) return false;
    if (b.firstMs !== undefined && b.lastMs !== undefined) return true;
    const before = buckets[i - 1];
    const after = buckets[i + 1];
    return (
      sameSeries(before, b) &&
      before.clean &&
      before.startMs === b.startMs - BUCKET_MS &&
      sameSeries(after, b) &&
      after.clean &&
      after.startMs === b.startMs + BUCKET_MS
    );
  };
  for (let i = 0; i < buckets.length; i++) {
    const b = at(buckets, i, 'bucket');
    if (standsAlone(b, i)) {
      aggregated++;
      const firstMs = b.firstMs ?? b.startMs;
      const lastMs = b.lastMs ?? b.startMs + BUCKET_MS - 1;
      const last = runs[runs.length - 1];
      // Consecutive inner buckets of one stretch become one run (fewer runs to sort and join).
      if (
        b.firstMs === undefined &&
        last &&
        last.location === b.location &&
        last.check === b.check &&
        last.lastMs === b.startMs - 1
      ) {
        last.lastMs = lastMs;
        last.count += b.count;
      } else runs.push({ location: b.location, check: b.check, up: true, firstMs, lastMs, count: b.count });
      continue;
    }
    const fromMs = Math.max(query.fromMs, b.startMs);
    const toMs = Math.min(query.toMs, b.startMs + BUCKET_MS);
    const last = dirty[dirty.length - 1];
    if (last && last.location === b.location && last.check === b.check && last.toMs === fromMs) last.toMs = toMs;
    else dirty.push({ location: b.location, check: b.check, fromMs, toMs });
  }
  return { runs, dirty, aggregated };
}

/**
 * Sorts runs by location, check and time, and joins neighbours of the same state less than staleAfter apart:
 * single observations become the runs a row-by-row read gives.
 */
export function compactRuns(runs: ObservationRun[], staleAfterMs: number): ObservationRun[] {
  runs.sort((a, b) => compareText(a.location, b.location) || compareText(a.check, b.check) || a.firstMs - b.firstMs);
  const out: ObservationRun[] = [];
  for (const run of runs) {
    const last = out[out.length - 1];
    if (
      last &&
      last.location === run.location &&
      last.check === run.check &&
      continuesRun(last, run.up, run.firstMs, staleAfterMs)
    ) {
      last.lastMs = run.lastMs;
      last.count += run.count;
    } else out.push({ ...run });
  }
  return out;
}

/** Code-unit order, as SQLite's BINARY collation sorts. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
