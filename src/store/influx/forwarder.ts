// Moves lines from the outbox to InfluxDB in batches, deleting a batch only after InfluxDB confirmed that batch.
// While InfluxDB takes every batch, a few are in flight at once, each deleted on its own confirmation, in any
// order. The first answer that is not a confirmation stops the reading; once the batches in flight have their
// answers, the earliest failure is acted on, and from then on one batch at a time from the oldest waiting line
// until InfluxDB takes writes again at the full batch size. Every answer has one response: confirmed (delete),
// refused by name (park those, resend the rest), too large (halve the batch; a single line is never parked for
// it: ours are small, so the limit is at fault), anything else (back off and retry, the lines stay; after a write
// that found no server to connect to, only until InfluxDB answers its /ping). A 400 naming no line that persists is
// narrowed down, still backing off: halves, then one line against its neighbour; only a line refused while its
// neighbour is taken is parked.
// Failures are logged at error level at most once a minute, with how many happened since.
import type { Logger } from '../../logging.js';
import { atMostEvery, doublingBackoff, REPEATED_FAILURE_LOG_EVERY_MS } from '../../pacing.js';
import { at } from '../../sla/at.js';
import type { LineWriter } from './line-writer.js';
import type { InfluxOutbox, OutboxRow, OutboxRun } from './outbox.js';
import type { WriteVerdict } from './write-verdict.js';

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const IDLE_POLL_MS = 1_000;
/** While InfluxDB could not be connected to, how often it is asked whether it answers again (its /ping). */
const ANSWERS_EVERY_MS = 1_000;
/** After this many confirmed batches in a row, a batch size halved by a 413 doubles again (up to the configured one). */
const GROW_AFTER_OK = 10;
/** Unnamed 400s in a row after which the forwarder starts narrowing the batch down (a proxy's blip passes first). */
const NARROW_AFTER_UNNAMED = 3;
/**
 * Batches in flight while InfluxDB takes every one: influxd parses one request per core, and our reading and
 * deleting of a batch overlaps InfluxDB's work on another (test/bench/README.md, Ingest, has the figures).
 */
const IN_FLIGHT = 3;

export interface ForwarderHealth {
  writeErrorsTotal: number;
  lastSuccessMs?: number;
  /** Why InfluxDB is not taking writes now; undefined while it is. */
  problem?: string;
}

/** Checks lines that may repeat a key InfluxDB holds: returns the rows to send and those to leave out. */
export type RepeatCheck = (rows: readonly OutboxRow[]) => Promise<{ send: OutboxRow[]; skip: OutboxRow[] }>;

export interface Forwarder {
  /** Forwards now if idle (new lines, or someone waits for them); never cuts a backoff short. */
  wake(): void;
  health(): ForwarderHealth;
  stop(): Promise<void>;
}

export interface ForwarderDeps {
  outbox: InfluxOutbox;
  writer: LineWriter;
  checkRepeats: RepeatCheck;
  logger: Logger;
  batchSize: number;
  /** The first and longest wait between failed attempts (tests shorten them). */
  backoff?: { firstMs: number; maxMs: number };
  /** Batches in flight at once while InfluxDB takes them (default 3; 1 sends one at a time). */
  inFlight?: number;
  /**
   * Whether InfluxDB answers now (its /ping; a rejection counts as no). After a write that found no server to
   * connect to, the backoff is waited out only until this says yes (asked every `answersEveryMs`, default 1 s): after
   * a long outage the backoff has grown to its 30 s cap, and the backlog should not wait that long once InfluxDB is
   * back.
   */
  answers?: () => Promise<boolean>;
  answersEveryMs?: number;
}

/** Lines read from the outbox for one request. */
interface Batch {
  /** The highest chunk id read: the next batch is read after it. */
  lastId: number;
  /** Its last chunk was read only in part: nothing after it is read in this pass (see forwardPass). */
  cut: boolean;
  /** How many lines it sends. */
  count: number;
  /** Some lines may repeat a key InfluxDB holds: checked before sending. */
  verify: boolean;
  /** Its rows still waiting in the outbox, in id order. */
  rows(): OutboxRow[];
  /** The lines as sent, in the body's order: InfluxDB's answer names or numbers these. */
  lines(): readonly string[];
  write(): Promise<WriteVerdict>;
  /** InfluxDB confirmed the batch: its lines leave the outbox. */
  confirm(): void;
}

/** What became of one batch read: the verdict on what was sent of it, or why nothing was sent. */
interface Attempt {
  read: Batch;
  /** The lines sent (the batch without those InfluxDB already holds), and InfluxDB's verdict on them. */
  sent?: { batch: Batch; verdict: WriteVerdict };
  /** Why the repeated keys could not be checked against InfluxDB (nothing was sent). */
  checkFailed?: string;
}

export function startForwarder(deps: ForwarderDeps): Forwarder {
  const { outbox, writer, logger, batchSize } = deps;
  const inFlight = Math.max(1, deps.inFlight ?? IN_FLIGHT);
  const { firstMs: firstBackoffMs, maxMs: maxBackoffMs } = deps.backoff ?? {
    firstMs: FIRST_BACKOFF_MS,
    maxMs: MAX_BACKOFF_MS,
  };
  const health: ForwarderHealth = { writeErrorsTotal: 0 };
  let running = true;
  let limit = batchSize;
  let okInARow = 0;
  const backoff = doublingBackoff(firstBackoffMs, maxBackoffMs);
  const failureLog = atMostEvery(REPEATED_FAILURE_LOG_EVERY_MS, Date.now);
  let failuresSinceLog = 0;
  let unnamedInARow = 0;
  let wakeIdle: (() => void) | undefined;
  let interrupt: (() => void) | undefined;
  let stopped!: () => void;
  const stopping = new Promise<false>((resolve) => {
    stopped = () => resolve(false);
  });

  const sleep = (ms: number, wakeable: boolean) =>
    new Promise<void>((resolve) => {
      if (!running) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeIdle = interrupt = undefined;
        resolve();
      }
      interrupt = done;
      if (wakeable) wakeIdle = done;
    });

  /** Waits `ms`, or less once InfluxDB answers: asked every answersEveryMs, a stop cutting short the question too. */
  const untilAnswering = async (ms: number, answers: () => Promise<boolean>) => {
    const everyMs = deps.answersEveryMs ?? ANSWERS_EVERY_MS;
    const endMs = Date.now() + ms;
    for (let leftMs = ms; running && leftMs > 0; leftMs = endMs - Date.now()) {
      await sleep(Math.min(leftMs, everyMs), false);
      if (!running || Date.now() >= endMs) return;
      if (await Promise.race([answers().catch(() => false), stopping])) return;
    }
  };

  const failed = async (reason: string, retryAfterMs = 0, notConnected = false) => {
    health.writeErrorsTotal++;
    health.problem = reason;
    failuresSinceLog++;
    if (failureLog.due()) {
      logger.error(
        { reason, failures: failuresSinceLog, waiting: outbox.waitingCount() },
        'InfluxDB does not take writes; observations stay in the outbox and are retried',
      );
      failuresSinceLog = 0;
    }
    const waitMs = Math.max(backoff.next(), retryAfterMs);
    await (notConnected && deps.answers ? untilAnswering(waitMs, deps.answers) : sleep(waitMs, false));
  };

  const succeeded = () => {
    if (health.problem !== undefined)
      logger.info({ after: health.problem, waiting: outbox.waitingCount() }, 'InfluxDB takes writes again');
    health.problem = undefined;
    health.lastSuccessMs = Date.now();
    backoff.reset();
    unnamedInARow = 0;
    failureLog.reset();
    failuresSinceLog = 0;
    if (++okInARow >= GROW_AFTER_OK && limit < batchSize) {
      limit = Math.min(batchSize, limit * 2);
      okInARow = 0;
    }
  };

  const park = (rows: { id: number; line: string; reason: string }[]) => {
    const first = at(rows, 0, 'line to park');
    outbox.park(rows, Date.now());
    logger.error(
      { parked: rows.length, reason: first.reason, line: first.line.slice(0, 300) },
      'InfluxDB refused observations by name; they are parked (see `uptime-credits outbox`, and `--retry` once the cause is fixed)',
    );
  };

  const rowsBatch = (rows: OutboxRow[], cut = false): Batch => {
    // As InfluxDB reads the body: a line holding a line break is two (3.x numbers the lines of the body).
    const lines = rows.flatMap((r) => r.line.split('\n'));
    return {
      lastId: at(rows, rows.length - 1, 'last row').id,
      cut,
      count: rows.length,
      verify: rows.some((r) => r.verify),
      rows: () => rows,
      lines: () => lines,
      write: () => writer.write(lines),
      confirm: () => outbox.confirm(rows),
    };
  };

  // A plain run of lines goes out as the body SQLite joined: no string per line unless an answer names lines. Its
  // rows are read again only then, and matched to the named lines by text (the body's order is not the ids').
  const runBatch = (run: OutboxRun): Batch => {
    let lines: string[] | undefined;
    const sent = () => {
      lines ??= run.body.toString('utf8').split('\n');
      return lines;
    };
    return {
      lastId: run.lastId,
      cut: false,
      count: run.count,
      verify: false,
      rows: () => outbox.between(run.firstId, run.lastId),
      lines: sent,
      write: () => (writer.writeJoined ? writer.writeJoined(run.body, sent) : writer.write(sent())),
      confirm: () => outbox.confirmRun(run.firstId, run.lastId),
    };
  };

  const readAfter = (afterId: number): Batch | undefined => {
    const run = outbox.runAfter(afterId, limit);
    if (run) return runBatch(run);
    const { rows, cut } = outbox.rowsAfter(afterId, limit);
    return rows.length > 0 ? rowsBatch(rows, cut) : undefined;
  };

  const attempt = async (read: Batch): Promise<Attempt> => {
    let batch = read;
    if (read.verify) {
      try {
        const { send, skip } = await deps.checkRepeats(read.rows());
        if (skip.length > 0) outbox.confirm(skip);
        if (send.length === 0) return { read };
        batch = rowsBatch(send);
      } catch (error) {
        return { read, checkFailed: (error as Error).message };
      }
    }
    try {
      return { read, sent: { batch, verdict: await batch.write() } };
    } catch (error) {
      // A writer is not meant to throw; if one does, the lines stay and go again.
      return { read, sent: { batch, verdict: { kind: 'retry', reason: (error as Error).message } } };
    }
  };

  /**
   * Sends batches from the oldest waiting line on, up to `inFlight` at once while all goes well (one at a time
   * while InfluxDB has a problem or the batch is cut down), until none is left or one fails; then acts on the
   * earliest failure, once every batch in flight has its answer (so the next pass starts from the oldest line).
   */
  const forwardPass = async (): Promise<void> => {
    const pending = new Map<Batch, Promise<Attempt>>();
    let afterId = 0;
    // After a batch that took a chunk only in part, the rest of that chunk is read by the next pass, from the start.
    let stopReading = false;
    let earliestFailure: Attempt | undefined;
    const fill = () => {
      const width = health.problem === undefined && limit === batchSize ? inFlight : 1;
      while (running && !stopReading && earliestFailure === undefined && pending.size < width) {
        const batch = readAfter(afterId);
        if (!batch) return;
        afterId = batch.lastId;
        stopReading = batch.cut;
        pending.set(batch, attempt(batch));
      }
    };
    try {
      fill();
      if (pending.size === 0) return sleep(IDLE_POLL_MS, true);
      while (pending.size > 0) {
        // Taken out of `pending` here, not when it settles: two settling together must both be seen.
        const a = await Promise.race(pending.values());
        pending.delete(a.read);
        if (a.sent?.verdict.kind === 'ok') {
          a.sent.batch.confirm();
          succeeded();
        } else if (a.sent || a.checkFailed !== undefined) {
          if (earliestFailure === undefined || a.read.lastId < earliestFailure.read.lastId) earliestFailure = a;
          else if (a.checkFailed !== undefined || a.sent?.verdict.kind === 'retry') health.writeErrorsTotal++;
        }
        fill();
      }
    } catch (error) {
      // The outbox failed (read or delete): no batch of this pass stays in flight while the next pass resends.
      await Promise.allSettled(pending.values());
      throw error;
    }
    if (earliestFailure) await actOn(earliestFailure);
  };

  const actOn = async (failure: Attempt): Promise<void> => {
    if (!failure.sent) return failed(`checking repeated keys against InfluxDB: ${failure.checkFailed}`);
    const { verdict, batch } = failure.sent;
    switch (verdict.kind) {
      case 'ok':
        return;
      case 'refused': {
        // The rest may or may not have been written: they stay queued and go again (a repeat overwrites itself).
        const named = refusedRows(batch, verdict.refused);
        if (named.length > 0) return park(named);
        // The named text is no waiting line (one holding a line break was cut in two, or another process took it):
        // treated as a refusal naming no line, so a persistent one is narrowed down to its line.
        return actOn({ ...failure, sent: { batch, verdict: unnamed(verdict.refused) } });
      }
      case 'split':
        if (batch.count === 1) {
          const row = batch.rows()[0];
          return row ? park([{ ...row, reason: verdict.reason }]) : undefined;
        }
        return halve(batch.count);
      case 'too-large':
        if (batch.count === 1)
          return failed(`even a single line is too large for InfluxDB or a proxy in front of it: ${verdict.reason}`);
        logger.warn(
          { batch: batch.count, nextBatch: Math.ceil(batch.count / 2), reason: verdict.reason },
          'InfluxDB refused a batch as too large; sending smaller batches',
        );
        return halve(batch.count);
      case 'retry':
        if (verdict.unnamedBadRequest && ++unnamedInARow >= NARROW_AFTER_UNNAMED)
          return narrowDown(batch, verdict.reason);
        return failed(verdict.reason, verdict.retryAfterMs, verdict.notConnected);
    }
  };

  /** The waiting rows whose text is a line the answer named, with its reason: by text, never by position. */
  const refusedRows = (batch: Batch, refused: ReadonlyMap<number, string>) => {
    const sent = batch.lines();
    const reasons = new Map<string, string>();
    for (const [index, reason] of refused) {
      const line = sent[index];
      if (line !== undefined && !reasons.has(line)) reasons.set(line, reason);
    }
    return batch.rows().flatMap((row) => {
      const reason = reasons.get(row.line);
      return reason === undefined ? [] : [{ ...row, reason }];
    });
  };

  const unnamed = (refused: ReadonlyMap<number, string>): WriteVerdict => ({
    kind: 'retry',
    reason: `InfluxDB refused lines that are not waiting as sent: ${[...refused.values()][0] ?? ''}`,
    unnamedBadRequest: true,
  });

  const halve = (rowCount: number) => {
    limit = Math.ceil(rowCount / 2);
    okInARow = 0;
  };

  /**
   * A 400 that names no line keeps coming: halve the batch (backing off all the while); at one line, send its
   * neighbour alone. Taken: the line is refused for itself, and parked. Refused too: InfluxDB refuses everything,
   * and nothing is parked.
   */
  const narrowDown = async (batch: Batch, reason: string) => {
    if (batch.count > 1) {
      halve(batch.count);
      return failed(reason);
    }
    const row = batch.rows()[0];
    if (!row) return; // another process took it meanwhile
    const neighbour = outbox.next(2)[1];
    if (!neighbour || neighbour.verify || (await deps.writer.write([neighbour.line])).kind !== 'ok')
      return failed(reason);
    outbox.confirm([neighbour]);
    succeeded();
    // Once more right after its neighbour was taken, so a flapping proxy cannot get a good line parked.
    const again = await deps.writer.write([row.line]);
    if (again.kind === 'ok') {
      outbox.confirm([row]);
      return succeeded();
    }
    // Refused alone, with or without naming it (a line holding a line break is named in pieces): parked.
    const refusedAlone =
      again.kind === 'refused'
        ? [...again.refused.values()][0]
        : again.kind === 'split' || (again.kind === 'retry' && again.unnamedBadRequest)
          ? again.reason
          : undefined;
    if (refusedAlone !== undefined)
      return park([{ ...row, reason: `${refusedAlone} (for this line alone: InfluxDB takes the one after it)` }]);
    return failed(again.kind === 'retry' || again.kind === 'too-large' ? again.reason : reason);
  };

  const loop = (async () => {
    while (running) {
      try {
        await forwardPass();
      } catch (error) {
        // The outbox itself failed (disk full, file gone): same treatment as a failed write, the lines stay.
        await failed(`the outbox ${outbox.name}: ${(error as Error).message}`);
      }
    }
  })();

  return {
    wake: () => wakeIdle?.(),
    health: () => ({ ...health }),
    async stop() {
      running = false;
      interrupt?.();
      stopped();
      await loop;
    },
  };
}
