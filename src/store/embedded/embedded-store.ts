// ObservationStore on the embedded SQLite file: the default storage, with no server to run.
import type { Observation, ObservationRun } from '../../sla/types.js';
import type { ObservationStore, RunQuery, WriteResult } from '../store.js';
import { openEmbeddedDatabase, type EmbeddedDatabase } from './database.js';

// Gaps and islands in SQL: a new run starts where the outcome changes or the gap reaches staleAfter, so a
// month of 30 s observations comes back as a handful of runs per series instead of ~90,000 rows.
const RUNS_SQL = `
  WITH ordered AS (
    SELECT location, check_name, time_ms, up,
           LAG(up) OVER series AS prev_up, LAG(time_ms) OVER series AS prev_time
      FROM observations
     WHERE server = @server AND time_ms >= @fromMs AND time_ms < @toMs
    WINDOW series AS (PARTITION BY location, check_name ORDER BY time_ms)
  ), marked AS (
    SELECT location, check_name, time_ms, up,
           SUM(CASE WHEN prev_up IS NULL OR prev_up <> up OR time_ms - prev_time >= @staleAfterMs THEN 1 ELSE 0 END)
             OVER (PARTITION BY location, check_name ORDER BY time_ms ROWS UNBOUNDED PRECEDING) AS run
      FROM ordered
  )
  SELECT location, check_name AS "check", up, MIN(time_ms) AS firstMs, MAX(time_ms) AS lastMs, COUNT(*) AS count
    FROM marked GROUP BY location, check_name, run ORDER BY location, check_name, firstMs`;

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
  private readonly selectRuns;
  private readonly selectObservations;
  private readonly writeBatch;

  constructor(
    private readonly db: EmbeddedDatabase,
    path: string,
  ) {
    this.description = `embedded sqlite ${path}`;
    this.insert = db.prepare(
      'INSERT OR IGNORE INTO observations (server, location, check_name, time_ms, up, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectRuns = db.prepare(RUNS_SQL);
    this.selectObservations = db.prepare('SELECT * FROM observations WHERE server = ? AND time_ms >= ? AND time_ms < ? ORDER BY time_ms, location, check_name');
    this.writeBatch = db.transaction((observations: readonly Observation[]) => {
      let stored = 0;
      for (const o of observations) {
        stored += this.insert.run(o.server, o.location, o.check, o.timeMs, o.up ? 1 : 0, o.latencyMs ?? null, o.error ?? null).changes;
      }
      return stored;
    });
  }

  /** Opens the store at a file path (created with its folder on first use). */
  static open(path: string): EmbeddedObservationStore {
    return new EmbeddedObservationStore(openEmbeddedDatabase(path), path);
  }

  async write(observations: readonly Observation[]): Promise<WriteResult> {
    const stored = this.writeBatch(observations);
    return { stored, duplicates: observations.length - stored };
  }

  async readRuns(query: RunQuery): Promise<Map<string, ObservationRun[]>> {
    const result = new Map<string, ObservationRun[]>();
    for (const server of query.servers) {
      const rows = this.selectRuns.all({ server, fromMs: query.fromMs, toMs: query.toMs, staleAfterMs: query.staleAfterMs }) as (Omit<ObservationRun, 'up'> & { up: number })[];
      result.set(server, rows.map((row) => ({ ...row, up: row.up === 1 })));
    }
    return result;
  }

  async readObservations(server: string, fromMs: number, toMs: number): Promise<Observation[]> {
    return (this.selectObservations.all(server, fromMs, toMs) as ObservationRow[]).map((row) => {
      const observation: Observation = { timeMs: row.time_ms, server: row.server, location: row.location, check: row.check_name, up: row.up === 1 };
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

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
