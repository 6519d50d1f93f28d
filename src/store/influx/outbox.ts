// The durable outbox in front of InfluxDB, in the embedded SQLite file: lines wait here until InfluxDB confirmed
// them, lines InfluxDB refused by name are parked here, and each series' last time (for the gap marks) is kept here.
// The one owner of those tables; the forwarder and the store go through it.
import type { EmbeddedDatabase } from '../embedded/database.js';
import { lineProtocolTimeMs } from '../embedded/database.js';

export interface OutboxRow {
  id: number;
  line: string;
  /** The line may repeat a key InfluxDB holds: check before sending (see InfluxOutbox.enqueue). */
  verify: boolean;
}

/** Waiting lines read as one request body: every id from firstId to lastId, none to verify. */
export interface OutboxRun {
  firstId: number;
  lastId: number;
  count: number;
  /** The lines joined by line breaks, as UTF-8 bytes straight from SQLite: no string per line is made. */
  body: Buffer;
}

export interface ParkedRow {
  id: number;
  line: string;
  reason: string;
  atMs: number;
}

export interface QueuedLine {
  line: string;
  timeMs: number;
  verify: boolean;
}

type StoredRow = { id: number; line: string; verify: number };
const outboxRow = (r: StoredRow): OutboxRow => ({ id: r.id, line: r.line, verify: r.verify === 1 });

export class InfluxOutbox {
  private readonly statements;
  /** Last times already read or committed by this process: the probe loop asks for every observation. */
  private readonly lastTimes = new Map<string, number>();
  /** Lines that left the queue as confirmed since this outbox was opened (an agent's heartbeat reports it). */
  private confirmed = 0;

  constructor(private readonly db: EmbeddedDatabase) {
    this.statements = {
      insert: db.prepare('INSERT INTO influx_outbox (line, time_ms, queued_ms, verify) VALUES (?, ?, ?, ?)'),
      lastOf: db.prepare('SELECT last_ms FROM influx_series_last WHERE series = ?').pluck(),
      setLast: db.prepare(
        'INSERT INTO influx_series_last (series, last_ms) VALUES (?, ?) ON CONFLICT(series) DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)',
      ),
      next: db.prepare('SELECT id, line, verify FROM influx_outbox WHERE id > ? ORDER BY id LIMIT ?'),
      // No ORDER BY inside group_concat (sorting the batch again was ~45 % of this read) and no check for line
      // breaks inside lines: the body's order is not relied on (see runAfter).
      run: db.prepare(
        `SELECT min(id) AS firstId, max(id) AS lastId, count(*) AS count, sum(verify) AS verify,
                CAST(group_concat(line, char(10)) AS BLOB) AS body
           FROM (SELECT id, line, verify FROM influx_outbox WHERE id > ? ORDER BY id LIMIT ?)`,
      ),
      between: db.prepare('SELECT id, line, verify FROM influx_outbox WHERE id >= ? AND id <= ? ORDER BY id'),
      remove: db.prepare('DELETE FROM influx_outbox WHERE id = ?'),
      removeRange: db.prepare('DELETE FROM influx_outbox WHERE id >= ? AND id <= ?'),
      park: db.prepare('INSERT INTO influx_rejected (line, reason, at_ms, time_ms) VALUES (?, ?, ?, ?)'),
      count: db.prepare("SELECT n FROM influx_counts WHERE name = 'waiting'").pluck(),
      // Kept per statement, in the writing statement's transaction (the file is shared by processes: no count in
      // memory; a trigger per row cost ~40 % of deleting a confirmed batch).
      addWaiting: db.prepare("UPDATE influx_counts SET n = n + ? WHERE name = 'waiting'"),
      addParked: db.prepare("UPDATE influx_counts SET n = n + ? WHERE name = 'parked'"),
      oldestQueued: db.prepare('SELECT coalesce(queued_ms, time_ms) FROM influx_outbox ORDER BY id LIMIT 1').pluck(),
      parkedCount: db.prepare("SELECT n FROM influx_counts WHERE name = 'parked'").pluck(),
      parked: db.prepare('SELECT id, line, reason, at_ms AS atMs FROM influx_rejected ORDER BY id LIMIT ?'),
      requeueParked: db.prepare(
        'INSERT INTO influx_outbox (line, time_ms, queued_ms, verify) SELECT line, time_ms, ?, 1 FROM influx_rejected ORDER BY id',
      ),
      clearParked: db.prepare('DELETE FROM influx_rejected'),
      waitingAt: db.prepare('SELECT line FROM influx_outbox WHERE time_ms = ?').pluck(),
      // A line queued before its time was recorded (NULL) counts as inside every range.
      waitingIn: db
        .prepare('SELECT count(*) FROM influx_outbox WHERE (time_ms >= ? AND time_ms < ?) OR time_ms IS NULL')
        .pluck(),
      parkedIn: db
        .prepare('SELECT count(*) FROM influx_rejected WHERE (time_ms >= ? AND time_ms < ?) OR time_ms IS NULL')
        .pluck(),
      earliestWaiting: db.prepare('SELECT min(time_ms) FROM influx_outbox').pluck(),
      earliestUnconfirmed: db
        .prepare(
          'SELECT CASE WHEN EXISTS (SELECT 1 FROM influx_outbox WHERE time_ms IS NULL) THEN 0 ELSE min(time_ms) END FROM influx_outbox',
        )
        .pluck(),
      earliestParked: db
        .prepare(
          'SELECT CASE WHEN EXISTS (SELECT 1 FROM influx_rejected WHERE time_ms IS NULL) THEN 0 ELSE min(time_ms) END FROM influx_rejected',
        )
        .pluck(),
      latestWaiting: db.prepare('SELECT max(time_ms) FROM influx_outbox').pluck(),
    };
  }

  get name(): string {
    return this.db.name;
  }

  /** The last observation time written for a series, as this outbox knows it. */
  lastTimeOf(series: string): number | undefined {
    let last = this.lastTimes.get(series);
    if (last === undefined) {
      last = (this.statements.lastOf.get(series) as number | undefined) ?? undefined;
      if (last !== undefined) this.lastTimes.set(series, last);
    }
    return last;
  }

  /** Queues lines and advances series' last times, in one transaction: all or nothing (a full disk throws). */
  enqueue(lines: readonly QueuedLine[], lastTimes: ReadonlyMap<string, number>, nowMs: number): void {
    this.db.transaction(() => {
      for (const l of lines) this.statements.insert.run(l.line, l.timeMs, nowMs, l.verify ? 1 : 0);
      this.countWaiting(lines.length);
      for (const [series, lastMs] of lastTimes) this.statements.setLast.run(series, lastMs);
    })();
    // Only once committed: a failed write must not make a later gap look shorter than it is.
    for (const [series, lastMs] of lastTimes)
      this.lastTimes.set(series, Math.max(lastMs, this.lastTimes.get(series) ?? lastMs));
  }

  /** The oldest waiting lines, at most `limit`; with `afterId`, the oldest after that id. */
  next(limit: number, afterId = 0): OutboxRow[] {
    return (this.statements.next.all(afterId, limit) as StoredRow[]).map(outboxRow);
  }

  /**
   * The oldest waiting lines after id `afterId`, at most `limit`, as one body when they are a plain run: no id
   * missing between them, none to verify. Otherwise (or none waiting) undefined, and `next` reads them as rows.
   * Saves the forwarder a string per line, its join and its UTF-8 encoding.
   *
   * The body's order of lines is SQLite's (id order in practice, not promised), and a line may hold a line break:
   * so nothing may map a position in the body to a row. Lines InfluxDB refuses are found among `between`'s rows by
   * their text. The order of lines in one request matters to InfluxDB only for two lines of one key, and a run has
   * none: a line that may repeat a key is checked against the waiting ones before it is queued, or queued to be
   * verified (repeated-keys.ts), and a run holds no line to verify.
   */
  runAfter(afterId: number, limit: number): OutboxRun | undefined {
    const run = this.statements.run.get(afterId, limit) as OutboxRun & { verify: number | null };
    if (run.count === 0 || run.verify !== 0 || run.lastId - run.firstId + 1 !== run.count) return undefined;
    return { firstId: run.firstId, lastId: run.lastId, count: run.count, body: run.body };
  }

  /** The lines still waiting with ids firstId..lastId, in id order. */
  between(firstId: number, lastId: number): OutboxRow[] {
    return (this.statements.between.all(firstId, lastId) as StoredRow[]).map(outboxRow);
  }

  /** InfluxDB confirmed the run of ids firstId..lastId: those still waiting leave the queue, in one statement. */
  confirmRun(firstId: number, lastId: number): void {
    this.confirmed += this.db.transaction(() => {
      const removed = this.statements.removeRange.run(firstId, lastId).changes;
      this.countWaiting(-removed);
      return removed;
    })();
  }

  /** InfluxDB confirmed these (or they are duplicates of what it holds): they leave the queue. */
  confirm(ids: readonly number[]): void {
    this.confirmed += this.db.transaction(() => {
      // A whole batch is usually consecutive ids (nothing parked or skipped within it): one range delete.
      const first = ids[0];
      let removed = 0;
      if (first !== undefined && ids.every((id, i) => id === first + i))
        removed = this.statements.removeRange.run(first, first + ids.length - 1).changes;
      else for (const id of ids) removed += this.statements.remove.run(id).changes;
      this.countWaiting(-removed);
      return removed;
    })();
  }

  /** InfluxDB refused these lines by name: out of the queue, into the parked table with the reason. */
  park(rows: readonly { id: number; line: string; reason: string }[], nowMs: number): void {
    this.db.transaction(() => {
      let moved = 0;
      for (const row of rows) {
        // Another process sharing this file (import, outbox --retry) may have moved the row already.
        if (this.statements.remove.run(row.id).changes === 1) {
          this.statements.park.run(row.line, row.reason.slice(0, 500), nowMs, lineProtocolTimeMs(row.line) ?? null);
          moved++;
        }
      }
      this.countWaiting(-moved);
      this.countParked(moved);
    })();
  }

  /** Puts parked lines back in the queue (after the cause was fixed); returns how many. */
  retryParked(nowMs: number): number {
    return this.db.transaction(() => {
      const moved = this.statements.requeueParked.run(nowMs).changes;
      this.countWaiting(moved);
      this.countParked(-this.statements.clearParked.run().changes);
      return moved;
    })();
  }

  /** Adds `delta` to the lines counted waiting: only inside the transaction of the statements that moved them. */
  private countWaiting(delta: number): void {
    if (delta !== 0) this.statements.addWaiting.run(delta);
  }

  private countParked(delta: number): void {
    if (delta !== 0) this.statements.addParked.run(delta);
  }

  /** Lines still waiting whose observation time is exactly `timeMs` (a write of a repeated key looks here). */
  waitingAt(timeMs: number): string[] {
    return this.statements.waitingAt.all(timeMs) as string[];
  }

  waitingCount(): number {
    return this.statements.count.get() as number;
  }

  /** When the oldest waiting line was queued (epoch ms), if any waits. */
  oldestQueuedMs(): number | undefined {
    return (this.statements.oldestQueued.get() as number | undefined) ?? undefined;
  }

  parkedCount(): number {
    return this.statements.parkedCount.get() as number;
  }

  parkedRows(limit: number): ParkedRow[] {
    return this.statements.parked.all(limit) as ParkedRow[];
  }

  /** Lines of [fromMs, toMs) still waiting, and parked. */
  unconfirmedIn(fromMs: number, toMs: number): { waiting: number; parked: number } {
    return {
      waiting: this.statements.waitingIn.get(fromMs, toMs) as number,
      parked: this.statements.parkedIn.get(fromMs, toMs) as number,
    };
  }

  get confirmedTotal(): number {
    return this.confirmed;
  }

  /** The earliest observation time waiting or parked; a NULL time (a line queued before times were kept) counts as 0. */
  earliestUnconfirmedMs(): number | undefined {
    const times = [this.statements.earliestUnconfirmed.get(), this.statements.earliestParked.get()] as (
      | number
      | null
    )[];
    const known = times.filter((t): t is number => t !== null);
    return known.length > 0 ? Math.min(...known) : undefined;
  }

  earliestWaitingMs(): number | undefined {
    return (this.statements.earliestWaiting.get() as number | null) ?? undefined;
  }

  latestWaitingMs(): number | undefined {
    return (this.statements.latestWaiting.get() as number | null) ?? undefined;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
