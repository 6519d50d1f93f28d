// ObservationStore on InfluxDB, with the embedded SQLite file as a durable outbox in front of it. This class
// only composes the parts, each in its own module:
//   outbox.ts         the queue of lines and the last time of each series, in one SQLite file
//   forwarder.ts      sends batches and deletes a batch only after InfluxDB confirmed it (line-writer.ts)
//   repeated-keys.ts  one key, one value (store.ts): a line that may repeat a key is checked first
//   run-reader.ts     runs and observations read back with InfluxQL
// InfluxDB down, the daemon restarted, a batch rejected: nothing is lost. Re-sent lines carry the same series and
// timestamp, so InfluxDB overwrites instead of duplicating: at-least-once delivery gives exactly-once storage.
import type { Logger } from '../../logging.js';
import type { Observation, ObservationRun } from '../../sla/types.js';
import { openEmbeddedDatabase } from '../embedded/database.js';
import type { ObservationStore, RunQuery, StoreHealth, WriteResult } from '../store.js';
import type { InfluxConnection } from './connection.js';
import { startForwarder, type Forwarder } from './forwarder.js';
import { InfluxQLClient } from './influxql.js';
import { hourMark } from './gap-marks.js';
import { observationLine, seriesOf } from './line-protocol.js';
import { createLineWriter, type LineWriter } from './line-writer.js';
import { CHUNK_LINES, InfluxOutbox, type QueuedLine } from './outbox.js';
import { keyText, mayRepeat, outcomeOf, RepeatedKeys } from './repeated-keys.js';
import { InfluxRunReader } from './run-reader.js';

/** A series' key in the outbox's table of last times (the form outbox files have always used). */
export const lastTimeKey = (o: Pick<Observation, 'server' | 'location' | 'check'>) =>
  `${o.server}\u0000${o.location}\u0000${o.check}`;

/** Lines per request to InfluxDB when the options name none (the configuration's default is the same). */
const DEFAULT_BATCH_SIZE = 5_000;

export interface InfluxWriterOptions {
  /** Lines per request to InfluxDB (default 5,000). */
  batchSize?: number;
  /** The writer's floor for its gap marks (gap-marks.ts): its staleAfter. */
  gapFloorMs: number;
  /** The forwarder's first and longest wait between failed writes (default 0.5 s doubling to 30 s; tests set it). */
  forwarderBackoff?: { firstMs: number; maxMs: number };
}

export class OutboxedInfluxStore implements ObservationStore {
  readonly description: string;
  private readonly influxql: InfluxQLClient;
  private readonly writer: LineWriter;
  private readonly forwarder: Forwarder;
  private readonly repeatedKeys: RepeatedKeys;
  private readonly reader: InfluxRunReader;
  private readonly gapFloorMs: number;
  /**
   * The hour (hourOf) of the last finite gap mark this process queued, by series (lastTimeKey): the first point this
   * process stores in an hour of a series is marked with at least the floor less 1 ms (gap-marks.ts says why).
   */
  private readonly markedHours = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly outbox: InfluxOutbox,
    private readonly connection: InfluxConnection,
    private readonly logger: Logger,
    options: InfluxWriterOptions,
  ) {
    this.gapFloorMs = options.gapFloorMs;
    this.description = `influxdb (apiVersion ${connection.apiVersion}) at ${connection.url}, outbox ${outbox.name}`;
    this.influxql = new InfluxQLClient(connection);
    this.writer = createLineWriter(connection);
    const select = (statement: string) => this.influxql.query(statement);
    this.reader = new InfluxRunReader(select, connection.measurement);
    this.repeatedKeys = new RepeatedKeys(outbox, select, connection.measurement, logger);
    this.forwarder = startForwarder({
      outbox,
      writer: this.writer,
      logger,
      batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
      checkRepeats: (rows) => this.repeatedKeys.checkQueued(rows),
      backoff: options.forwarderBackoff,
      answers: () => this.ping().then(() => true),
    });
  }

  /** Opens the outbox at `outboxPath` and starts forwarding to InfluxDB. */
  static open(
    outboxPath: string,
    connection: InfluxConnection,
    logger: Logger,
    options: InfluxWriterOptions,
  ): OutboxedInfluxStore {
    // A chunk larger than a batch would be sent a part at a time, one batch in flight (forwarder.ts).
    const chunkLines = Math.min(CHUNK_LINES, options.batchSize ?? DEFAULT_BATCH_SIZE);
    const outbox = new InfluxOutbox(openEmbeddedDatabase(outboxPath), { chunkLines });
    return new OutboxedInfluxStore(outbox, connection, logger, options);
  }

  async write(observations: readonly Observation[]): Promise<WriteResult> {
    const nowMs = Date.now();
    const lines: (QueuedLine & { series: string; outcome: string; mayRepeat: boolean })[] = [];
    // Last times advanced by this write; the outbox stores them in the same transaction as the lines.
    const advanced = new Map<string, number>();
    // Hours marked by lines of this write: committed to markedHours only once the lines are queued.
    const marking = new Map<string, number>();
    for (const o of observations) {
      const lastKey = lastTimeKey(o);
      const last = advanced.get(lastKey) ?? this.outbox.lastTimeOf(lastKey);
      if (last === undefined || o.timeMs > last) advanced.set(lastKey, o.timeMs);
      const { mark, marksHour } = hourMark(
        o.timeMs,
        o.up,
        last,
        this.gapFloorMs,
        marking.get(lastKey) ?? this.markedHours.get(lastKey),
      );
      if (marksHour !== undefined) marking.set(lastKey, marksHour);
      const line = observationLine(this.connection.measurement, o, mark);
      lines.push({
        line,
        timeMs: o.timeMs,
        verify: false,
        series: seriesOf(line),
        outcome: outcomeOf(o),
        mayRepeat: mayRepeat(last, o.timeMs, nowMs),
      });
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
    for (const [series, hour] of marking)
      this.markedHours.set(series, Math.max(hour, this.markedHours.get(series) ?? hour));
    if (conflicts.length > 0)
      this.logger.warn(
        { conflicts: conflicts.length, line: conflicts[0] },
        'observations repeat a stored key with a different outcome; the stored value stays',
      );
    this.forwarder.wake();
    return result;
  }

  async backlog(): Promise<number> {
    return this.outbox.waitingCount();
  }

  health(): StoreHealth {
    const f = this.forwarder.health();
    const health: StoreHealth = {
      waiting: this.outbox.waitingCount(),
      parked: this.outbox.parkedCount(),
      remoteWriteErrorsTotal: f.writeErrorsTotal,
      confirmedTotal: this.outbox.confirmedTotal,
    };
    const oldest = this.outbox.oldestQueuedMs();
    if (oldest !== undefined) health.oldestWaitingSinceMs = oldest;
    if (f.lastSuccessMs !== undefined) health.lastRemoteWriteMs = f.lastSuccessMs;
    if (f.problem !== undefined) health.remoteProblem = f.problem;
    return health;
  }

  earliestUnconfirmedMs(): number | undefined {
    return this.outbox.earliestUnconfirmedMs();
  }

  async unconfirmed(fromMs: number, toMs: number): Promise<{ waiting: number; parked: number }> {
    this.forwarder.wake(); // someone waits for these: forward now rather than at the next tick
    return this.outbox.unconfirmedIn(fromMs, toMs);
  }

  async earliestObservationMs(): Promise<number | undefined> {
    const times = [this.outbox.earliestWaitingMs(), await this.reader.earliestMs()].filter(
      (t): t is number => t !== undefined,
    );
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

  // Reads see what InfluxDB has confirmed; a month close first waits for the outbox (unconfirmed()).
  async readRuns(query: RunQuery): Promise<Map<string, ObservationRun[]>> {
    return this.reader.readRuns(query);
  }

  async readEveryServer(range: Omit<RunQuery, 'servers'>): Promise<Map<string, ObservationRun[]>> {
    return this.reader.readEveryServer(range);
  }

  async readObservations(server: string, fromMs: number, toMs: number): Promise<Observation[]> {
    await this.drain(2_000);
    return this.reader.readObservations(server, fromMs, toMs);
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
