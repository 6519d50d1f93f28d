// The InfluxQL side of ObservationStore: runs and raw observations read from what InfluxDB has confirmed.
// Aggregation is pushed into InfluxQL: per series and hour, the gap marks (gap-marks.ts), turned into
// runs by bucketed-runs.ts (which explains the method); only the hours it names are read row by row, many series with
// the same range in one query (a short range, as the incremental refresh reads, is one range for every series).
import { mapWithLimit } from '../../concurrency.js';
import { continuesRun } from '../../sla/availability.js';
import type { Observation, ObservationRun } from '../../sla/types.js';
import {
  BUCKET_MS,
  classifyBuckets,
  compactRuns,
  compareText,
  type DirtyRange,
  type RunBucket,
} from '../bucketed-runs.js';
import type { RunQuery } from '../store.js';
import { quoteIdentifier, quoteString, type InfluxSeries } from './influxql.js';
import { GAP_MARK_FIELD, type HourMarks, hourIsClean, OLD_GAP_FIELD } from './gap-marks.js';
import { EMPTY_CHECK } from './line-protocol.js';

const OLD = quoteIdentifier(OLD_GAP_FIELD);
const MARK = quoteIdentifier(GAP_MARK_FIELD);

/** An aggregate's value: null when no point of the hour has the field. */
const nullable = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/** Runs one InfluxQL statement (InfluxQLClient.query, or a wrapper that counts and times the calls). */
export type SelectSeries = (statement: string) => Promise<InfluxSeries[]>;

/** Row-by-row queries of one readRuns in flight at once: their round trips and influxd's planning overlap. */
const RAW_READS_IN_FLIGHT = 4;

/** Servers named in one row-by-row query at most: keeps the statement and its answer a reasonable size. */
export const SERVERS_PER_RAW_READ = 100;

/** A series' range to read row by row, and where its rows go. */
interface RawRead {
  server: string;
  checkTag: string;
  range: DirtyRange;
  runs: ObservationRun[];
  /** Consecutive rows joined as they are read (RowJoin), or undefined: pushed one by one for compactRuns. */
  join: RowJoin | undefined;
}

const seriesKey = (server: string, location: string, checkTag: string) => `${server}\0${location}\0${checkTag}`;

const checkOfTag = (tag: string | undefined) => (tag === undefined || tag === EMPTY_CHECK ? '' : tag);

export class InfluxRunReader {
  private readonly measurement: string;

  constructor(
    private readonly select: SelectSeries,
    measurement: string,
  ) {
    this.measurement = quoteIdentifier(measurement);
  }

  /** Runs of each requested server in [fromMs, toMs): see ObservationStore.readRuns. */
  async readRuns(query: RunQuery): Promise<Map<string, ObservationRun[]>> {
    const result = new Map<string, ObservationRun[]>(query.servers.map((s) => [s, []]));
    if (query.servers.length === 0) return result;
    const edges = cutHourParts(query);
    const [aggregates, ...edgeCounts] = await Promise.all([
      this.select(hourlyAggregates(this.measurement, query)),
      ...edges.map((part) => this.select(pointCounts(this.measurement, query.servers, part))),
    ]);
    const bySeries = new Map<string, { server: string; location: string; checkTag: string; buckets: RunBucket[] }>();
    const seriesOf = (s: InfluxSeries) => {
      const { server, location, checkTag } = seriesTags(s);
      const key = seriesKey(server, location, checkTag);
      let entry = bySeries.get(key);
      if (!entry) {
        entry = { server, location, checkTag, buckets: [] };
        bySeries.set(key, entry);
      }
      return entry;
    };
    for (const series of aggregates ?? []) {
      const entry = seriesOf(series);
      const column = columnOf(series);
      const [iTime, iOldCount, iOldMin, iOldMax, iMarkMax] = ['time', 'old_n', 'old_min', 'old_max', 'mark_max'].map(
        column,
      ) as [number, number, number, number, number];
      for (const row of series.values) {
        const hour: HourMarks = {
          oldCount: nullable(row[iOldCount]) ?? 0,
          oldMin: nullable(row[iOldMin]),
          oldMax: nullable(row[iOldMax]),
          markMax: nullable(row[iMarkMax]),
        };
        entry.buckets.push({
          location: entry.location,
          check: checkOfTag(entry.checkTag),
          startMs: Number(row[iTime]),
          // Not counted (that would scan every point): a clean hour holds at least one (ObservationRun.count).
          count: 1,
          clean: hourIsClean(hour, query.staleAfterMs),
        });
      }
    }
    // A cut hour's part inside the range may hold points but none of the hour's marks (they lie on its first points,
    // before the range): such a part has no aggregates, so it is added as an hour to read row by row.
    edges.forEach((part, i) => {
      for (const series of edgeCounts[i] ?? []) {
        const count = Number(series.values[0]?.[columnOf(series)('n')] ?? 0);
        if (count === 0) continue;
        const entry = seriesOf(series);
        if (entry.buckets.some((b) => b.startMs === part.hourMs)) continue;
        const bucket = {
          location: entry.location,
          check: checkOfTag(entry.checkTag),
          startMs: part.hourMs,
          count,
          clean: false,
        };
        if (part.hourMs <= query.fromMs) entry.buckets.unshift(bucket);
        else entry.buckets.push(bucket);
      }
    });
    const rawReads: RawRead[] = [];
    const shared = sharedKeys([...bySeries.values()]);
    for (const { server, location, checkTag, buckets } of bySeries.values()) {
      const runs = result.get(server);
      if (!runs) continue;
      const classified = classifyBuckets(buckets, query);
      runs.push(...classified.runs);
      const join = rowJoin(shared, server, location, checkTag, query.staleAfterMs);
      for (const range of classified.dirty) rawReads.push({ server, checkTag, range, runs, join });
    }
    await mapWithLimit(rawReadBatches(rawReads), RAW_READS_IN_FLIGHT, (batch) => this.readRows(batch));
    for (const [server, runs] of result) result.set(server, compactRuns(runs, query.staleAfterMs));
    return result;
  }

  /**
   * Every series' rows in [fromMs, toMs) in one query, without naming servers: see RunSource.readEveryServer. Row by
   * row: meant for ranges of minutes, where the hourly aggregates would name every hour dirty anyway.
   */
  async readEveryServer(range: Omit<RunQuery, 'servers'>): Promise<Map<string, ObservationRun[]>> {
    const rows = await this.select(
      `SELECT "up" FROM ${this.measurement} WHERE time >= ${range.fromMs}ms AND time < ${range.toMs}ms ` +
        'GROUP BY "server", "location", "check"',
    );
    const result = new Map<string, ObservationRun[]>();
    const shared = sharedKeys(rows.map((s) => seriesTags(s)));
    for (const s of rows) {
      const { server, location, checkTag } = seriesTags(s);
      const runs = result.get(server) ?? [];
      result.set(server, runs);
      pushRows(
        runs,
        s.values,
        location,
        checkOfTag(checkTag),
        rowJoin(shared, server, location, checkTag, range.staleAfterMs),
      );
    }
    for (const [server, runs] of result) result.set(server, compactRuns(runs, range.staleAfterMs));
    return result;
  }

  /**
   * Reads a batch of series' ranges (one time range for all) in one query. The filter names servers, so other
   * series of those servers come back too: only the requested ones are kept.
   */
  private async readRows(batch: readonly RawRead[]): Promise<void> {
    const first = batch[0];
    if (!first) return;
    const { fromMs, toMs } = first.range;
    const wanted = new Map(batch.map((r) => [seriesKey(r.server, r.range.location, r.checkTag), r]));
    const servers = [...new Set(batch.map((r) => r.server))];
    const conditions = [serverFilter(servers)];
    // Narrowed further where the whole batch shares a location or a check (typical: one of each per fleet).
    if (batch.every((r) => r.range.location === first.range.location))
      conditions.push(`"location" = ${quoteString(first.range.location)}`);
    if (batch.every((r) => r.checkTag === first.checkTag)) conditions.push(`"check" = ${quoteString(first.checkTag)}`);
    const rows = await this.select(
      `SELECT "up" FROM ${this.measurement} WHERE ${conditions.join(' AND ')} ` +
        `AND time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY "server", "location", "check"`,
    );
    for (const s of rows) {
      const { server, location, checkTag } = seriesTags(s);
      const read = wanted.get(seriesKey(server, location, checkTag));
      if (read) pushRows(read.runs, s.values, read.range.location, read.range.check, read.join);
    }
  }

  /** Raw observations of one server in [fromMs, toMs), sorted by time, location and check. */
  async readObservations(server: string, fromMs: number, toMs: number): Promise<Observation[]> {
    const series = await this.select(
      `SELECT "up", "latency_ms", "error" FROM ${this.measurement} WHERE "server" = ${quoteString(server)} ` +
        `AND time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY "location", "check"`,
    );
    const observations: Observation[] = [];
    for (const s of series) {
      const location = s.tags?.location ?? '';
      const check = checkOfTag(s.tags?.check);
      for (const row of s.values) {
        const o: Observation = { timeMs: Number(row[0]), server, location, check, up: Number(row[1]) === 1 };
        if (row[2] !== null && row[2] !== undefined) o.latencyMs = Number(row[2]);
        if (row[3] !== null && row[3] !== undefined) o.error = String(row[3]);
        observations.push(o);
      }
    }
    return observations.sort(
      (a, b) => a.timeMs - b.timeMs || compareText(a.location, b.location) || compareText(a.check, b.check),
    );
  }

  /** The time of the earliest observation InfluxDB holds, if any. */
  async earliestMs(): Promise<number | undefined> {
    const [series] = await this.select(`SELECT first("up") FROM ${this.measurement}`);
    const time = series?.values[0]?.[0];
    return time === undefined || time === null ? undefined : Number(time);
  }
}

/**
 * The statement of the hourly aggregates of the requested servers' series (`measurement` quoted). InfluxDB scans a
 * field once per aggregate of it, so only sparse fields are aggregated: the marks (gap-marks.ts, a few points per
 * series and hour), and the old form's gap_ms, which months written since the marks do not have. No field every point
 * carries is scanned. A month written before the marks costs three scans (the aggregates of gap_ms).
 */
export function hourlyAggregates(measurement: string, query: Pick<RunQuery, 'servers' | 'fromMs' | 'toMs'>): string {
  return (
    `SELECT count(${OLD}) AS old_n, min(${OLD}) AS old_min, max(${OLD}) AS old_max, ` +
    `max(${MARK}) AS mark_max FROM ${measurement} WHERE ${serverFilter(query.servers)} ` +
    `AND time >= ${query.fromMs}ms AND time < ${query.toMs}ms ` +
    'GROUP BY time(1h), "server", "location", "check" fill(none)'
  );
}

/** The part of an hour the range cuts that lies inside it, and that hour's start (a bucket of the aggregates). */
interface CutHourPart {
  hourMs: number;
  fromMs: number;
  toMs: number;
}

/**
 * The parts of the hours the range cuts, inside it: where a series' points may carry none of their hour's marks,
 * which lie on the hour's first points. At the start that is the range's first hour unless the range starts on the
 * hour. At the end, the points inside are the hour's first, so they carry its marks; the part is counted all the same
 * (a writer whose first point of the hour fell outside would otherwise go unseen), at the cost of a few minutes' scan.
 */
function cutHourParts({ fromMs, toMs }: Pick<RunQuery, 'fromMs' | 'toMs'>): CutHourPart[] {
  const parts: CutHourPart[] = [];
  const firstHourMs = Math.floor(fromMs / BUCKET_MS) * BUCKET_MS;
  const lastHourMs = Math.floor((toMs - 1) / BUCKET_MS) * BUCKET_MS;
  if (firstHourMs === lastHourMs) {
    if (fromMs !== firstHourMs || toMs !== firstHourMs + BUCKET_MS) parts.push({ hourMs: firstHourMs, fromMs, toMs });
    return parts;
  }
  if (fromMs !== firstHourMs) parts.push({ hourMs: firstHourMs, fromMs, toMs: firstHourMs + BUCKET_MS });
  if (toMs !== lastHourMs + BUCKET_MS) parts.push({ hourMs: lastHourMs, fromMs: lastHourMs, toMs });
  return parts;
}

/** Each requested series' count of points in `part` (less than an hour: a short scan). */
function pointCounts(measurement: string, servers: readonly string[], part: CutHourPart): string {
  return (
    `SELECT count("up") AS n FROM ${measurement} WHERE ${serverFilter(servers)} ` +
    `AND time >= ${part.fromMs}ms AND time < ${part.toMs}ms GROUP BY "server", "location", "check"`
  );
}

const serverFilter = (servers: readonly string[]) =>
  `(${servers.map((s) => `"server" = ${quoteString(s)}`).join(' OR ')})`;

/** A column's index in an answer, or a clear error when InfluxDB answered without it. */
const columnOf = (series: InfluxSeries) => (name: string) => {
  const index = series.columns.indexOf(name);
  if (index < 0) throw new Error(`InfluxDB answered without the column "${name}"`);
  return index;
};

/**
 * Whether a series' rows may be joined into runs as they are read: a series InfluxDB returns in time order, which
 * alone has its server, location and check (the run key), joined as compactRuns would join its rows. Two series of
 * one key (an old point without the check tag beside a new one with the empty check's tag) interleave in time, and
 * only compactRuns' sort orders their rows: those are pushed one by one.
 */
interface RowJoin {
  staleAfterMs: number;
}

/** The series' tags as the readers name them. */
const seriesTags = (s: InfluxSeries) => ({
  server: s.tags?.server ?? '',
  location: s.tags?.location ?? '',
  checkTag: s.tags?.check ?? EMPTY_CHECK,
});

const runKey = (server: string, location: string, checkTag: string) =>
  seriesKey(server, location, checkOfTag(checkTag));

/** The run keys more than one of these series has. */
function sharedKeys(series: readonly { server: string; location: string; checkTag: string }[]): Set<string> {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const { server, location, checkTag } of series) {
    const key = runKey(server, location, checkTag);
    if (seen.has(key)) shared.add(key);
    seen.add(key);
  }
  return shared;
}

const rowJoin = (
  shared: ReadonlySet<string>,
  server: string,
  location: string,
  checkTag: string,
  staleAfterMs: number,
) => (shared.has(runKey(server, location, checkTag)) ? undefined : { staleAfterMs });

/**
 * Rows of `SELECT "up"` (time, up) of one series as runs, appended to `runs`. Joined where `join` allows and the rows
 * are in time order: one run per stretch rather than an object per row for compactRuns to sort and join (a refresh
 * reads minutes of every series of a fleet: hundreds of thousands of rows). The runs are those compactRuns makes of
 * the rows one by one.
 */
function pushRows(
  runs: ObservationRun[],
  rows: readonly unknown[][],
  location: string,
  check: string,
  join: RowJoin | undefined,
): void {
  const joined = join !== undefined && inTimeOrder(rows);
  let last: ObservationRun | undefined;
  for (const row of rows) {
    const timeMs = Number(row[0]);
    const up = Number(row[1]) === 1;
    if (joined && last && continuesRun(last, up, timeMs, join.staleAfterMs)) {
      last.lastMs = timeMs;
      last.count++;
      continue;
    }
    last = { location, check, up, firstMs: timeMs, lastMs: timeMs, count: 1 };
    runs.push(last);
  }
}

function inTimeOrder(rows: readonly unknown[][]): boolean {
  let previousMs = Number.NEGATIVE_INFINITY;
  for (const row of rows) {
    const timeMs = Number(row[0]);
    if (timeMs < previousMs) return false;
    previousMs = timeMs;
  }
  return true;
}

/**
 * The row-by-row reads grouped into queries: by time range (InfluxQL takes one time range per query), then at
 * most SERVERS_PER_RAW_READ servers per query, a server's series kept together.
 */
function rawReadBatches(reads: readonly RawRead[]): RawRead[][] {
  const byRange = new Map<string, Map<string, RawRead[]>>();
  for (const read of reads) {
    const rangeKey = `${read.range.fromMs}/${read.range.toMs}`;
    let byServer = byRange.get(rangeKey);
    if (!byServer) {
      byServer = new Map();
      byRange.set(rangeKey, byServer);
    }
    const ofServer = byServer.get(read.server);
    if (ofServer) ofServer.push(read);
    else byServer.set(read.server, [read]);
  }
  const batches: RawRead[][] = [];
  for (const byServer of byRange.values()) {
    const servers = [...byServer.values()];
    for (let i = 0; i < servers.length; i += SERVERS_PER_RAW_READ)
      batches.push(servers.slice(i, i + SERVERS_PER_RAW_READ).flat());
  }
  return batches;
}
