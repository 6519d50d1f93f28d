// ObservationStore on InfluxDB, with the embedded SQLite file as a durable outbox in front of it.
//
// write() commits line protocol to the outbox (outbox.ts) and returns; the forwarder (forwarder.ts) sends batches
// and deletes a batch only after InfluxDB confirmed it. InfluxDB down, the daemon restarted, a batch rejected:
// nothing is lost. Re-sent lines carry the same series and timestamp, so InfluxDB overwrites instead of
// duplicating: at-least-once delivery gives exactly-once storage.
//
// One key, one value (store.ts): a line that may repeat a key is checked first (repeated-keys.ts).
//
// Reads push aggregation into InfluxQL: each line also carries `gap_ms` (ms since the previous observation of
// its series; -1 when this one is down, or the gap is unknown or out of order). Hourly count/min/max of gap_ms
// come back per series; bucketed-runs.ts turns clean buckets into runs and names the hours to read row by row.
// The result equals the embedded store's runs for the same data.
import { Point } from '@influxdata/influxdb-client';
import { mapWithLimit } from '../../concurrency.js';
import type { Logger } from '../../logging.js';
import type { Observation, ObservationRun } from '../../sla/types.js';
import { openEmbeddedDatabase } from '../embedded/database.js';
import { classifyBuckets, compactRuns, compareText, type DirtyRange } from '../bucketed-runs.js';
import type { ObservationStore, RunQuery, StoreHealth, WriteResult } from '../store.js';
import type { InfluxConnection } from './connection.js';
import { startForwarder, type Forwarder } from './forwarder.js';
import { InfluxQLClient, quoteIdentifier, quoteString, type InfluxSeries } from './influxql.js';
import { EMPTY_CHECK, seriesOf } from './line-protocol.js';
import { createLineWriter, type LineWriter } from './line-writer.js';
import { InfluxOutbox, type QueuedLine } from './outbox.js';
import { keyText, mayRepeat, outcomeOf, RepeatedKeys } from './repeated-keys.js';

/** Row-by-row reads of one readRuns in flight at once. */
const RAW_READS_IN_FLIGHT = 4;

/** A series' key in the outbox's table of last times (the form outbox files have always used). */
const lastTimeKey = (o: Pick<Observation, 'server' | 'location' | 'check'>) => `${o.server}\u0000${o.location}\u0000${o.check}`;

export class OutboxedInfluxStore implements ObservationStore {
  readonly description: string;
  private readonly influxql: InfluxQLClient;
  private readonly writer: LineWriter;
  private readonly forwarder: Forwarder;
  private readonly repeatedKeys: RepeatedKeys;
  private closed = false;
  /** What readRuns did since the store opened: buckets answered by aggregates, rows read one by one, and time. */
  readonly readStats = { aggregateQueries: 0, aggregateMs: 0, aggregatedBuckets: 0, rawQueries: 0, rawMs: 0, rawRows: 0 };

  constructor(
    private readonly outbox: InfluxOutbox,
    private readonly connection: InfluxConnection,
    private readonly logger: Logger,
    batchSize: number,
  ) {
    this.description = `influxdb (apiVersion ${connection.apiVersion}) at ${connection.url}, outbox ${outbox.name}`;
    this.influxql = new InfluxQLClient(connection);
    this.writer = createLineWriter(connection);
    this.repeatedKeys = new RepeatedKeys(outbox, (statement) => this.selectSeries(statement), connection.measurement, logger);
    this.forwarder = startForwarder({ outbox, writer: this.writer, logger, batchSize, checkRepeats: (rows) => this.repeatedKeys.checkQueued(rows) });
  }

  /** Opens the outbox at `outboxPath` and starts forwarding to InfluxDB. */
  static open(outboxPath: string, connection: InfluxConnection, logger: Logger, batchSize = 5_000): OutboxedInfluxStore {
    return new OutboxedInfluxStore(new InfluxOutbox(openEmbeddedDatabase(outboxPath)), connection, logger, batchSize);
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
    const nowMs = Date.now();
    const lines: (QueuedLine & { series: string; outcome: string; mayRepeat: boolean })[] = [];
    // Last times advanced by this write; the outbox stores them in the same transaction as the lines.
    const advanced = new Map<string, number>();
    for (const o of observations) {
      const lastKey = lastTimeKey(o);
      const last = advanced.get(lastKey) ?? this.outbox.lastTimeOf(lastKey);
      const gapMs = last !== undefined && o.timeMs > last ? o.timeMs - last : -1;
      if (last === undefined || o.timeMs > last) advanced.set(lastKey, o.timeMs);
      // A down observation's gap is written as -1 too: min(gap_ms) >= 0 then says "all up, all in order".
      const line = this.toLine(o, o.up ? gapMs : -1);
      lines.push({ line, timeMs: o.timeMs, verify: false, series: seriesOf(line), outcome: outcomeOf(o), mayRepeat: mayRepeat(last, o.timeMs, nowMs) });
    }
    const result: WriteResult = { stored: 0, duplicates: 0, conflicts: 0 };
    const held = await this.repeatedKeys.held(lines.filter((l) => l.mayRepeat));
    const queued: QueuedLine[] = [];
    const conflicts: string[] = [];
    for (const l of lines) {
      const key = keyText(l.series, l.timeMs);
      const existing = held.outcomes.get(key);
      if (existing === undefined) {
        queued.push({ line: l.line, timeMs: l.timeMs, verify: l.mayRepeat && !held.sawInflux });
        held.outcomes.set(key, l.outcome); // a repeat later in this same write is a repeat of this one
        result.stored++;
      } else if (existing === l.outcome) result.duplicates++;
      else {
        result.conflicts++;
        conflicts.push(l.line);
      }
    }
    this.outbox.enqueue(queued, advanced, nowMs);
    if (conflicts.length > 0) this.logger.warn({ conflicts: conflicts.length, line: conflicts[0] }, 'observations repeat a stored key with a different outcome; the stored value stays');
    this.forwarder.wake();
    return result;
  }

  async backlog(): Promise<number> {
    return this.outbox.waitingCount();
  }

  health(): StoreHealth {
    const f = this.forwarder.health();
    const health: StoreHealth = { waiting: this.outbox.waitingCount(), parked: this.outbox.parkedCount(), remoteWriteErrorsTotal: f.writeErrorsTotal };
    const oldest = this.outbox.oldestQueuedMs();
    if (oldest !== undefined) health.oldestWaitingSinceMs = oldest;
    if (f.lastSuccessMs !== undefined) health.lastRemoteWriteMs = f.lastSuccessMs;
    if (f.problem !== undefined) health.remoteProblem = f.problem;
    return health;
  }

  async unconfirmed(fromMs: number, toMs: number): Promise<{ waiting: number; parked: number }> {
    this.forwarder.wake(); // someone waits for these: forward now rather than at the next tick
    return this.outbox.unconfirmedIn(fromMs, toMs);
  }

  async earliestObservationMs(): Promise<number | undefined> {
    const waiting = this.outbox.earliestWaitingMs();
    const [series] = await this.selectSeries(`SELECT first("up") FROM ${quoteIdentifier(this.connection.measurement)}`);
    const stored = series?.values[0]?.[0];
    const times = [waiting, stored === undefined || stored === null ? undefined : Number(stored)].filter((t): t is number => t !== undefined);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** The outbox itself, for `uptime-credits outbox` (what waits, what is parked, retry). */
  get queue(): InfluxOutbox {
    return this.outbox;
  }

  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.outbox.waitingCount() > 0 && Date.now() < deadline) {
      this.forwarder.wake();
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.outbox.waitingCount() === 0;
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
    if (this.closed) return;
    this.closed = true;
    // Forward what InfluxDB takes in a few seconds; the rest stays in the outbox for the next start.
    if (!this.forwarder.health().problem) await this.drain(5_000);
    await this.forwarder.stop();
    await this.writer.close();
    await this.influxql.close();
    this.outbox.close();
  }
}

