// The month computations as one service, so a caller does not care where they run: on its own event loop
// (in-thread: the CLI, tests with a fake clock or in-memory stores) or in the compute worker (the daemon, so that
// probing never waits for a computation: compute-worker.ts).
import type { AppConfig } from '../config/types.js';
import type { ProgressListener } from '../progress.js';
import type { Interval, MonthCredits, ServerAvailability } from '../sla/types.js';
import {
  computeCredits,
  computeMonthToDateCredits,
  computeServersAvailability,
  type EvidenceStores,
} from './compute.js';
import type { ServerRecords } from './server-records.js';
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

/** The month computations of close/compute.ts and close/server-timeline.ts behind one interface. */
export interface MonthComputations {
  /** computeCredits: a month's credits. */
  credits(month: string, records?: RecordsGiven, options?: ComputeOptions): Promise<MonthCredits | undefined>;
  /** computeMonthToDateCredits: a running month up to `asOfMs`. */
  monthToDateCredits(
    month: string,
    asOfMs: number,
    records?: RecordsGiven,
    options?: ComputeOptions,
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

/** The answer, which a call without `cachedOnly` always has. */
export function computed<T>(answer: T | undefined): T {
  if (answer === undefined) throw new Error('a computation without cachedOnly answered nothing');
  return answer;
}

/**
 * The computations on the caller's event loop, reading `sources` directly; no cache (`cachedOnly` finds nothing).
 * For the CLI's one-shot commands and for tests; the daemon uses workerComputations.
 */
export function inThreadComputations(config: AppConfig, sources: EvidenceStores): MonthComputations {
  return {
    async credits(month, records, options) {
      if (options?.cachedOnly) return undefined;
      return computeCredits(config, sources, month, records, options?.onProgress);
    },
    async monthToDateCredits(month, asOfMs, records, options) {
      if (options?.cachedOnly) return undefined;
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
}
