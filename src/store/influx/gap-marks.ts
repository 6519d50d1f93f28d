// What an observation's line tells the hourly aggregates, so that deciding whether an hour of a series is clean
// (bucketed-runs.ts) scans only the few points that could break a run, not every point of the month.
//
// InfluxDB scans a field's points once per aggregate of it: the clean test over a field every point carries cost
// three scans of the month (test/bench/README.md, close queries). Instead two sparse fields are written:
//   gap_break_ms  on a point that may break an up run: -1 when it is down or its gap is unknown (out of order, first
//                 of its series), else its gap when that is at least the writer's floor. Absent otherwise: the
//                 point is up and its gap is below the floor.
//   gap_floor_ms  the writer's floor, on the first point of each hour of a series (its gap is known and the point
//                 before it lies in an earlier hour), so an hour says which floor its unmarked points are under.
// An hour is clean under staleAfter when every break is a gap >= 0 and < staleAfter, and its floor is at most
// staleAfter (unmarked gaps are then below staleAfter too). An hour with points but no floor is not clean. Points
// written before these fields existed carry `gap_ms` on every point (the old form); run-reader.ts tests them the old way.

/** The field of a point that may break a run (see above). */
export const GAP_BREAK_FIELD = 'gap_break_ms';
/** The field carrying the writer's floor, once per hour of a series. */
export const GAP_FLOOR_FIELD = 'gap_floor_ms';
/** The field every point carried in the old form: its gap, or -1 when down or unknown. */
export const OLD_GAP_FIELD = 'gap_ms';

const HOUR_MS = 3_600_000;

export interface GapMarks {
  breakMs?: number;
  floorMs?: number;
}

/**
 * The marks of an observation at `timeMs`, `up` or not, whose series' last written time was `lastMs`, from a
 * writer whose floor is `floorMs` (its staleAfter: gaps below it need no mark).
 */
export function gapMarks(timeMs: number, up: boolean, lastMs: number | undefined, floorMs: number): GapMarks {
  const gapMs = lastMs !== undefined && timeMs > lastMs ? timeMs - lastMs : undefined;
  const marks: GapMarks = {};
  if (!up || gapMs === undefined) marks.breakMs = -1;
  else if (gapMs >= floorMs) marks.breakMs = gapMs;
  if (gapMs !== undefined && Math.floor((timeMs - gapMs) / HOUR_MS) < Math.floor(timeMs / HOUR_MS))
    marks.floorMs = floorMs;
  return marks;
}

/** One hour of one series as InfluxDB aggregates it (null: no point of the hour has that field). */
export interface HourMarks {
  count: number;
  oldCount: number;
  oldMin: number | null;
  oldMax: number | null;
  breakMin: number | null;
  breakMax: number | null;
  floorMax: number | null;
}

/** Every point of the hour is up and less than staleAfter after the one before it (see above). */
export function hourIsClean(hour: HourMarks, staleAfterMs: number): boolean {
  if (hour.count === 0) return false;
  const oldClean =
    hour.oldCount === 0 ||
    (hour.oldMin !== null && hour.oldMax !== null && hour.oldMin >= 0 && hour.oldMax < staleAfterMs);
  const breaksClean =
    hour.breakMin === null || (hour.breakMax !== null && hour.breakMin >= 0 && hour.breakMax < staleAfterMs);
  const markedCovered = hour.count === hour.oldCount || (hour.floorMax !== null && hour.floorMax <= staleAfterMs);
  return oldClean && breaksClean && markedCovered;
}
