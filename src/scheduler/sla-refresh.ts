// The month-to-date SLA view: recomputed from the store every few seconds and kept as a snapshot, so that a
// scrape of /metrics or a call to /api/v1/servers costs a map lookup, not a month of observations. The reading and
// the availability run in the month computations (the daemon's compute worker, off the probe loop's event loop);
// only the snapshot's assembly (outlook, budgets, projections) runs here.
import type { AppConfig } from '../config/types.js';
import { forEachInSlices } from '../concurrency.js';
import { systemClock, type Clock } from '../clock.js';
import { computed, type MonthComputations, type RunningMonthOptions } from '../close/month-computations.js';
import { availabilityInputs, recordsOf, serverRecords } from '../close/server-records.js';
import { customersForMonth } from '../config/terms.js';
import type { Logger } from '../logging.js';
import { atMostEvery, failureStreakLog, REPEATED_FAILURE_LOG_EVERY_MS } from '../pacing.js';
import { monthContaining, monthWindow } from '../sla/month.js';
import { monthOutlook, RECENT_DOWNTIME_WINDOWS, recentDowntimeMs, type MonthOutlook } from '../sla/outlook.js';
import type { MonthCredits, ServerAvailability, ServerCredit } from '../sla/types.js';
import type { OperatorRecordsReader } from '../state/operator-records.js';
import type { IncrementalReads } from './incremental-reads.js';

/** Default time between recomputations. */
export const SLA_REFRESH_INTERVAL_MS = 15_000;

/** Servers whose views are assembled between two turns of the event loop (a few ms of work). */
const SERVERS_PER_SLICE = 500;

const LONGEST_RECENT_WINDOW_MS = Math.max(...RECENT_DOWNTIME_WINDOWS.map((w) => w.ms));

/** One server's month to date as the metrics and the alert rules read it. */
export interface ServerSlaView {
  customer: string;
  server: string;
  /** The tier in force this month. */
  tier: string;
  monthToDate: ServerAvailability;
  /** The whole month's budgets and the eligible time still to come. */
  outlook: MonthOutlook;
  /** Downtime within each of RECENT_DOWNTIME_WINDOWS before asOf, ms, by window label. */
  recentDowntimeMs: Record<(typeof RECENT_DOWNTIME_WINDOWS)[number]['label'], number>;
  /** What the month would credit at the month-to-date uptime: percent of the fee (hundredths) and amount. */
  projectedCreditPercentHundredths: number;
  projectedCreditGrosze: number;
}

/** The SLA view at one instant. */
export interface SlaSnapshot {
  /** 'YYYY-MM' of the month to date. */
  month: string;
  /** The instant the month to date ends at (the refresh time). */
  asOfMs: number;
  /** Availability of every server from the month's start to asOfMs. */
  availability: Map<string, ServerAvailability>;
  /**
   * What the month would credit if it ended at each server's month-to-date uptime: the SLA core's month close
   * over the whole month, with each server's whole-month coverage as the fee base.
   */
  projected: MonthCredits;
  /** Each server's projected credit from `projected`, by server id. */
  projectedByServer: Map<string, ServerCredit>;
  /** Every server of the month's customers, in configuration order. */
  servers: ServerSlaView[];
}

export interface SlaRefresh {
  /** Recomputes now and returns the new snapshot. */
  refresh(): Promise<SlaSnapshot>;
  /** Forgets the month's runs read so far and recomputes from the whole month (after an import of older data). */
  recompute(): Promise<SlaSnapshot>;
  /** The latest snapshot, undefined before the first refresh finished. */
  snapshot(): SlaSnapshot | undefined;
  /** Refreshes now and then every interval (the next one starts after the last one finished). */
  start(): void;
  /** Stops refreshing; a refresh in progress is left to end (or fail) on its own, unwaited. */
  stop(): Promise<void>;
}

/**
 * Where one refresh's time went, in ms of the monotonic clock: the computation in the worker (the read and the
 * availability, as this thread waits for it), the last 6 h across the month's start (0 inside the month), the
 * servers' views, and onSnapshot (the metrics' rendering). A refresh that takes longer than its interval says so in
 * the log with these, so that a slow one names the part that held it.
 */
export interface RefreshTiming {
  totalMs: number;
  computeMs: number;
  recentMs: number;
  viewsMs: number;
  snapshotMs: number;
  /** Whether the read was of the whole month (the first, or a restart) rather than of what followed the last one. */
  wholeMonth: boolean;
}

/** Creates the periodic month-to-date recomputation; `onSnapshot` sees each new snapshot (metrics). */
export function createSlaRefresh(deps: {
  config: AppConfig;
  /** People's records of the month, read here and passed with each computation (the budgets need them too). */
  operatorRecords: OperatorRecordsReader;
  /** Where the month to date is read and computed: the daemon's compute worker; no store is read on this thread. */
  computations: MonthComputations;
  logger: Logger;
  clock?: Clock;
  intervalMs?: number;
  onSnapshot?: (snapshot: SlaSnapshot) => void | Promise<void>;
  /** Sees each finished refresh's timing (metrics), after its snapshot. */
  onTimed?: (timing: RefreshTiming) => void;
  /**
   * Where each refresh takes its incremental read (incremental-reads.ts): given, the computations keep the month's
   * settled runs and each refresh reads only what follows; without it, each reads the whole month to date.
   */
  incrementalReads?: IncrementalReads;
}): SlaRefresh {
  const { config, computations, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const intervalMs = deps.intervalMs ?? SLA_REFRESH_INTERVAL_MS;
  let latest: SlaSnapshot | undefined;
  let timer: { cancel(): void } | undefined;
  let inProgress: Promise<SlaSnapshot> | undefined;
  let stopped = true;
  const overruns = { pace: atMostEvery(REPEATED_FAILURE_LOG_EVERY_MS, () => clock.now()), untold: 0 };
  const compute = async (): Promise<SlaSnapshot> => {
    // Durations by the monotonic clock: the refresh's own clock may be a test's fake one, or jump.
    const startedAt = performance.now();
    const asOfMs = clock.now();
    const month = monthContaining(asOfMs, config.timeZone);
    const window = monthWindow(month, config.timeZone);
    // The whole month's records: the month to date uses what touches it, the budgets also windows still to come.
    const records = serverRecords(config, deps.operatorRecords, window);
    const toDate = (options?: RunningMonthOptions) => computations.monthToDateCredits(month, asOfMs, records, options);
    let wholeMonth = true;
    const { availability, credits: projected } = computed(
      await (deps.incrementalReads
        ? deps.incrementalReads.withRead((incremental) => {
            wholeMonth = incremental.restart || latest?.month !== month;
            return toDate({ incremental });
          })
        : toDate()),
    );
    const computedAt = performance.now();
    const projectedByServer = new Map(
      projected.customers.flatMap((customer) => customer.servers.map((server) => [server.id, server] as const)),
    );
    // Outages of the last 6 h: the month's own, unless the window reaches back into the previous month.
    const recentFromMs = asOfMs - LONGEST_RECENT_WINDOW_MS;
    const recent =
      recentFromMs >= window.fromMs
        ? availability
        : computed(await computations.availability({ fromMs: recentFromMs, toMs: asOfMs }, [...config.servers.keys()]));
    const recentAt = performance.now();
    const servers: ServerSlaView[] = [];
    const fleet = customersForMonth(config, month).flatMap((customer) =>
      customer.servers.map((server) => ({ customer, server })),
    );
    // In slices: 10,000 servers' outlooks are ~50-90 ms of this thread, which the probes and scrapes would wait for.
    await forEachInSlices(fleet, SERVERS_PER_SLICE, ({ customer, server }) => {
      const monthToDate = availability.get(server.id);
      const credit = projectedByServer.get(server.id);
      if (!monthToDate || !credit) return;
      const outlook = monthOutlook({
        window,
        asOfMs,
        sinceMs: server.sinceMs,
        untilMs: server.untilMs,
        maintenance: availabilityInputs(recordsOf(records, server.id)).maintenance,
        downtimeMs: monthToDate.downtimeMs,
        brackets: customer.tier.brackets,
      });
      const outages = recent.get(server.id)?.outages ?? [];
      const recentDowntime = Object.fromEntries(
        RECENT_DOWNTIME_WINDOWS.map((w) => [w.label, recentDowntimeMs(outages, asOfMs, w.ms)]),
      ) as ServerSlaView['recentDowntimeMs'];
      const view: ServerSlaView = {
        customer: customer.id,
        server: server.id,
        tier: customer.tier.name,
        monthToDate,
        outlook,
        recentDowntimeMs: recentDowntime,
        projectedCreditPercentHundredths: credit.creditPercentHundredths,
        projectedCreditGrosze: credit.creditAmountGrosze,
      };
      servers.push(view);
    });
    latest = { month, asOfMs, availability, projected, projectedByServer, servers };
    const viewsAt = performance.now();
    await deps.onSnapshot?.(latest);
    const endedAt = performance.now();
    const timing: RefreshTiming = {
      totalMs: Math.round(endedAt - startedAt),
      computeMs: Math.round(computedAt - startedAt),
      recentMs: Math.round(recentAt - computedAt),
      viewsMs: Math.round(viewsAt - recentAt),
      snapshotMs: Math.round(endedAt - viewsAt),
      wholeMonth,
    };
    tellOverrun(timing);
    deps.onTimed?.(timing);
    return latest;
  };

  /** A refresh longer than its interval leaves the month to date staler than the dashboards expect: told, paced. */
  const tellOverrun = (timing: RefreshTiming) => {
    if (timing.totalMs <= intervalMs) return;
    overruns.untold++;
    if (!overruns.pace.due()) return;
    // The first read of a month (or a restart) reads it whole and may well take longer: worth knowing, not a fault.
    const line = `the month-to-date refresh took ${(timing.totalMs / 1_000).toFixed(1)} s, longer than its ${intervalMs / 1_000} s interval (logged at most once a minute)`;
    const fields = { ...timing, intervalMs, longerSinceLastLine: overruns.untold };
    if (timing.wholeMonth) logger.info(fields, line);
    else logger.warn(fields, line);
    overruns.untold = 0;
  };

  const refresh = (): Promise<SlaSnapshot> => {
    inProgress ??= compute().finally(() => (inProgress = undefined));
    return inProgress;
  };

  const failures = failureStreakLog(logger, 'refreshing the month-to-date SLA view', () => clock.now());

  const scheduleNext = (delayMs: number) => {
    timer = clock.setTimeout(() => {
      refresh()
        .then(
          () => {
            if (!stopped) failures.succeeded();
          },
          (error: unknown) => {
            if (!stopped) failures.failed(error);
          },
        )
        .finally(() => {
          if (!stopped) scheduleNext(intervalMs);
        });
    }, delayMs);
  };

  return {
    refresh,
    async recompute() {
      deps.incrementalReads?.restartNext();
      // A refresh already running may have started before the request: the answer is one started after it.
      while (inProgress !== undefined) await inProgress.catch(() => undefined);
      return refresh();
    },
    snapshot: () => latest,
    start() {
      stopped = false;
      scheduleNext(0);
    },
    async stop() {
      stopped = true;
      timer?.cancel();
      // A refresh in progress is not waited for: at a large fleet it can take minutes, and its snapshot is of no use
      // to a stopping daemon (closing the computations ends it).
    },
  };
}
