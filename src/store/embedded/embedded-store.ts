// ObservationStore on the embedded SQLite file: the default storage, with no server to run.
import type { Observation, ObservationRun } from '../../sla/types.js';
import { BUCKET_MS, classifyBuckets, compactRuns, type RunBucket } from '../bucketed-runs.js';
import type { ObservationStore, RunQuery, StoreHealth, WriteResult } from '../store.js';
import { openEmbeddedDatabase, type EmbeddedDatabase } from './database.js';
import { sqliteDataVersion } from '../../sqlite.js';

// A month of 30 s observations is ~90,000 rows per series; the hourly rollup a trigger keeps (database.ts) is
// 744. Clean hours come from it (see bucketed-runs.ts); hours with a failure or a gap, and the hours cut by the
// query's edges, are read row by row.
const HOURS_SQL = `
  SELECT location, check_name AS "check", hour_ms AS startMs, count, first_ms AS firstMs, last_ms AS lastMs,
         ups = count AND unknown_gaps = 0 AND max_gap_ms < @staleAfterMs
           AND hour_ms >= @fromMs AND hour_ms + ${BUCKET_MS} <= @toMs AS clean
    FROM observation_hours
   WHERE server = @server AND hour_ms > @fromMs - ${BUCKET_MS} AND hour_ms < @toMs
   ORDER BY location, check_name, hour_ms`;

interface ObservationRow {
  server: string;
  location: string;
  check_name: string;
  time_ms: number;
  up: number;
  latency_ms: number | null;
  error: string | null;
}

/** The embedded store; `open` creates the file on first use. */
export class EmbeddedObservationStore implements ObservationStore {
  readonly description: string;
  private readonly insert;
  private readonly selectBuckets;
  private readonly selectRange;
  private readonly selectObservations;
  private readonly writeBatch;
  private readonly selectOne;
  private storedTotal = 0;

  constructor(
    private readonly db: EmbeddedDatabase,
    path: string,
  ) {
    this.description = `embedded sqlite ${path}`;
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO observations (server, location, check_name, time_ms, up, latency_ms, error, gap_ms)
       VALUES (@server, @location, @check, @timeMs, @up, @latencyMs, @error,
               @timeMs - (SELECT max(time_ms) FROM observations WHERE server = @server AND location = @location AND check_name = @check AND time_ms < @timeMs))`,
    );
    this.selectBuckets = db.prepare(HOURS_SQL);
    this.selectRange = db
      .prepare(
        'SELECT time_ms, up FROM observations WHERE server = ? AND location = ? AND check_name = ? AND time_ms >= ? AND time_ms < ?',
      )
      .raw();
    this.selectObservations = db.prepare(
      'SELECT * FROM observations WHERE server = ? AND time_ms >= ? AND time_ms < ? ORDER BY time_ms, location, check_name',
    );
    this.selectOne = db.prepare(
      'SELECT up, latency_ms, error FROM observations WHERE server = ? AND location = ? AND check_name = ? AND time_ms = ?',
    );
    // The first value of a key stays (INSERT OR IGNORE); a repeat with another outcome is counted as a conflict.
    this.writeBatch = db.transaction((observations: readonly Observation[]) => {
      const result: WriteResult = { stored: 0, duplicates: 0, conflicts: 0 };
      for (const o of observations) {
        const row = {
          server: o.server,
          location: o.location,
          check: o.check,
          timeMs: o.timeMs,
          up: o.up ? 1 : 0,
          latencyMs: o.latencyMs ?? null,
          error: o.error ?? null,
        };
        if (this.insert.run(row).changes === 1) {
          result.stored++;
          continue;
        }
        const held = this.selectOne.get(o.server, o.location, o.check, o.timeMs) as Pick<
          ObservationRow,
          'up' | 'latency_ms' | 'error'
        >;
        if (held.up === row.up && held.latency_ms === row.latencyMs && held.error === row.error) result.duplicates++;
        else result.conflicts++;
      }
      return result;
    });
  }

  /** Opens the store at a file path (created with its folder on first use). */
  static open(path: string): EmbeddedObservationStore {
    return new EmbeddedObservationStore(openEmbeddedDatabase(path), path);
  }

  async write(observations: readonly Observation[]): Promise<WriteResult> {
    const result = this.writeBatch(observations);
    this.storedTotal += result.stored;
    return result;
  }

  async readRuns(query: RunQuery): Promise<Map<string, ObservationRun[]>> {
    const result = new Map<string, ObservationRun[]>();
    for (const server of query.servers) {
      const buckets = (
        this.selectBuckets.all({
          server,
          fromMs: query.fromMs,
          toMs: query.toMs,
          staleAfterMs: query.staleAfterMs,
        }) as (Omit<RunBucket, 'clean'> & { clean: number })[]
      ).map((b) => ({ ...b, clean: b.clean === 1 }));
      const { runs, dirty } = classifyBuckets(buckets, query);
      for (const range of dirty) {
        for (const [timeMs, up] of this.selectRange.all(
          server,
          range.location,
          range.check,
          range.fromMs,
          range.toMs,
        ) as [number, number][]) {
          runs.push({
            location: range.location,
            check: range.check,
            up: up === 1,
            firstMs: timeMs,
            lastMs: timeMs,
            count: 1,
          });
        }
      }
      result.set(server, compactRuns(runs, query.staleAfterMs));
    }
    return result;
  }

  async readObservations(server: string, fromMs: number, toMs: number): Promise<Observation[]> {
    return (this.selectObservations.all(server, fromMs, toMs) as ObservationRow[]).map((row) => {
      const observation: Observation = {
        timeMs: row.time_ms,
        server: row.server,
        location: row.location,
        check: row.check_name,
        up: row.up === 1,
      };
      if (row.latency_ms !== null) observation.latencyMs = row.latency_ms;
      if (row.error !== null) observation.error = row.error;
      return observation;
    });
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async backlog(): Promise<number> {
    return 0;
  }

  health(): StoreHealth {
    return { waiting: 0, parked: 0, remoteWriteErrorsTotal: 0, confirmedTotal: this.storedTotal };
  }

  writesByOthersVersion(): number {
    return sqliteDataVersion(this.db);
  }

  earliestUnconfirmedMs(): undefined {
    return undefined; // a write returns once committed to this file
  }

  async drain(): Promise<boolean> {
    return true;
  }

  async unconfirmed(): Promise<{ waiting: number; parked: number }> {
    return { waiting: 0, parked: 0 }; // a write returns once committed to this file
  }

  async earliestObservationMs(): Promise<number | undefined> {
    const row = this.db.prepare('SELECT min(first_ms) AS first FROM observation_hours').get() as {
      first: number | null;
    };
    return row.first ?? undefined;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
