// The metrics that are read rather than counted: the month-close series from the records (other processes close
// months too: the CLI's report and approve), the months due for closing, and the write path. Each on its own
// timer; a failed read is logged and the next one tries again.
import type { Clock } from '../clock.js';
import type { Logger } from '../logging.js';
import type { CloseMonthView, Metrics, WritePathView } from '../metrics/metrics.js';
import { failureStreakLog } from '../pacing.js';

/** How often the month-close metrics are read again from the records. */
const CLOSE_METRICS_EVERY_MS = 30_000;
/** How often the write-path metrics are read from the store and the probe loop. */
const WRITE_PATH_METRICS_EVERY_MS = 2_000;

export interface MetricsRefresh {
  /** Reads the month-close series now (after a close of this process) and keeps reading them on a timer. */
  refreshCloseMetrics(): void;
  start(): void;
  /** Cancels the timers and waits for a count of due months in progress. */
  stop(): Promise<void>;
}

export function createMetricsRefresh(deps: {
  metrics: Pick<Metrics, 'recordCloseStates' | 'recordPendingRevisions' | 'recordDueMonths' | 'recordWritePath'>;
  logger: Logger;
  clock: Clock;
  closeStates(): CloseMonthView[];
  pendingRevisionMonths(): string[];
  /** The months due for closing; only the instance that closes months counts them. */
  dueMonths?: () => Promise<string[]>;
  writePath(): WritePathView;
}): MetricsRefresh {
  const { metrics, logger, clock } = deps;
  let stopping = false;
  const cancels: (() => void)[] = [];
  // One count at a time, so an older answer never overwrites a newer one; a count asked for meanwhile (after a
  // close) runs when the current one ends.
  let dueCount: Promise<void> | undefined;
  let recountWanted = false;
  const dueCountFailures = failureStreakLog(logger, 'finding the months due for closing', () => clock.now());
  const countDueMonths = (dueMonths: () => Promise<string[]>): void => {
    if (stopping) return;
    if (dueCount !== undefined) {
      recountWanted = true;
      return;
    }
    dueCount = dueMonths()
      .then(
        (due) => {
          if (stopping) return;
          metrics.recordDueMonths(due.length);
          dueCountFailures.succeeded();
        },
        (error: unknown) => {
          if (!stopping) dueCountFailures.failed(error);
        },
      )
      .finally(() => {
        dueCount = undefined;
        if (recountWanted) {
          recountWanted = false;
          countDueMonths(dueMonths);
        }
      });
  };
  const refreshCloseMetrics = () => {
    try {
      metrics.recordCloseStates(deps.closeStates());
      metrics.recordPendingRevisions(deps.pendingRevisionMonths().length);
    } catch (error) {
      logger.error({ err: error }, 'reading the month-close records for the metrics failed');
    }
    if (deps.dueMonths) countDueMonths(deps.dueMonths);
  };
  const refreshWritePath = () => {
    try {
      metrics.recordWritePath(deps.writePath());
    } catch (error) {
      logger.error({ err: error }, 'reading the write path for the metrics failed');
    }
  };
  const every = (intervalMs: number, work: () => void) => {
    let timer: { cancel(): void } | undefined;
    const next = () => {
      timer = clock.setTimeout(() => {
        work();
        if (!stopping) next();
      }, intervalMs);
    };
    next();
    cancels.push(() => timer?.cancel());
  };

  return {
    refreshCloseMetrics,
    start() {
      refreshCloseMetrics();
      refreshWritePath();
      every(CLOSE_METRICS_EVERY_MS, refreshCloseMetrics);
      every(WRITE_PATH_METRICS_EVERY_MS, refreshWritePath);
    },
    async stop() {
      stopping = true;
      for (const cancel of cancels) cancel();
      await dueCount;
    },
  };
}
