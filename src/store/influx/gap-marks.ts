// What an observation's line tells the hourly aggregates, so that deciding whether an hour of a series is clean
// (bucketed-runs.ts) scans only the few points that could end a run, not every point of the month.
//
// InfluxDB scans a field's points once per aggregate of it: the clean test over a field every point carried
// (`gap_ms`: count, min and max) cost three scans of the month (test/bench/README.md, close queries). Instead one
// sparse field, `gap_mark_ms`, is written on the points that matter; the hour is clean under staleAfter when its
// largest mark is below staleAfter. With F the writer's floor (its staleAfter, fixed for the writer's life) and g
// the point's gap to the previous point of its series as the writer knew it, a point's mark is:
//   ENDLESS_GAP_MS  when it is down or g is unknown (out of order, first of its series): never clean;
//   g               when g >= F: clean only under a larger staleAfter;
//   F - 1           when neither applies, on the first point this writer (this process) stores in each hour of
//                   the series: its unmarked points of that hour have gaps below F, so they are clean under
//                   staleAfter only when F - 1 < staleAfter.
// So every writer that stored an unmarked point in an hour also stored a mark of at least F - 1 there, and a
// largest mark below staleAfter proves every gap of the hour below it, whichever writers (with whatever floors,
// restarts included) wrote it. Points written before the marks carry `gap_ms` on every point (the old form) and
// no mark: an hour with old points is tested the old way, and its other points by their marks when it has any.
// So the aggregates read only the marks and the old form's field, never a field every new point carries: an hour
// with points has a mark or an old point, and every down point has an (endless) mark, so every hour that can hold
// something other than one up run shows up dirty. Counting every point (`count("up")`) as well would have caught an
// hour of unmarked points, which this daemon's writers never leave (the cost was 60 % of the close's scan).
// What this does not cover: two writers storing one series at the same millisecond (InfluxDB merges the fields of
// one key, so one writer's mark can replace another's); one series has one writer (its shard's agent, or imports
// through that agent's outbox, whose repeated keys are checked first). A marked line InfluxDB refuses by name is
// parked and shouted about (as any refused line is); the hour's unmarked points are then not seen, as if unprobed.

import { BUCKET_MS } from '../bucketed-runs.js';

/** The field of the mark. */
export const GAP_MARK_FIELD = 'gap_mark_ms';
/** The field every point carried in the old form: its gap, or -1 when down or unknown. */
export const OLD_GAP_FIELD = 'gap_ms';
/** The mark of a point down or after an unknown gap: larger than any staleAfter. */
export const ENDLESS_GAP_MS = Number.MAX_SAFE_INTEGER;

/** The hour a time lies in: the aggregates' bucket (GROUP BY time(1h), from the epoch). */
const hourOf = (timeMs: number) => Math.floor(timeMs / BUCKET_MS);

/**
 * The mark of an observation at `timeMs`, `up` or not, whose series' last written time was `lastMs`, from a writer
 * whose floor is `floorMs` (its staleAfter) and which has (`hourMarked`) or has not yet stored a mark of at least
 * floorMs - 1 for this series in this observation's hour; undefined when the point needs none.
 */
export function gapMark(
  timeMs: number,
  up: boolean,
  lastMs: number | undefined,
  floorMs: number,
  hourMarked: boolean,
): number | undefined {
  if (!up || lastMs === undefined || timeMs <= lastMs) return ENDLESS_GAP_MS;
  const gapMs = timeMs - lastMs;
  if (gapMs >= floorMs) return gapMs;
  return hourMarked ? undefined : floorMs - 1;
}

/**
 * gapMark for a writer that remembers, per series, the last hour it stored a mark of at least floorMs - 1 in
 * (`markedHour`): the observation's mark, and the hour it marks (`marksHour`) when the writer is to remember it. An
 * endless mark is not remembered: a line that may repeat a stored key has one, and may be left out as a repeat.
 */
export function hourMark(
  timeMs: number,
  up: boolean,
  lastMs: number | undefined,
  floorMs: number,
  markedHour: number | undefined,
): { mark: number | undefined; marksHour: number | undefined } {
  const hour = hourOf(timeMs);
  const mark = gapMark(timeMs, up, lastMs, floorMs, markedHour === hour);
  return { mark, marksHour: mark !== undefined && mark !== ENDLESS_GAP_MS ? hour : undefined };
}

/** One hour of one series as InfluxDB aggregates it (null: no point of the hour has that field). */
export interface HourMarks {
  oldCount: number;
  oldMin: number | null;
  oldMax: number | null;
  markMax: number | null;
}

/**
 * Every point of the hour is up and less than staleAfter after the one before it (see above). An hour with neither
 * marks nor old points holds nothing InfluxDB could aggregate, so is never clean.
 */
export function hourIsClean(hour: HourMarks, staleAfterMs: number): boolean {
  if (hour.oldCount === 0 && hour.markMax === null) return false;
  const oldClean =
    hour.oldCount === 0 ||
    (hour.oldMin !== null && hour.oldMax !== null && hour.oldMin >= 0 && hour.oldMax < staleAfterMs);
  // Any mark counts, even in an hour whose every point also has gap_ms (one key written in both forms). Without
  // marks the hour's points are all old ones: a new point's writer marks its first point of each hour.
  const markedClean = hour.markMax === null || hour.markMax < staleAfterMs;
  return oldClean && markedClean;
}
