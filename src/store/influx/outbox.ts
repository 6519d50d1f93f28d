// The durable outbox in front of InfluxDB, in the embedded SQLite file: lines wait here until InfluxDB confirmed
// them, lines InfluxDB refused by name are parked here, and each series' last time (for the gap marks) is kept here.
// The one owner of those tables; the forwarder and the store go through it.
//
// Waiting lines are kept in chunks: the lines of one commit, up to chunkLines, in one row with their count and
// earliest and latest time. A batch of whole chunks is read as one body and confirmed by one range delete, a few
// rows where a row per line cost ~1 µs a line to insert, read and delete. A line is still the unit of everything
// else (confirm, park, the counts, the time questions): it is taken out of its chunk by its text.
import type { EmbeddedDatabase } from '../embedded/database.js';
import { lineProtocolTimeMs } from '../embedded/database.js';

export interface OutboxRow {
  /** The chunk holding the line: the lines of one commit are kept together, so several rows may share an id. */
  id: number;
  line: string;
  /** The line may repeat a key InfluxDB holds: check before sending (see InfluxOutbox.enqueue). */
  verify: boolean;
}

/** Waiting lines read as one request body: whole chunks, ids firstId to lastId, none to verify. */
export interface OutboxRun {
  firstId: number;
  lastId: number;
  count: number;
  /** The lines joined by line breaks, as UTF-8 bytes straight from SQLite: no string per line is made. */
  body: Buffer;
}

/** Waiting lines read one by one, with whether the last chunk read was cut short (its other lines still wait). */
export interface OutboxRows {
  rows: OutboxRow[];
  cut: boolean;
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

/** Lines kept together in one chunk at most (the daemon's probe loop commits ~100 at a time). */
export const CHUNK_LINES = 500;

type StoredChunk = { id: number; n: number; verify: number; lines: Buffer };
type ChunkTimes = { id: number; n: number; firstMs: number | null; lastMs: number | null };

/**
 * The lines of a chunk. A chunk of several lines holds none with a line break (enqueue keeps such a line alone), so
 * splitting at line breaks gives them back exactly.
 */
function linesOf(chunk: StoredChunk, outbox: string): string[] {
  const text = chunk.lines.toString('utf8');
  if (chunk.n === 1) return [text];
  const lines = text.split('\n');
  if (lines.length !== chunk.n)
    throw new Error(`the outbox ${outbox}: chunk ${chunk.id} holds ${lines.length} lines where ${chunk.n} are counted`);
  return lines;
}

/** The earliest and latest observation time of lines, or nulls when one has no time (counted inside every range). */
function timesOf(lines: readonly string[]): { firstMs: number | null; lastMs: number | null } {
  let firstMs = Number.POSITIVE_INFINITY;
  let lastMs = Number.NEGATIVE_INFINITY;
  for (const line of lines) {
    const timeMs = lineProtocolTimeMs(line);
    if (timeMs === undefined) return { firstMs: null, lastMs: null };
    firstMs = Math.min(firstMs, timeMs);
    lastMs = Math.max(lastMs, timeMs);
  }
  return { firstMs, lastMs };
}

const NEWLINE = Buffer.from('\n');

export interface InfluxOutboxOptions {
  /** Lines kept together in one chunk at most (default CHUNK_LINES); no more than the forwarder's batch size. */
  chunkLines?: number;
}

export class InfluxOutbox {
  private readonly statements;
  private readonly chunkLines: number;
  /** Last times already read or committed by this process: the probe loop asks for every observation. */
  private readonly lastTimes = new Map<string, number>();
  /** Lines that left the queue as confirmed since this outbox was opened (an agent's heartbeat reports it). */
  private confirmed = 0;

  constructor(
    private readonly db: EmbeddedDatabase,
    options: InfluxOutboxOptions = {},
  ) {
    this.chunkLines = Math.max(1, options.chunkLines ?? CHUNK_LINES);
    const chunkColumns = 'id, n, verify, lines';
    this.statements = {
      insert: db.prepare(
        'INSERT INTO influx_outbox_chunks (n, verify, first_ms, last_ms, queued_ms, lines) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      lastOf: db.prepare('SELECT last_ms FROM influx_series_last WHERE series = ?').pluck(),
      setLast: db.prepare(
        'INSERT INTO influx_series_last (series, last_ms) VALUES (?, ?) ON CONFLICT(series) DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)',
      ),
      after: db.prepare(`SELECT ${chunkColumns} FROM influx_outbox_chunks WHERE id > ? ORDER BY id`),
      between: db.prepare(`SELECT ${chunkColumns} FROM influx_outbox_chunks WHERE id >= ? AND id <= ? ORDER BY id`),
      chunk: db.prepare(`SELECT ${chunkColumns} FROM influx_outbox_chunks WHERE id = ?`),
      remove: db.prepare('DELETE FROM influx_outbox_chunks WHERE id = ?'),
      rewrite: db.prepare('UPDATE influx_outbox_chunks SET n = ?, first_ms = ?, last_ms = ?, lines = ? WHERE id = ?'),
      linesBetween: db
        .prepare('SELECT coalesce(sum(n), 0) FROM influx_outbox_chunks WHERE id >= ? AND id <= ?')
        .pluck(),
      removeRange: db.prepare('DELETE FROM influx_outbox_chunks WHERE id >= ? AND id <= ?'),
      park: db.prepare('INSERT INTO influx_rejected (line, reason, at_ms, time_ms) VALUES (?, ?, ?, ?)'),
      count: db.prepare("SELECT n FROM influx_counts WHERE name = 'waiting'").pluck(),
      // Kept per statement, in the writing statement's transaction (the file is shared by processes: no count in
      // memory; a trigger per row cost ~40 % of deleting a confirmed batch).
      addWaiting: db.prepare("UPDATE influx_counts SET n = n + ? WHERE name = 'waiting'"),
      addParked: db.prepare("UPDATE influx_counts SET n = n + ? WHERE name = 'parked'"),
      oldestQueued: db
        .prepare('SELECT coalesce(queued_ms, first_ms) FROM influx_outbox_chunks ORDER BY id LIMIT 1')
        .pluck(),
      parkedCount: db.prepare("SELECT n FROM influx_counts WHERE name = 'parked'").pluck(),
      parked: db.prepare('SELECT id, line, reason, at_ms AS atMs FROM influx_rejected ORDER BY id LIMIT ?'),
      // Back one line a chunk: each is to be checked against InfluxDB, as a line that may repeat a key.
      requeueParked: db.prepare(
        `INSERT INTO influx_outbox_chunks (n, verify, first_ms, last_ms, queued_ms, lines)
           SELECT 1, 1, time_ms, time_ms, ?, CAST(line AS BLOB) FROM influx_rejected ORDER BY id`,
      ),
      clearParked: db.prepare('DELETE FROM influx_rejected'),
      chunksAt: db.prepare(
        `SELECT ${chunkColumns} FROM influx_outbox_chunks WHERE first_ms <= ? AND last_ms >= ? ORDER BY id`,
      ),
      // A chunk holding a line queued before its time was recorded (NULL) counts as inside every range.
      chunksIn: db.prepare(
        `SELECT id, n, first_ms AS firstMs, last_ms AS lastMs FROM influx_outbox_chunks
           WHERE first_ms IS NULL OR (first_ms < ? AND last_ms >= ?)`,
      ),
      parkedIn: db
        .prepare('SELECT count(*) FROM influx_rejected WHERE (time_ms >= ? AND time_ms < ?) OR time_ms IS NULL')
        .pluck(),
      earliestWaiting: db.prepare('SELECT min(first_ms) FROM influx_outbox_chunks').pluck(),
      earliestUnconfirmed: db
        .prepare(
          'SELECT CASE WHEN EXISTS (SELECT 1 FROM influx_outbox_chunks WHERE first_ms IS NULL) THEN 0 ELSE min(first_ms) END FROM influx_outbox_chunks',
        )
        .pluck(),
      earliestParked: db
        .prepare(
          'SELECT CASE WHEN EXISTS (SELECT 1 FROM influx_rejected WHERE time_ms IS NULL) THEN 0 ELSE min(time_ms) END FROM influx_rejected',
        )
        .pluck(),
      latestWaiting: db.prepare('SELECT max(last_ms) FROM influx_outbox_chunks').pluck(),
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

  /**
   * Queues lines and advances series' last times, in one transaction: all or nothing (a full disk throws). The
   * lines go in order, in chunks of up to chunkLines that share `verify`; a line holding a line break goes alone.
   */
  enqueue(lines: readonly QueuedLine[], lastTimes: ReadonlyMap<string, number>, nowMs: number): void {
    this.db.transaction(() => {
      let chunk: { lines: string[]; verify: boolean; firstMs: number; lastMs: number; alone: boolean } | undefined;
      const flush = () => {
        if (!chunk) return;
        this.statements.insert.run(
          chunk.lines.length,
          chunk.verify ? 1 : 0,
          chunk.firstMs,
          chunk.lastMs,
          nowMs,
          Buffer.from(chunk.lines.join('\n')),
        );
      };
      for (const l of lines) {
        const alone = l.line.includes('\n');
        if (!chunk || alone || chunk.alone || chunk.verify !== l.verify || chunk.lines.length >= this.chunkLines) {
          flush();
          chunk = { lines: [], verify: l.verify, firstMs: l.timeMs, lastMs: l.timeMs, alone };
        }
        chunk.lines.push(l.line);
        chunk.firstMs = Math.min(chunk.firstMs, l.timeMs);
        chunk.lastMs = Math.max(chunk.lastMs, l.timeMs);
      }
      flush();
      this.countWaiting(lines.length);
      for (const [series, lastMs] of lastTimes) this.statements.setLast.run(series, lastMs);
    })();
    // Only once committed: a failed write must not make a later gap look shorter than it is.
    for (const [series, lastMs] of lastTimes)
      this.lastTimes.set(series, Math.max(lastMs, this.lastTimes.get(series) ?? lastMs));
  }

  /** The oldest waiting lines, at most `limit`; with `afterId`, the oldest in chunks after that id. */
  next(limit: number, afterId = 0): OutboxRow[] {
    return this.rowsAfter(afterId, limit).rows;
  }

  /**
   * The oldest waiting lines in chunks after id `afterId`, at most `limit`, one by one. The last chunk read is cut
   * short when it holds more than fit (`cut`): a later read after its id would skip the rest of it.
   */
  rowsAfter(afterId: number, limit: number): OutboxRows {
    const rows: OutboxRow[] = [];
    for (const chunk of this.statements.after.iterate(afterId) as IterableIterator<StoredChunk>) {
      const room = limit - rows.length;
      if (room <= 0) break;
      const chunkRows = this.rowsOf(chunk);
      rows.push(...chunkRows.slice(0, room));
      if (chunkRows.length > room) return { rows, cut: true };
    }
    return { rows, cut: false };
  }

  /**
   * The oldest whole chunks after id `afterId` holding at most `limit` lines, none to verify, as one body; undefined
   * when the first of them is to verify or holds more lines than `limit` (then `rowsAfter` reads them). Saves the
   * forwarder a string per line, its join and its UTF-8 encoding.
   *
   * The lines are in id order. Lines InfluxDB refuses are still found among `between`'s rows by their text, as a
   * line may hold a line break (then the body has more lines than the run). The order of lines in one request
   * matters to InfluxDB only for two lines of one key, and a run has none: a line that may repeat a key is checked
   * against the waiting ones before it is queued, or queued to be verified (repeated-keys.ts), and a run holds no
   * line to verify.
   */
  runAfter(afterId: number, limit: number): OutboxRun | undefined {
    const bodies: Buffer[] = [];
    let firstId: number | undefined;
    let lastId = 0;
    let count = 0;
    for (const chunk of this.statements.after.iterate(afterId) as IterableIterator<StoredChunk>) {
      if (chunk.verify === 1 || count + chunk.n > limit) break;
      if (firstId !== undefined) bodies.push(NEWLINE);
      bodies.push(chunk.lines);
      firstId ??= chunk.id;
      lastId = chunk.id;
      count += chunk.n;
    }
    if (firstId === undefined) return undefined;
    return { firstId, lastId, count, body: bodies.length === 1 ? (bodies[0] as Buffer) : Buffer.concat(bodies) };
  }

  /** The lines still waiting in chunks with ids firstId..lastId, in order. */
  between(firstId: number, lastId: number): OutboxRow[] {
    return (this.statements.between.all(firstId, lastId) as StoredChunk[]).flatMap((chunk) => this.rowsOf(chunk));
  }

  /** A chunk's lines, one row each. */
  private rowsOf(chunk: StoredChunk): OutboxRow[] {
    return linesOf(chunk, this.name).map((line) => ({ id: chunk.id, line, verify: chunk.verify === 1 }));
  }

  /** InfluxDB confirmed the run of chunks firstId..lastId: those still waiting leave the queue (IMMEDIATE: see takeOut). */
  confirmRun(firstId: number, lastId: number): void {
    this.confirmed += this.db
      .transaction(() => {
        const removed = this.statements.linesBetween.get(firstId, lastId) as number;
        this.statements.removeRange.run(firstId, lastId);
        this.countWaiting(-removed);
        return removed;
      })
      .immediate();
  }

  /** InfluxDB confirmed these lines (or they are duplicates of what it holds): they leave the queue. */
  confirm(rows: readonly Pick<OutboxRow, 'id' | 'line'>[]): void {
    this.confirmed += this.db
      .transaction(() => {
        const removed = this.takeOut(rows).length;
        this.countWaiting(-removed);
        return removed;
      })
      .immediate();
  }

  /** InfluxDB refused these lines by name: out of the queue, into the parked table with the reason. */
  park(rows: readonly { id: number; line: string; reason: string }[], nowMs: number): void {
    this.db
      .transaction(() => {
        const moved = this.takeOut(rows);
        for (const row of moved)
          this.statements.park.run(row.line, row.reason.slice(0, 500), nowMs, lineProtocolTimeMs(row.line) ?? null);
        this.countWaiting(-moved.length);
        this.countParked(moved.length);
      })
      .immediate();
  }

  /**
   * Takes these lines out of their chunks and returns those that were there: another process sharing this file
   * (import, outbox --retry) may have taken some already. A line is matched by its text within its chunk, one
   * waiting line for each row (a chunk may hold the same line twice). Runs inside the caller's transaction, begun
   * IMMEDIATE: it reads before it writes, and a read snapshot that another process's commit made stale cannot be
   * written from, whatever the busy timeout.
   */
  private takeOut<R extends Pick<OutboxRow, 'id' | 'line'>>(rows: readonly R[]): R[] {
    const byChunk = new Map<number, R[]>();
    for (const row of rows) {
      const list = byChunk.get(row.id);
      if (list) list.push(row);
      else byChunk.set(row.id, [row]);
    }
    const taken: R[] = [];
    for (const [id, wanted] of byChunk) {
      const chunk = this.statements.chunk.get(id) as StoredChunk | undefined;
      if (!chunk) continue;
      const lines = linesOf(chunk, this.name);
      const waiting = new Map<string, number>();
      for (const line of lines) waiting.set(line, (waiting.get(line) ?? 0) + 1);
      const out = new Map<string, number>();
      for (const row of wanted) {
        const left = waiting.get(row.line) ?? 0;
        if (left === 0) continue;
        waiting.set(row.line, left - 1);
        out.set(row.line, (out.get(row.line) ?? 0) + 1);
        taken.push(row);
      }
      if (out.size === 0) continue;
      const kept = lines.filter((line) => {
        const left = out.get(line) ?? 0;
        if (left === 0) return true;
        out.set(line, left - 1);
        return false;
      });
      if (kept.length === 0) this.statements.remove.run(id);
      else {
        const { firstMs, lastMs } = timesOf(kept);
        this.statements.rewrite.run(kept.length, firstMs, lastMs, Buffer.from(kept.join('\n')), id);
      }
    }
    return taken;
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
    const chunks = this.statements.chunksAt.all(timeMs, timeMs) as StoredChunk[];
    return chunks.flatMap((chunk) => linesOf(chunk, this.name).filter((line) => lineProtocolTimeMs(line) === timeMs));
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
    let waiting = 0;
    for (const c of this.statements.chunksIn.all(toMs, fromMs) as ChunkTimes[]) {
      if (c.firstMs === null || c.lastMs === null || (c.firstMs >= fromMs && c.lastMs < toMs)) waiting += c.n;
      else {
        // Only partly inside: its lines are counted one by one.
        const chunk = this.statements.chunk.get(c.id) as StoredChunk | undefined;
        if (!chunk) continue;
        for (const line of linesOf(chunk, this.name)) {
          const timeMs = lineProtocolTimeMs(line);
          if (timeMs === undefined || (timeMs >= fromMs && timeMs < toMs)) waiting++;
        }
      }
    }
    return { waiting, parked: this.statements.parkedIn.get(fromMs, toMs) as number };
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
