// The month-end job: shortly after local midnight on the 1st (plus sla.closeDelay), close the previous month:
// credits, ledger and reports. Exactly once, by two claims taken before closing:
//  - a row in the embedded database's month_closes table (PRIMARY KEY month), shared by restarts and by
//    replicas that share the data volume;
//  - a claim file reports/YYYY-MM/.close-claim created with O_EXCL, shared by replicas that share only the
//    reports volume (e.g. one daemon per probing location, each with its own outbox file).
// A second runner that finds either claim skips the month. A crash mid-close leaves an unfinished claim; after
// STALE_CLAIM_MS the next run takes it over (publishing writes whole files, so a retry never duplicates a
// ledger entry). A closed month can be re-rendered with force; that never adds ledger entries either.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { schedule, type ScheduledTask } from 'node-cron';
import type { AppConfig } from '../config/types.js';
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logging.js';
import { monthContaining, monthWindow, nextMonth, previousMonth } from '../sla/month.js';
import type { EmbeddedDatabase } from '../store/embedded/database.js';
import type { PublishResult } from '../close/publish.js';

/** How many past months a start catches up at most. */
export const CATCH_UP_MONTHS = 12;
/** A claim older than this without finishing is taken to be from a process that died. */
export const STALE_CLAIM_MS = 30 * 60_000;
/** The claim file inside reports/YYYY-MM/. */
export const CLAIM_FILE = '.close-claim';

/** What an on-demand close did: published (see PublishResult.status), or why it did nothing. */
export type CloseOutcome =
  | (PublishResult & { month: string })
  | { status: 'already-closed' | 'claimed-elsewhere'; month: string }
  | { status: 'not-ended'; month: string; endsAt: string };

export interface MonthEndJob {
  /** Closes every due, unclosed month (at most CATCH_UP_MONTHS back); returns the months it closed. */
  runDue(): Promise<string[]>;
  /** Closes one ended month now (the API's on-demand close); `force` re-renders a closed month. */
  closeMonth(month: string, force?: boolean): Promise<CloseOutcome>;
  /** Schedules the cron task and catches up on months missed while the daemon was down. */
  start(): void;
  /** Unschedules and waits for a close in progress. */
  stop(): Promise<void>;
  /** The node-cron task while started (for readiness and tests). */
  readonly task: ScheduledTask | undefined;
}

/** The node-cron expression (with seconds) for `closeDelayMs` after local midnight on the 1st. */
export function monthEndCronExpression(closeDelayMs: number): string {
  const seconds = Math.floor(closeDelayMs / 1_000);
  // A delay of a day or more moves the day of month; past the 28th the in-run due check waits out the rest.
  const day = Math.min(28, 1 + Math.floor(seconds / 86_400));
  return `${seconds % 60} ${Math.floor(seconds / 60) % 60} ${Math.floor(seconds / 3_600) % 24} ${day} * *`;
}

interface ClaimFile {
  owner: string;
  claimedAtMs: number;
  finishedAtMs?: number;
  status?: string;
}

/** Creates the month-end job over the embedded database's month_closes table and the reports folder. */
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
  const claimRow = db.prepare(
    `INSERT INTO month_closes (month, claimed_by, claimed_at_ms) VALUES (@month, @owner, @now)
     ON CONFLICT(month) DO UPDATE SET claimed_by = @owner, claimed_at_ms = @now
       WHERE month_closes.finished_at_ms IS NULL AND month_closes.claimed_at_ms < @staleBefore`,
  );
  const finishRow = db.prepare('UPDATE month_closes SET finished_at_ms = ?, status = ? WHERE month = ? AND claimed_by = ?');
  const releaseRow = db.prepare('DELETE FROM month_closes WHERE month = ? AND claimed_by = ? AND finished_at_ms IS NULL');
  const lastFinishedRow = db.prepare('SELECT max(month) AS month FROM month_closes WHERE finished_at_ms IS NOT NULL');
  const finishedRow = db.prepare('SELECT 1 FROM month_closes WHERE month = ? AND finished_at_ms IS NOT NULL');
  let task: ScheduledTask | undefined;
  let retryTimer: { cancel(): void } | undefined;
  let running: Promise<string[]> | undefined;
  const inFlight = new Set<Promise<unknown>>();

  const claimPath = (month: string) => join(config.reports.dir, month, CLAIM_FILE);
  const readClaimFile = (month: string): ClaimFile | undefined => {
    try {
      return JSON.parse(readFileSync(claimPath(month), 'utf8')) as ClaimFile;
    } catch {
      return undefined; // absent, or half-written by a process that died: judged by its age below
    }
  };
  const writeClaimFile = (month: string, claim: ClaimFile) => {
    const temporary = `${claimPath(month)}.tmp-${process.pid}`;
    writeFileSync(temporary, JSON.stringify(claim));
    renameSync(temporary, claimPath(month));
  };
  const finishedElsewhere = (month: string) => readClaimFile(month)?.finishedAtMs !== undefined;

  /** Takes the claim file with O_EXCL; a stale unfinished one is taken over. */
  const takeClaimFile = (month: string, now: number): boolean => {
    mkdirSync(join(config.reports.dir, month), { recursive: true });
    const path = claimPath(month);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        try {
          writeSync(fd, JSON.stringify({ owner, claimedAtMs: now } satisfies ClaimFile));
        } finally {
          closeSync(fd);
        }
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the month-close claim ${path}: ${(error as Error).message}`, { cause: error });
      }
      const existing = readClaimFile(month);
      const claimedAtMs = existing?.claimedAtMs ?? statSync(path).mtimeMs;
      if (existing?.finishedAtMs !== undefined || claimedAtMs >= now - STALE_CLAIM_MS) return false;
      logger.warn({ month, staleOwner: existing?.owner }, 'taking over a month-close claim abandoned by a process that died');
      try {
        unlinkSync(path);
      } catch {
        // another runner took it over first; the next attempt's O_EXCL decides
      }
    }
    return false;
  };

  const closeClaimed = async (month: string, force: boolean): Promise<CloseOutcome> => {
    const now = clock.now();
    if (!force && (finishedRow.get(month) || finishedElsewhere(month))) {
      if (!finishedRow.get(month) && claimRow.run({ month, owner, now, staleBefore: now - STALE_CLAIM_MS }).changes === 1) {
        finishRow.run(now, 'closed-elsewhere', month, owner); // so this runner's catch-up starts after it
      }
      return { status: 'already-closed', month };
    }
    let claimed = claimRow.run({ month, owner, now, staleBefore: now - STALE_CLAIM_MS }).changes === 1;
    if (claimed && !takeClaimFile(month, now)) {
      releaseRow.run(month, owner);
      claimed = false;
    }
    if (!claimed && !force) return { status: finishedRow.get(month) || finishedElsewhere(month) ? 'already-closed' : 'claimed-elsewhere', month };
    try {
      const result = await deps.publish(month, force);
      if (claimed) {
        const finishedAtMs = clock.now();
        writeClaimFile(month, { owner, claimedAtMs: now, finishedAtMs, status: result.status });
        finishRow.run(finishedAtMs, result.status, month, owner);
      }
      logger.info({ month, status: result.status, dir: result.dir, differences: result.differences }, 'month closed');
      return { ...result, month };
    } catch (error) {
      if (claimed) {
        releaseRow.run(month, owner);
        if (existsSync(claimPath(month)) && readClaimFile(month)?.owner === owner) unlinkSync(claimPath(month));
      }
      throw error;
    }
  };

  const dueMonths = (): string[] => {
    const now = clock.now();
    const current = monthContaining(now, config.timeZone);
    const justEnded = previousMonth(current);
    const due = now >= monthWindow(current, config.timeZone).fromMs + config.sla.closeDelayMs;
    const lastClosed = (lastFinishedRow.get() as { month: string | null }).month;
    if (!lastClosed) return due ? [justEnded] : []; // a first start closes the month just ended, not all of history
    const months: string[] = [];
    let m = due ? justEnded : previousMonth(justEnded);
    for (; m > lastClosed && months.length < CATCH_UP_MONTHS; m = previousMonth(m)) months.unshift(m);
    if (m > lastClosed) logger.warn({ from: nextMonth(lastClosed), to: m }, `months older than ${CATCH_UP_MONTHS} are not caught up; close them on demand`);
    return months;
  };

  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    return work.finally(() => inFlight.delete(work));
  };

  const runDue = async (): Promise<string[]> => {
    if (running) return running;
    running = track(
      (async () => {
        const closed: string[] = [];
        for (const month of dueMonths()) {
          try {
            const outcome = await closeClaimed(month, false);
            if (outcome.status !== 'already-closed' && outcome.status !== 'claimed-elsewhere') closed.push(month);
          } catch (error) {
            logger.error({ err: error, month }, 'closing the month failed; the next run retries');
          }
        }
        return closed;
      })().finally(() => (running = undefined)),
    );
    return running;
  };

  // node-cron fires on the local wall clock; should it fire before the delay has elapsed in real time (a clock
  // step, a timer firing early), wait out the rest rather than skip the month until the next run.
  const onCronTick = () => {
    const now = clock.now();
    const dueAtMs = monthWindow(monthContaining(now, config.timeZone), config.timeZone).fromMs + config.sla.closeDelayMs;
    if (now < dueAtMs) {
      retryTimer?.cancel();
      retryTimer = clock.setTimeout(() => void runDue(), dueAtMs - now);
      return;
    }
    void runDue();
  };

  return {
    runDue,
    async closeMonth(month, force = false) {
      const window = monthWindow(month, config.timeZone);
      if (clock.now() < window.toMs) return { status: 'not-ended', month, endsAt: new Date(window.toMs).toISOString() };
      return track(closeClaimed(month, force));
    },
    start() {
      const expression = monthEndCronExpression(config.sla.closeDelayMs);
      task = schedule(expression, onCronTick, { timezone: config.timeZone, name: 'month-end', noOverlap: true });
      logger.info({ expression, timeZone: config.timeZone }, 'month-end job scheduled');
      void runDue(); // catch up on what was missed while the daemon was down
    },
    async stop() {
      retryTimer?.cancel();
      await task?.destroy();
      task = undefined;
      await Promise.allSettled([...inFlight]);
    },
    get task() {
      return task;
    },
  };
}
