// ObservationStore on InfluxDB, with the embedded SQLite file as a durable outbox in front of it.
//
// write() commits line protocol to the outbox and returns; a forwarder sends batches through the client
// library's WriteApi and deletes a batch only after InfluxDB confirmed it. InfluxDB down, the daemon restarted,
// a batch rejected: nothing is lost. Re-sent lines carry the same series and timestamp, so InfluxDB overwrites
// instead of duplicating: at-least-once delivery gives exactly-once storage.
//
// Reads push aggregation into InfluxQL: each line also carries `gap_ms` (ms since the previous observation of
// its series; -1 when this one is down, or the gap is unknown or out of order). Hourly count/min/max of gap_ms
// come back per series; bucketed-runs.ts turns clean buckets into runs and names the hours to read row by row.
// The result equals the embedded store's runs for the same data.
import { InfluxDB, Point, type WriteApi } from '@influxdata/influxdb-client';
import { mapWithLimit } from '../../concurrency.js';
import type { Logger } from '../../logging.js';
import type { Observation, ObservationRun } from '../../sla/types.js';
import { lineProtocolTimeMs, openEmbeddedDatabase, type EmbeddedDatabase } from '../embedded/database.js';
import { classifyBuckets, compactRuns, compareText, type DirtyRange } from '../bucketed-runs.js';
import type { ObservationStore, RunQuery, WriteResult } from '../store.js';
import type { InfluxConnection } from './connection.js';
import { InfluxQLClient, quoteIdentifier, quoteString, type InfluxSeries } from './influxql.js';
import { UndiciInfluxTransport } from './transport.js';

const EMPTY_CHECK = '-'; // InfluxDB drops tags with empty values
const MAX_BACKOFF_MS = 30_000;
/** Row-by-row reads of one readRuns in flight at once. */
const RAW_READS_IN_FLIGHT = 4;

export interface OutboxStats {
  backlog: number;
  sentTotal: number;
  writeErrorsTotal: number;
  rejectedTotal: number;
  lastSuccessMs?: number;
}

interface OutboxRow {
  id: number;
  line: string;
}

const seriesKey = (o: Pick<Observation, 'server' | 'location' | 'check'>) => `${o.server}\u0000${o.location}\u0000${o.check}`;

export class OutboxedInfluxStore implements ObservationStore {
  readonly description: string;
  private readonly writeApi: WriteApi;
  private readonly transport: UndiciInfluxTransport;
  private readonly influxql: InfluxQLClient;
  private readonly lastTime = new Map<string, number>();
  private running = true;
  private wake?: () => void;
  private readonly forwarder: Promise<void>;
  private readonly counters = { sentTotal: 0, writeErrorsTotal: 0, rejectedTotal: 0, lastSuccessMs: undefined as number | undefined };
  private readonly statements;
  /** What readRuns did since the store opened: buckets answered by aggregates, rows read one by one, and time. */
  readonly readStats = { aggregateQueries: 0, aggregateMs: 0, aggregatedBuckets: 0, rawQueries: 0, rawMs: 0, rawRows: 0 };

  constructor(
    private readonly db: EmbeddedDatabase,
    private readonly connection: InfluxConnection,
    private readonly logger: Logger,
    private readonly batchSize: number,
  ) {
    this.description = `influxdb (apiVersion ${connection.apiVersion}) at ${connection.url}, outbox ${db.name}`;
    this.transport = new UndiciInfluxTransport(connection);
    this.influxql = new InfluxQLClient(connection);
    this.writeApi = new InfluxDB({ url: connection.url, transport: this.transport }).getWriteApi(connection.org, connection.bucket, 'ms', {
      batchSize: batchSize + 1, // we flush explicitly, one outbox batch at a time
      flushInterval: 0,
      maxRetries: 0, // the outbox retries; the library's retry buffer would drop lines when it overflows
      writeFailed: (error) => Promise.reject(error),
    });
    this.statements = {
      insert: db.prepare('INSERT INTO influx_outbox (line, time_ms) VALUES (?, ?)'),
      lastOf: db.prepare('SELECT last_ms FROM influx_series_last WHERE series = ?'),
      setLast: db.prepare('INSERT INTO influx_series_last (series, last_ms) VALUES (?, ?) ON CONFLICT(series) DO UPDATE SET last_ms = excluded.last_ms'),
      batch: db.prepare('SELECT id, line FROM influx_outbox ORDER BY id LIMIT ?'),
      remove: db.prepare('DELETE FROM influx_outbox WHERE id = ?'),
      removeRange: db.prepare('DELETE FROM influx_outbox WHERE id >= ? AND id <= ?'),
      reject: db.prepare('INSERT INTO influx_rejected (line, reason, at_ms, time_ms) VALUES (?, ?, ?, ?)'),
      count: db.prepare('SELECT count(*) AS n FROM influx_outbox'),
      // A line queued before its time was recorded (NULL) counts as inside every range.
      waitingIn: db.prepare('SELECT count(*) AS n FROM influx_outbox WHERE (time_ms >= ? AND time_ms < ?) OR time_ms IS NULL'),
      parkedIn: db.prepare('SELECT count(*) AS n FROM influx_rejected WHERE (time_ms >= ? AND time_ms < ?) OR time_ms IS NULL'),
      earliestWaiting: db.prepare('SELECT min(time_ms) AS t FROM influx_outbox'),
    };
    this.forwarder = this.forwardLoop();
  }

  /** Opens the outbox at `outboxPath` and starts forwarding to InfluxDB. */
  static open(outboxPath: string, connection: InfluxConnection, logger: Logger, batchSize = 5_000): OutboxedInfluxStore {
    return new OutboxedInfluxStore(openEmbeddedDatabase(outboxPath), connection, logger, batchSize);
  }

  /** The line protocol of one observation, with its gap to the previous one of its series. */
  toLine(observation: Observation, gapMs: number): string {
    const point = new Point(this.connection.measurement)
      .tag('server', observation.server)
      .tag('location', observation.location)
      .tag('check', observation.check === '' ? EMPTY_CHECK : observation.check)
      .intField('up', observation.up ? 1 : 0)
      .intField('gap_ms', gapMs)
      .timestamp(observation.timeMs);
    if (observation.latencyMs !== undefined) point.intField('latency_ms', observation.latencyMs);
    if (observation.error !== undefined) point.stringField('error', observation.error);
    return point.toLineProtocol()!;
  }

  async write(observations: readonly Observation[]): Promise<WriteResult> {
    // Last times advanced by this write; they reach this.lastTime only once the transaction committed, so a
    // failed write cannot make a later gap look shorter than it is.
    const advanced = new Map<string, number>();
    this.db.transaction(() => {
      for (const o of observations) {
        const key = seriesKey(o);
        let last = advanced.get(key) ?? this.lastTime.get(key);
        if (last === undefined) last = (this.statements.lastOf.get(key) as { last_ms: number } | undefined)?.last_ms;
        const gapMs = last !== undefined && o.timeMs > last ? o.timeMs - last : -1;
        if (last === undefined || o.timeMs > last) advanced.set(key, o.timeMs);
        // A down observation's gap is written as -1 too: min(gap_ms) >= 0 then says "all up, all in order".
        this.statements.insert.run(this.toLine(o, o.up ? gapMs : -1), o.timeMs);
      }
      for (const [key, lastMs] of advanced) this.statements.setLast.run(key, lastMs);
    })();
    for (const [key, lastMs] of advanced) this.lastTime.set(key, lastMs);
    this.wake?.();
    // InfluxDB overwrites a repeated point (same series and time), so a repeat is stored once there.
    return { stored: observations.length, duplicates: 0 };
  }

  private async forwardLoop(): Promise<void> {
    let backoffMs = 500;
    while (this.running) {
      const rows = this.statements.batch.all(this.batchSize) as OutboxRow[];
      if (rows.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1_000);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        continue;
      }
      const ok = await this.sendRows(rows);
      if (ok) backoffMs = 500;
      else {
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
      }
    }
  }

  /** Sends rows; deletes them once confirmed. A 400 is bisected down to the bad lines, which are parked. */
  private async sendRows(rows: OutboxRow[]): Promise<boolean> {
    try {
      this.writeApi.writeRecords(rows.map((r) => r.line));
      await this.writeApi.flush();
      this.statements.removeRange.run(rows[0]!.id, rows[rows.length - 1]!.id);
      this.counters.sentTotal += rows.length;
      this.counters.lastSuccessMs = Date.now();
      return true;
    } catch (error) {
      this.counters.writeErrorsTotal++;
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 400) {
        if (rows.length === 1) {
          const reason = String((error as { body?: string }).body ?? (error as Error).message).slice(0, 500);
          this.db.transaction(() => {
            this.statements.reject.run(rows[0]!.line, reason, Date.now(), lineProtocolTimeMs(rows[0]!.line) ?? null);
            this.statements.remove.run(rows[0]!.id);
          })();
          this.counters.rejectedTotal++;
          this.logger.error({ line: rows[0]!.line, reason }, 'InfluxDB rejected an observation; parked in influx_rejected');
          return true;
        }
        const half = Math.ceil(rows.length / 2);
        const first = await this.sendRows(rows.slice(0, half));
        return first && (await this.sendRows(rows.slice(half)));
      }
      this.logger.warn({ err: error, backlog: this.backlogNow() }, 'InfluxDB write failed; observations stay in the outbox');
      return false;
    }
  }

  private backlogNow(): number {
    return (this.statements.count.get() as { n: number }).n;
  }

  async backlog(): Promise<number> {
    return this.backlogNow();
  }

  async unconfirmed(fromMs: number, toMs: number): Promise<{ waiting: number; parked: number }> {
    this.wake?.(); // someone waits for these: forward now rather than at the next tick
    return { waiting: (this.statements.waitingIn.get(fromMs, toMs) as { n: number }).n, parked: (this.statements.parkedIn.get(fromMs, toMs) as { n: number }).n };
  }

  async earliestObservationMs(): Promise<number | undefined> {
    const waiting = (this.statements.earliestWaiting.get() as { t: number | null }).t ?? undefined;
    const [series] = await this.selectSeries(`SELECT first("up") FROM ${quoteIdentifier(this.connection.measurement)}`);
    const stored = series?.values[0]?.[0];
    const times = [waiting, stored === undefined || stored === null ? undefined : Number(stored)].filter((t): t is number => t !== undefined);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** Counters for metrics and logs. */
  stats(): OutboxStats {
    return { backlog: this.backlogNow(), ...this.counters };
  }

  /** Waits until the outbox is empty (or the deadline passes); true when everything was confirmed. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.backlogNow() > 0 && Date.now() < deadline) {
      this.wake?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.backlogNow() === 0;
  }

  private async selectSeries(statement: string): Promise<InfluxSeries[]> {
    return this.influxql.query(statement);
  }

  // Reads see what InfluxDB has confirmed; a month close first waits for the outbox (unconfirmed()).
  async readRuns(query: RunQuery): Promise<Map<string, ObservationRun[]>> {
    const result = new Map<string, ObservationRun[]>(query.servers.map((s) => [s, []]));
    if (query.servers.length === 0) return result;
    const m = quoteIdentifier(this.connection.measurement);
    const serverFilter = `(${query.servers.map((s) => `"server" = ${quoteString(s)}`).join(' OR ')})`;
    const timeFilter = `time >= ${query.fromMs}ms AND time < ${query.toMs}ms`;
    let startedMs = performance.now();
    const aggregates = await this.selectSeries(
      // One field aggregated: InfluxDB scans a field per aggregated field, and this is the whole month's data.
      `SELECT count("gap_ms") AS n, min("gap_ms") AS min_gap, max("gap_ms") AS max_gap FROM ${m} WHERE ${serverFilter} AND ${timeFilter} GROUP BY time(1h), "server", "location", "check" fill(none)`,
    );
    this.readStats.aggregateQueries++;
    this.readStats.aggregateMs += performance.now() - startedMs;
    const rawReads: { server: string; checkTag: string; range: DirtyRange; runs: ObservationRun[] }[] = [];
    for (const series of aggregates) {
      const server = series.tags?.server ?? '';
      const location = series.tags?.location ?? '';
      const checkTag = series.tags?.check ?? EMPTY_CHECK;
      const check = checkTag === EMPTY_CHECK ? '' : checkTag;
      const runs = result.get(server);
      if (!runs) continue;
      const col = (name: string) => series.columns.indexOf(name);
      const [iTime, iN, iMinGap, iMaxGap] = ['time', 'n', 'min_gap', 'max_gap'].map(col) as number[];
      const buckets = series.values.map((row) => ({
        location,
        check,
        startMs: Number(row[iTime!]),
        count: Number(row[iN!]),
        // -1 marks a down observation or a gap unknown when written.
        clean: Number(row[iMinGap!]) >= 0 && Number(row[iMaxGap!]) < query.staleAfterMs,
      }));
      const classified = classifyBuckets(buckets, query);
      runs.push(...classified.runs);
      this.readStats.aggregatedBuckets += classified.aggregated;
      for (const range of classified.dirty) rawReads.push({ server, checkTag, range, runs });
    }
    // The row-by-row reads are many small queries: a few in flight at once hide their round trips.
    startedMs = performance.now();
    await mapWithLimit(rawReads, RAW_READS_IN_FLIGHT, async ({ server, checkTag, range, runs }) => {
      const rows = await this.selectSeries(
        `SELECT "up" FROM ${m} WHERE "server" = ${quoteString(server)} AND "location" = ${quoteString(range.location)} AND "check" = ${quoteString(checkTag)} AND time >= ${range.fromMs}ms AND time < ${range.toMs}ms`,
      );
      for (const s of rows) {
        for (const row of s.values) runs.push({ location: range.location, check: range.check, up: Number(row[1]) === 1, firstMs: Number(row[0]), lastMs: Number(row[0]), count: 1 });
        this.readStats.rawRows += s.values.length;
      }
    });
    this.readStats.rawQueries += rawReads.length;
    this.readStats.rawMs += performance.now() - startedMs;
    for (const [server, runs] of result) result.set(server, compactRuns(runs, query.staleAfterMs));
    return result;
  }

  async readObservations(server: string, fromMs: number, toMs: number): Promise<Observation[]> {
    await this.drain(2_000);
    const series = await this.selectSeries(
      `SELECT "up", "latency_ms", "error" FROM ${quoteIdentifier(this.connection.measurement)} WHERE "server" = ${quoteString(server)} AND time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY "location", "check"`,
    );
    const observations: Observation[] = [];
    for (const s of series) {
      const checkTag = s.tags?.check ?? EMPTY_CHECK;
      for (const row of s.values) {
        const o: Observation = { timeMs: Number(row[0]), server, location: s.tags?.location ?? '', check: checkTag === EMPTY_CHECK ? '' : checkTag, up: Number(row[1]) === 1 };
        if (row[2] !== null && row[2] !== undefined) o.latencyMs = Number(row[2]);
        if (row[3] !== null && row[3] !== undefined) o.error = String(row[3]);
        observations.push(o);
      }
    }
    return observations.sort((a, b) => a.timeMs - b.timeMs || compareText(a.location, b.location) || compareText(a.check, b.check));
  }

  async ping(): Promise<void> {
    await this.influxql.ping();
  }

  /** The server's version (from /ping), to say at start which generation we talk to. */
  async version(): Promise<string> {
    return this.influxql.ping();
  }

  async close(): Promise<void> {
    if (!this.running) return;
    await this.drain(5_000); // flush what we can; the rest stays in the outbox for the next start
    this.running = false;
    this.wake?.();
    await this.forwarder;
    await this.writeApi.close().catch(() => undefined);
    await this.transport.close();
    await this.influxql.close();
    if (this.db.open) this.db.close();
  }
}
