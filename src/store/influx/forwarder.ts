// Moves lines from the outbox to InfluxDB, one batch at a time, deleting a batch only after InfluxDB confirmed it.
// Every answer has one response: confirmed (delete), refused by name (park those, resend the rest), too large
// (halve the batch), anything else (back off and retry, the lines stay). Failures are logged at error level at
// most once a minute, with how many happened since, so a long outage is loud but not a flood.
import type { Logger } from '../../logging.js';
import type { LineWriter } from './line-writer.js';
import type { InfluxOutbox, OutboxRow } from './outbox.js';

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const IDLE_POLL_MS = 1_000;
const FAILURE_LOG_EVERY_MS = 60_000;
/** After this many confirmed batches in a row, a batch size halved by a 413 doubles again (up to the configured one). */
const GROW_AFTER_OK = 10;

export interface ForwarderHealth {
  writeErrorsTotal: number;
  sentTotal: number;
  parkedTotal: number;
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

export function startForwarder(deps: { outbox: InfluxOutbox; writer: LineWriter; checkRepeats: RepeatCheck; logger: Logger; batchSize: number; now?: () => number }): Forwarder {
  const { outbox, writer, logger, batchSize } = deps;
  const now = deps.now ?? Date.now;
  const health: ForwarderHealth = { writeErrorsTotal: 0, sentTotal: 0, parkedTotal: 0 };
  let running = true;
  let limit = batchSize;
  let okInARow = 0;
  let backoffMs = FIRST_BACKOFF_MS;
  let failuresSinceLog = 0;
  let lastFailureLogMs = -Infinity;
  let wakeIdle: (() => void) | undefined;
  let interrupt: (() => void) | undefined;

  const sleep = (ms: number, wakeable: boolean) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeIdle = interrupt = undefined;
        resolve();
      }
      interrupt = done;
      if (wakeable) wakeIdle = done;
    });

  const failed = async (reason: string, retryAfterMs = 0) => {
    health.writeErrorsTotal++;
    health.problem = reason;
    failuresSinceLog++;
    if (now() - lastFailureLogMs >= FAILURE_LOG_EVERY_MS) {
      logger.error({ reason, failures: failuresSinceLog, waiting: outbox.waitingCount() }, 'InfluxDB does not take writes; observations stay in the outbox and are retried');
      lastFailureLogMs = now();
      failuresSinceLog = 0;
    }
    await sleep(Math.max(backoffMs, retryAfterMs), false);
    backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
  };

  const succeeded = (confirmed: number) => {
    if (health.problem !== undefined) logger.info({ after: health.problem, waiting: outbox.waitingCount() }, 'InfluxDB takes writes again');
    health.problem = undefined;
    health.sentTotal += confirmed;
    health.lastSuccessMs = now();
    backoffMs = FIRST_BACKOFF_MS;
    lastFailureLogMs = -Infinity;
    failuresSinceLog = 0;
    if (++okInARow >= GROW_AFTER_OK && limit < batchSize) {
      limit = Math.min(batchSize, limit * 2);
      okInARow = 0;
    }
  };

  const park = (rows: { id: number; line: string; reason: string }[]) => {
    outbox.park(rows, now());
    health.parkedTotal += rows.length;
    logger.error(
      { parked: rows.length, reason: rows[0]!.reason, line: rows[0]!.line.slice(0, 300) },
      'InfluxDB refused observations by name; they are parked (see `uptime-credits outbox`, and `--retry` once the cause is fixed)',
    );
  };

  const forwardOnce = async (): Promise<void> => {
    let rows = outbox.next(limit);
    if (rows.length === 0) return sleep(IDLE_POLL_MS, true);
    if (rows.some((r) => r.verify)) {
      try {
        const { send, skip } = await deps.checkRepeats(rows);
        if (skip.length > 0) outbox.confirm(skip.map((r) => r.id));
        rows = send;
      } catch (error) {
        return failed(`checking repeated keys against InfluxDB: ${(error as Error).message}`);
      }
      if (rows.length === 0) return;
    }
    const verdict = await deps.writer.write(rows.map((r) => r.line));
    switch (verdict.kind) {
      case 'ok':
        outbox.confirm(rows.map((r) => r.id));
        return succeeded(rows.length);
      case 'refused':
        // The rest may or may not have been written: they stay queued and go again (a repeat overwrites itself).
        park([...verdict.refused].map(([index, reason]) => ({ ...rows[index]!, reason })));
        return;
      case 'split':
      case 'too-large':
        if (rows.length === 1) return park([{ ...rows[0]!, reason: verdict.reason }]);
        limit = Math.ceil(rows.length / 2);
        okInARow = 0;
        if (verdict.kind === 'too-large') logger.warn({ batch: rows.length, nextBatch: limit, reason: verdict.reason }, 'InfluxDB refused a batch as too large; sending smaller batches');
        return;
      case 'retry':
        return failed(verdict.reason, verdict.retryAfterMs);
    }
  };

  const loop = (async () => {
    while (running) {
      try {
        await forwardOnce();
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
      await loop;
    },
  };
}
