// Pure helpers on half-open intervals [fromMs, toMs). Lists are sorted by start and non-overlapping ("merged").
import { at } from './at.js';
import type { Interval } from './types.js';

/** Sorts and merges overlapping or touching intervals; drops empty ones. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.toMs > i.fromMs).sort((a, b) => a.fromMs - b.fromMs || a.toMs - b.toMs);
  const merged: Interval[] = [];
  for (const interval of sorted) {
    const last = merged[merged.length - 1];
    if (last && interval.fromMs <= last.toMs) last.toMs = Math.max(last.toMs, interval.toMs);
    else merged.push({ fromMs: interval.fromMs, toMs: interval.toMs });
  }
  return merged;
}

/** Intersection of two merged lists. */
export function intersectIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const result: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = at(a, i, 'interval');
    const y = at(b, j, 'interval');
    const fromMs = Math.max(x.fromMs, y.fromMs);
    const toMs = Math.min(x.toMs, y.toMs);
    if (toMs > fromMs) result.push({ fromMs, toMs });
    if (x.toMs < y.toMs) i++;
    else j++;
  }
  return result;
}

/** The parts of merged list `a` not covered by merged list `b`. */
export function subtractIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const result: Interval[] = [];
  let j = 0;
  for (const x of a) {
    let cursor = x.fromMs;
    while (j < b.length && at(b, j, 'interval').toMs <= cursor) j++;
    let k = j;
    while (k < b.length && at(b, k, 'interval').fromMs < x.toMs) {
      const y = at(b, k, 'interval');
      if (y.fromMs > cursor) result.push({ fromMs: cursor, toMs: y.fromMs });
      cursor = Math.max(cursor, y.toMs);
      k++;
    }
    if (cursor < x.toMs) result.push({ fromMs: cursor, toMs: x.toMs });
  }
  return result;
}

/** Total length in milliseconds of a merged list. */
export function totalMs(intervals: readonly Interval[]): number {
  let total = 0;
  for (const interval of intervals) total += interval.toMs - interval.fromMs;
  return total;
}

/** Whether a merged list contains the instant. */
export function containsInstant(intervals: readonly Interval[], timeMs: number): boolean {
  return intervals.some((i) => i.fromMs <= timeMs && timeMs < i.toMs);
}
