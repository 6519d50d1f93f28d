// The month-end timer: when a month becomes closable (its end plus sla.closeDelay, and at least the look-ahead),
// ask the month closer to close it, and keep asking every sla.closeRetry while a due month is held (its evidence
// still on its way, or the close failed). Everything else, exactly once included, is the closer's job.
//
// Due months: those closable by now, at most CATCH_UP_MONTHS back, not issued and not waiting for a person's
// review, and not ended before the store's first observation (a month nobody watched gets no report; it is
// logged once and can still be closed on demand). Each run also serves the revisions that changed records
// (incidents, maintenance) still owe an issued month or a month waiting for review: a restatement the command that
// changed them could not finish (another process was closing the month, evidence was on its way, it crashed).
import { schedule, type ScheduledTask } from 'node-cron';
import type { AppConfig } from '../config/types.js';
import { systemClock, type Clock } from '../clock.js';
import { closableAtMs, closeAfterEndMs, type MonthCloser } from '../close/month-closer.js';
import { isAbortOf } from '../concurrency.js';
import type { Logger } from '../logging.js';
import { monthContaining, monthWindow, previousMonth } from '../sla/month.js';
import type { CloseRecords } from '../state/close-records.js';
import type { ObservationStore } from '../store/store.js';

/** How long the store's earliest observation is remembered (it only moves earlier, by an import of older data). */
const EARLIEST_OBSERVATION_CACHE_MS = 10 * 60_000;

/**
 * The store's earliest observation, asked at most every EARLIEST_OBSERVATION_CACHE_MS once known: the due-months
 * count asks every half minute (metrics-refresh.ts), and on InfluxDB that is a query over all history.
 */
export function earliestObservationCached(store: ObservationStore, clock: Clock): () => Promise<number | undefined> {
  let known: { valueMs: number; atMs: number } | undefined;
  return async () => {
    if (known && clock.now() - known.atMs < EARLIEST_OBSERVATION_CACHE_MS) return known.valueMs;
    const valueMs = await store.earliestObservationMs();
    known = valueMs === undefined ? undefined : { valueMs, atMs: clock.now() };
    return valueMs;
  };
}

/** How many past months the timer looks back at most. */
export const CATCH_UP_MONTHS = 12;

/** Who the records name for the timer's closes. */
export const SCHEDULE_ACTOR = 'schedule';

export interface MonthEndJob {
  /** Closes every due month; returns the months issued by this run. */
  runDue(): Promise<string[]>;
  /** The months due now (closable, not issued, not waiting for review, not before the first observation). */
  dueMonths(): Promise<string[]>;
  /**
   * Schedules the cron task and the retry timer, and runs once now (catch-up after downtime); right after a stop whose
   * run is still ending, once that run has ended.
   */
  start(): void;
  /**
   * Unschedules and waits for a run in progress to end. A close still waiting for evidence or computing is cut short
   * with nothing recorded (at a fleet's size it takes minutes, longer than a service manager waits for a stop); the
   * next start takes it up. A close that has begun recording finishes.
   */
  stop(): Promise<void>;
  /** The node-cron task while started. */
  readonly task: ScheduledTask | undefined;
}

/** The node-cron expression (with seconds) for `delayMs` after local midnight on the 1st. */
export function monthEndCronExpression(delayMs: number): string {
  const seconds = Math.floor(delayMs / 1_000);
  // A delay of a day or more moves the day of month; past the 28th the retry timer catches up.
  const day = Math.min(28, 1 + Math.floor(seconds / 86_400));
  return `${seconds % 60} ${Math.floor(seconds / 60) % 60} ${Math.floor(seconds / 3_600) % 24} ${day} * *`;
}

/** Creates the month-end timer over a closer. */
export function createMonthEndJob(deps: {
  config: AppConfig;
  closer: MonthCloser;
  records: CloseRecords;
  /** The store's earliest observation time (undefined when it holds none). */
  earliestObservationMs: () => Promise<number | undefined>;
  /** Months owing a revision because their records changed (none when omitted). */
  pendingRevisionMonths?: () => string[];
  logger: Logger;
  clock?: Clock;
}): MonthEndJob {
  const { config, closer, records, logger } = deps;
  const clock = deps.clock ?? systemClock;
  let task: ScheduledTask | undefined;
  let retryTimer: { cancel(): void } | undefined;
  let running: Promise<string[]> | undefined;
  /**
   * Aborted by stop(), renewed by start(): the retry timer is not set again, and a run in progress starts no other
   * month and ends the one it is closing as soon as nothing of it would be recorded.
   */
  let stopping = new AbortController();
  const skippedLogged = new Set<string>();
  /** The last refusal logged per month owing a revision, so a refusal that repeats every run is logged once. */
  const refusalLogged = new Map<string, string>();

  const candidates = (): string[] => {
    const now = clock.now();
    const months: string[] = [];
    let month = monthContaining(now, config.timeZone);
    for (let i = 0; i <= CATCH_UP_MONTHS; i++, month = previousMonth(month)) {
      if (closableAtMs(config, month) > now) continue;
      const record = records.month(month);
      if (record && (record.revision > 0 || record.state === 'needs-review')) continue;
      months.unshift(month);
    }
    return months;
  };

  const dueMonths = async (): Promise<string[]> => {
    const months = candidates();
    if (months.length === 0) return [];
    const earliestMs = await deps.earliestObservationMs();
    const unwatched: string[] = [];
    const due = months.filter((month) => {
      // A month ending before the first observation had nobody watching; a month it starts in is closed (and
      // held for review when too little of it was observed).
      const watched = earliestMs !== undefined && monthWindow(month, config.timeZone).toMs > earliestMs;
      if (!watched && !skippedLogged.has(month)) unwatched.push(month);
      return watched;
    });
    const [first] = unwatched;
    if (first !== undefined) {
      for (const month of unwatched) skippedLogged.add(month);
      const which = unwatched.length === 1 ? first : `${first} to ${unwatched[unwatched.length - 1]}`;
      logger.warn(
        { months: unwatched },
        `not closing ${which}: ended before the first observation in the store; close on demand what should be`,
      );
    }
    return due;
  };

  const runDue = (): Promise<string[]> => {
    running ??= (async () => {
      const issued: string[] = [];
      const { signal } = stopping;
      try {
        // A revision recorded but not written (its files or journal rows) is retried here; it blocks no other month.
        const unfinished = new Set(await closer.recover());
        for (const month of await dueMonths()) {
          if (signal.aborted) break;
          if (unfinished.has(month)) continue;
          const outcome = await closer.close(month, { by: SCHEDULE_ACTOR, signal });
          if (outcome.status === 'issued') issued.push(month);
        }
        for (const month of deps.pendingRevisionMonths?.() ?? []) {
          if (signal.aborted) break;
          if (unfinished.has(month)) continue;
          const followUp = await closer.revise(month, { by: SCHEDULE_ACTOR, signal });
          if (followUp.action === 'none') continue;
          const { outcome } = followUp;
          if (outcome.status === 'issued') issued.push(month);
          if (outcome.status === 'rejected' && refusalLogged.get(month) !== outcome.reason) {
            refusalLogged.set(month, outcome.reason);
            logger.error(
              { month, reason: outcome.reason },
              `${month} owes a revision for changed incidents or maintenance, but it cannot be made: ${outcome.reason}`,
            );
          }
        }
      } catch (error) {
        if (isAbortOf(signal, error))
          logger.info(
            'the month-end run was cut short by the stop; what it had not recorded is taken up at the next start',
          );
        else logger.error({ err: error }, 'the month-end run failed; it is retried');
      }
      return issued;
    })().finally(() => (running = undefined));
    return running;
  };

  /** Retries every closeRetry until `signal` (the start's) aborts: a later start's chain is its own. */
  const scheduleRetry = (signal: AbortSignal) => {
    retryTimer = clock.setTimeout(() => {
      void runDue().finally(() => {
        if (!signal.aborted) scheduleRetry(signal);
      });
    }, config.sla.closeRetryMs);
  };

  return {
    runDue,
    dueMonths,
    start() {
      if (stopping.signal.aborted) stopping = new AbortController();
      const { signal } = stopping;
      const expression = monthEndCronExpression(closeAfterEndMs(config));
      // node-cron fires on the wall clock; should it fire before the month is closable, the retry timer follows.
      task = schedule(expression, () => void runDue(), {
        timezone: config.timeZone,
        name: 'month-end',
        noOverlap: true,
      });
      logger.info(
        { expression, timeZone: config.timeZone, retryMs: config.sla.closeRetryMs },
        'month-end job scheduled',
      );
      scheduleRetry(signal);
      // A run from before a stop may still be ending (cut short): the catch-up follows it rather than joins it.
      if (running === undefined) void runDue();
      else
        void running.finally(() => {
          if (!signal.aborted) void runDue();
        });
    },
    async stop() {
      stopping.abort(new Error('the month-end job is stopping'));
      retryTimer?.cancel();
      // Forgotten before the wait: a start meanwhile schedules a task of its own, which this stop must not clear.
      const stopped = task;
      task = undefined;
      await stopped?.destroy();
      await running;
    },
    get task() {
      return task;
    },
  };
}
