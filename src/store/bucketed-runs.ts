// Runs from hourly aggregates, shared by the stores that can aggregate where the data lives (InfluxDB, SQLite).
// Each observation carries its gap to the previous observation of its series as known when it was written
// (never smaller than the true gap: a later write in between only shortens it). A bucket whose observations
// are all up, all with a known gap below staleAfter, is exactly one run from its first to its last time; only
// the other buckets are read row by row. compactRuns then joins neighbouring runs as a row-by-row read would.
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
  count: number;
  ups: number;
  firstMs: number;
  lastMs: number;
  /** False when some observation's gap is unknown (first of its series, or written out of order). */
  gapsKnown: boolean;
  maxGapMs: number;
}

/** A time range of one series that must be read row by row. */
export interface DirtyRange {
  location: string;
  check: string;
  fromMs: number;
  toMs: number;
}

/** Splits one series' buckets (in time order) into whole runs and the ranges to read row by row. */
export function classifyBuckets(buckets: Iterable<RunBucket>, query: Pick<RunQuery, 'fromMs' | 'toMs' | 'staleAfterMs'>): { runs: ObservationRun[]; dirty: DirtyRange[] } {
  const runs: ObservationRun[] = [];
  const dirty: DirtyRange[] = [];
  for (const b of buckets) {
    if (b.ups === b.count && b.gapsKnown && b.maxGapMs < query.staleAfterMs) {
      runs.push({ location: b.location, check: b.check, up: true, firstMs: b.firstMs, lastMs: b.lastMs, count: b.count });
      continue;
    }
    const fromMs = Math.max(query.fromMs, b.startMs);
    const toMs = Math.min(query.toMs, b.startMs + BUCKET_MS);
    const last = dirty[dirty.length - 1];
    if (last && last.location === b.location && last.check === b.check && last.toMs === fromMs) last.toMs = toMs;
    else dirty.push({ location: b.location, check: b.check, fromMs, toMs });
  }
  return { runs, dirty };
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
    if (last && last.location === run.location && last.check === run.check && last.up === run.up && run.firstMs - last.lastMs < staleAfterMs) {
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
