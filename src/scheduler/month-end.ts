// The month-end job: shortly after local midnight on the 1st (plus sla.closeDelay), close the previous month:
// credits, ledger and reports. Exactly once: a claim row in the embedded database (shared by restarts and by
// replicas that share the data volume) is taken before closing, so a second runner skips the month; a crash
// mid-close leaves the claim unfinished, and the next start retries it (publishing is idempotent).
import { hostname } from 'node:os';
import { schedule, type ScheduledTask } from 'node-cron';
import type { AppConfig } from '../config/types.js';
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logging.js';
import { monthContaining, monthWindow, previousMonth } from '../sla/month.js';
import type { EmbeddedDatabase } from '../store/embedded/database.js';
import type { PublishResult } from '../close/publish.js';

/** How many past months a start catches up at most. */
const CATCH_UP_MONTHS = 12;
/** A claim older than this without finishing is taken to be from a process that died. */
const STALE_CLAIM_MS = 30 * 60_000;

export interface MonthEndJob {
  /** Closes every due, unclosed month (at most CATCH_UP_MONTHS back); returns the months it closed. */
  runDue(): Promise<string[]>;
  /** Closes one month now (the API's on-demand close); `force` re-renders a closed month. */
  closeMonth(month: string, force?: boolean): Promise<PublishResult | { status: 'already-closed' | 'claimed-elsewhere'; month: string }>;
  start(): void;
  stop(): void;
}

/** The node-cron expression for `closeDelayMs` after local midnight on the 1st. */
export function monthEndCronExpression(closeDelayMs: number): string {
  const minutes = Math.floor(closeDelayMs / 60_000);
  return `${minutes % 60} ${Math.floor(minutes / 60) % 24} 1 * *`;
}

export function createMonthEndJob(deps: {
  config: AppConfig;
  db: EmbeddedDatabase;
  logger: Logger;
  clock?: Clock;
  publish: (month: string, force: boolean) => Promise<PublishResult>;
  /** Identifies this process in claims (host:pid by default). */
  owner?: string;
}): MonthEndJob {
  const { config, db, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const owner = deps.owner ?? `${hostname()}:${process.pid}`;
  const claim = db.prepare(
    `INSERT INTO month_closes (month, claimed_by, claimed_at_ms) VALUES (@month, @owner, @now)
     ON CONFLICT(month) DO UPDATE SET claimed_by = @owner, claimed_at_ms = @now
       WHERE month_closes.finished_at_ms IS NULL AND month_closes.claimed_at_ms < @staleBefore`,
  );
  const finish = db.prepare('UPDATE month_closes SET finished_at_ms = ?, status = ? WHERE month = ? AND claimed_by = ?');
  const release = db.prepare('DELETE FROM month_closes WHERE month = ? AND claimed_by = ? AND finished_at_ms IS NULL');
  const lastFinished = db.prepare('SELECT max(month) AS month FROM month_closes WHERE finished_at_ms IS NOT NULL');
  const finished = db.prepare('SELECT 1 FROM month_closes WHERE month = ? AND finished_at_ms IS NOT NULL');
  let task: ScheduledTask | undefined;
  let running: Promise<string[]> | undefined;

  const closeClaimed = async (month: string, force: boolean): Promise<PublishResult | undefined> => {
    const now = clock.now();
    if (!force && finished.get(month)) return undefined;
    const claimed = claim.run({ month, owner, now, staleBefore: now - STALE_CLAIM_MS }).changes === 1;
    if (!claimed && !force) return undefined;
    try {
      const result = await deps.publish(month, force);
      if (claimed) finish.run(clock.now(), result.status, month, owner);
      logger.info({ month, status: result.status, dir: result.dir, differences: result.differences }, 'month closed');
      return result;
    } catch (error) {
      if (claimed) release.run(month, owner);
      throw error;
    }
  };

  const dueMonths = (): string[] => {
    const now = clock.now();
    const current = monthContaining(now, config.timeZone);
    const justEnded = previousMonth(current);
    const due = now >= monthWindow(current, config.timeZone).fromMs + config.sla.closeDelayMs;
    const lastClosed = (lastFinished.get() as { month: string | null }).month;
    if (!lastClosed) return due ? [justEnded] : []; // a first start closes the month just ended, not all of history
    const months: string[] = [];
    for (let m = due ? justEnded : previousMonth(justEnded); m > lastClosed && months.length < CATCH_UP_MONTHS; m = previousMonth(m)) months.unshift(m);
    return months;
  };

  const runDue = async (): Promise<string[]> => {
    if (running) return running;
    running = (async () => {
      const closed: string[] = [];
      for (const month of dueMonths()) {
        try {
          if (await closeClaimed(month, false)) closed.push(month);
        } catch (error) {
          logger.error({ err: error, month }, 'closing the month failed; the next run retries');
        }
      }
      return closed;
    })().finally(() => (running = undefined));
    return running;
  };

  return {
    runDue,
    async closeMonth(month, force = false) {
      const result = await closeClaimed(month, force);
      return result ?? { status: finished.get(month) ? 'already-closed' : 'claimed-elsewhere', month };
    },
    start() {
      const expression = monthEndCronExpression(config.sla.closeDelayMs);
      task = schedule(expression, () => void runDue(), { timezone: config.timeZone, name: 'month-end' });
      logger.info({ expression, timeZone: config.timeZone }, 'month-end job scheduled');
      void runDue(); // catch up on what was missed while the daemon was down
    },
    stop() {
      void task?.stop();
    },
  };
}
