// The month computations as one service, so a caller does not care where they run: on its own event loop
// (in-thread: the CLI, tests with a fake clock or in-memory stores) or in the compute worker (the daemon, so that
// probing never waits for a computation: compute-worker.ts).
import type { AppConfig } from '../config/types.js';
import type { DataVersion } from './cached-computations.js';
import type { ProgressListener } from '../progress.js';
import type { Interval, MonthCredits, ServerAvailability } from '../sla/types.js';
import { IncrementalRunSource } from '../store/incremental-runs.js';
import {
  computeCredits,
  computeMonthToDateCredits,
  computeServersAvailability,
  monthReadRange,
  runLookbackMs,
  type EvidenceStores,
} from './compute.js';
import type { ServerRecords } from './server-records.js';
import { creditsToJson } from './json.js';
import { serverTimeline, type ServerTimeline } from './server-timeline.js';

/**
 * People's records read by the caller, or none: the computation then reads them itself. A caller that snapshots
 * the records beside the figures (the month close) passes them, so both name the same records.
 */
export type RecordsGiven = ReadonlyMap<string, ServerRecords> | undefined;

/** Where a computation may take its answer from. */
export interface ComputeOptions {
  /** Answer only from the cache (undefined when nothing is cached for the data as it is now): see cached-computations.ts. */
  cachedOnly?: boolean;
  onProgress?: ProgressListener;
}

/**
 * A month to date read incrementally (store/incremental-runs.ts): the computations keep the month's settled runs from
 * one such call to the next and read only what follows. The settled mark is the caller's (it needs the probe loop and
 * the outbox); `restart` forgets the kept runs first (recompute on demand, or another process wrote to the store).
 */
export interface IncrementalRead {
  settledThroughMs: number;
  /**
   * The order the mark was taken in (incremental-reads.ts). Computations run concurrently, so a read may reach the
   * computations after one with a later mark; the later mark knows at least as much, also when it moved back.
   */
  markTaken: number;
  restart: boolean;
}

/**
 * ComputeOptions of the running month, which may be read incrementally. Its answer is the same as a whole read's
 * (store/incremental-runs.ts), so it is cached like one; a read that restarts is always computed (the restart must
 * reach the kept runs).
 */
export interface RunningMonthOptions extends ComputeOptions {
  incremental?: IncrementalRead;
}

/** The month computations of close/compute.ts and close/server-timeline.ts behind one interface. */
export interface MonthComputations {
  /** computeCredits: a month's credits. */
  credits(month: string, records?: RecordsGiven, options?: RunningMonthOptions): Promise<MonthCredits | undefined>;
  /**
   * The credits JSON document (json.ts) of credits(month), encoded as UTF-8: what GET /api/v1/credits sends. Made
   * where the computation runs, so that the daemon's event loop only copies bytes (a fleet's month is megabytes of
   * JSON, and the answer is asked several times a second).
   */
  creditsJson(month: string, options?: RunningMonthOptions): Promise<Uint8Array | undefined>;
  /** computeMonthToDateCredits: a running month up to `asOfMs`. */
  monthToDateCredits(
    month: string,
    asOfMs: number,
    records?: RecordsGiven,
    options?: RunningMonthOptions,
  ): Promise<{ availability: Map<string, ServerAvailability>; credits: MonthCredits } | undefined>;
  /** computeServersAvailability: the named servers over any window (the API's outages). */
  availability(
    window: Interval,
    serverIds: readonly string[],
    options?: ComputeOptions,
  ): Promise<Map<string, ServerAvailability> | undefined>;
  /** serverTimeline: one server's timeline (the web pages). */
  timeline(serverId: string, window: Interval, options?: ComputeOptions): Promise<ServerTimeline | undefined>;
  /** Releases what the computations hold (the worker, its connections). */
  close(): Promise<void>;
}

/** A computation asked of closed computations, or cut short by their close (the daemon is stopping). */
export class ComputationsClosedError extends Error {
  constructor() {
    super('the month computations were closed: the daemon is stopping');
    this.name = 'ComputationsClosedError';
  }
}

/** The answer, which a call without `cachedOnly` always has. */
export function computed<T>(answer: T | undefined): T {
  if (answer === undefined) throw new Error('a computation without cachedOnly answered nothing');
  return answer;
}

/**
 * The computations on the caller's event loop, reading `sources` directly; no cache (`cachedOnly` finds nothing).
 * For the CLI's one-shot commands and for tests; the daemon uses workerComputations (whose worker runs these).
 */
export function inThreadComputations(
  config: AppConfig,
  sources: EvidenceStores,
  /**
   * The store's data version (cached-computations.ts), when the caller knows one: passes of the running month at one
   * version share their reads (IncrementalRunSource.beginPass). A version that cannot be read shares nothing.
   */
  dataVersion?: DataVersion,
): MonthComputations {
  // The one incremental source of the running month (the refresh's month to date, the API's credits of the month):
  // it serves the requested month's read range and the latest mark taken of the requests seen so far. Such requests
  // take turns. A request whose mark was taken before one already used reads with the later mark: its own, taken a
  // moment earlier, would look like the mark moving back. A cut moved back past a server's last kept observation
  // falls inside the run it ends, and for a server up all month that run began at the month's start: its whole
  // month would be read again.
  let latestMark: IncrementalRead | undefined;
  let cachedFromMs = Number.NaN;
  const monthToDateRuns = new IncrementalRunSource({
    inner: sources.store,
    settledThroughMs: async () => latestMark?.settledThroughMs ?? Number.NEGATIVE_INFINITY,
    cachedFromMs: () => cachedFromMs,
    marginMs: runLookbackMs(config),
  });
  let incrementalTurn: Promise<unknown> = Promise.resolve();
  const incrementally = <T>(month: string, read: IncrementalRead, compute: (s: EvidenceStores) => Promise<T>) => {
    const turn = incrementalTurn.then(async () => {
      if (read.restart) monthToDateRuns.reset();
      monthToDateRuns.beginPass(await dataVersion?.().catch(() => undefined));
      if (!latestMark || read.markTaken > latestMark.markTaken) latestMark = read;
      cachedFromMs = monthReadRange(config, month).fromMs;
      return compute({ ...sources, store: monthToDateRuns });
    });
    incrementalTurn = turn.catch(() => undefined);
    return turn;
  };

  const computations: MonthComputations = {
    async credits(month, records, options) {
      if (options?.cachedOnly) return undefined;
      const { incremental } = options ?? {};
      if (incremental)
        return incrementally(month, incremental, (read) =>
          computeCredits(config, read, month, records, options?.onProgress),
        );
      return computeCredits(config, sources, month, records, options?.onProgress);
    },
    async creditsJson(month, options) {
      const credits = await computations.credits(month, undefined, options);
      return credits && Buffer.from(JSON.stringify(creditsToJson(credits)));
    },
    async monthToDateCredits(month, asOfMs, records, options) {
      if (options?.cachedOnly) return undefined;
      const { incremental } = options ?? {};
      if (incremental)
        return incrementally(month, incremental, (read) =>
          computeMonthToDateCredits(config, read, month, asOfMs, records, options?.onProgress),
        );
      return computeMonthToDateCredits(config, sources, month, asOfMs, records, options?.onProgress);
    },
    async availability(window, serverIds, options) {
      if (options?.cachedOnly) return undefined;
      return computeServersAvailability(config, sources, window, serverIds, undefined, options?.onProgress);
    },
    async timeline(serverId, window, options) {
      if (options?.cachedOnly) return undefined;
      return serverTimeline(config, sources, serverId, window);
    },
    async close() {},
  };
  return computations;
}
