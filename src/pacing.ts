// Pacing for a write path that keeps failing: a retry delay that doubles up to a bound, and a log line at most
// once an interval (a long outage is loud, not a flood). The probe loop and the InfluxDB forwarder share them.

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
 * The log of a task that runs again and again and may keep failing (a refresh while InfluxDB is down): the first
 * failure at once, then at most one line per `intervalMs`, saying how many failed since the line before, and one
 * line when it works again. A long outage is loud, not a flood.
 */
export function failureStreakLog(
  intervalMs: number,
  now: () => number,
  log: {
    failed(error: unknown, failedSinceLastLine: number): void;
    recovered(failedInAll: number): void;
  },
) {
  const pace = atMostEvery(intervalMs, now);
  let failed = 0;
  let unlogged = 0;
  return {
    failed(error: unknown): void {
      failed++;
      unlogged++;
      if (!pace.due()) return;
      log.failed(error, unlogged);
      unlogged = 0;
    },
    succeeded(): void {
      if (failed === 0) return;
      log.recovered(failed);
      failed = 0;
      unlogged = 0;
      pace.reset();
    },
  };
}
