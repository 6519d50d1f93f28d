// Pacing for work that keeps failing: a retry delay that doubles up to a bound, and a log line at most once an
// interval (a long outage is loud, not a flood). The probe loop, the InfluxDB forwarder and the refreshes share them.
import type { Logger } from './logging.js';

/** A failure that repeats (a store down, a full disk) is logged at most this often: README's "one error line a minute". */
export const REPEATED_FAILURE_LOG_EVERY_MS = 60_000;

/** A delay doubling from `firstMs` up to `maxMs` with each failure, back to `firstMs` after a success. */
export function doublingBackoff(firstMs: number, maxMs: number) {
  let currentMs = firstMs;
  return {
    /** The delay before the next attempt; the one after it is twice as long (up to maxMs). */
    next(): number {
      const delayMs = currentMs;
      currentMs = Math.min(maxMs, currentMs * 2);
      return delayMs;
    },
    reset(): void {
      currentMs = firstMs;
    },
  };
}

/** Says yes at most once per `intervalMs` of `now()`; `reset` makes the next call a yes. */
export function atMostEvery(intervalMs: number, now: () => number) {
  let lastMs = -Infinity;
  return {
    due(): boolean {
      if (now() - lastMs < intervalMs) return false;
      lastMs = now();
      return true;
    },
    reset(): void {
      lastMs = -Infinity;
    },
  };
}

/**
 * The log of a task that runs again and again and may keep failing (a refresh while InfluxDB is down): a failure is
 * told at most once a minute (REPEATED_FAILURE_LOG_EVERY_MS, as the line says), with how many failed since the line
 * before, and once a line has told of failures, the next success is told too. A long outage is loud, not a flood,
 * and a store that fails every other time gives two lines a minute, not one per attempt. `task` names it in the
 * lines ("refreshing the ...").
 */
export function failureStreakLog(logger: Pick<Logger, 'error' | 'info'>, task: string, now: () => number) {
  const pace = atMostEvery(REPEATED_FAILURE_LOG_EVERY_MS, now);
  let failedInStreak = 0;
  let failedUntold = 0;
  let toldFailing = false;
  return {
    failed(error: unknown): void {
      failedInStreak++;
      failedUntold++;
      if (!pace.due()) return;
      logger.error(
        { err: error, failedSinceLastLine: failedUntold },
        `${task} failed; it is retried (logged at most once a minute)`,
      );
      failedUntold = 0;
      toldFailing = true;
    },
    succeeded(): void {
      // A streak no line told of ends silently: its failures are counted in the next failure's line.
      if (toldFailing) {
        logger.info({ failedInStreak }, `${task} works again`);
        failedUntold = 0;
        toldFailing = false;
      }
      failedInStreak = 0;
    },
  };
}
