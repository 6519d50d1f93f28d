// Month-to-date runs read incrementally: the runs of the settled part of the month are kept per server, and each
// read asks the inner store only for what lies after them. Runs are a function of each series' observations in
// time order (maximal stretches of one outcome, each observation less than staleAfter after the previous), so
// for any cut C that no run crosses, runs([F, T)) = runs([F, C)) joined at the seam with runs([C, T)), the seam
// join being what compactRuns does to neighbours. The cut only moves to "settled mark - margin": observations
// before the settled mark are all visible and no more will arrive, and the margin (at least confirmations x
// staleAfter) absorbs writers whose marks run slightly ahead.
import type { ObservationRun } from '../sla/types.js';
import { compactRuns } from './bucketed-runs.js';
import type { RunQuery, RunSource } from './store.js';

/** The runs of one server's series with timeMs in [range start, cutMs), exactly as a read of that range gives. */
interface SettledRuns {
  readonly cutMs: number;
  readonly runs: readonly ObservationRun[];
}

/** What the cache holds for one read range start; replaced whole on a reset. */
interface CacheGeneration {
  readonly fromMs: number;
  readonly staleAfterMs: number;
  readonly servers: Map<string, SettledRuns>;
}

export interface IncrementalRunSourceOptions {
  inner: RunSource;
  /** Observations before this instant are visible in `inner` and none will arrive later (the writers' marks). */
  settledThroughMs: () => Promise<number>;
  /**
   * The read range start the cache serves (the current month's start less the run look-back). A query from another
   * start reads `inner` directly; when this value changes (a new month), the cache starts over.
   */
  cachedFromMs: () => number;
  /** How far before the settled mark the cut stays; at least confirmations x staleAfter. */
  marginMs: number;
  /**
   * The cut moves when it can advance at least this far (default 1 min): in between, each read is one read of
   * [cut, toMs) rather than two.
   */
  advanceStepMs?: number;
  /**
   * Reads of at most this much data time (from a cut to the earlier of the read's end and now) use the inner source's
   * readEveryServer when it has one, once per pass for every server (default 30 min): the recent part of a fleet
   * in one scan. Longer ones (a cold start, writers far behind) are read by the servers asked, as the caller groups them.
   */
  everyServerReadMaxMs?: number;
  /** The current time (default Date.now), to bound the data of a read that ends in the future (a running month). */
  nowMs?: () => number;
  /**
   * How long passes at one data version may share their reads of every server (default 10 s, from the first such
   * pass): see beginPass.
   */
  sharedReadMaxAgeMs?: number;
}

/** Counts for logs and measurements: how the reads were answered. */
export interface IncrementalRunStats {
  /** Reads answered from the cache and a read of what follows its cut. */
  incrementalReads: number;
  /** Reads passed to the inner source whole (another range, another staleAfter). */
  passedThrough: number;
  /** Times a server's cut moved back because the settled mark did (or a read ended before the cut). */
  rewinds: number;
  /** Resets: on demand or at a new range start. */
  resets: number;
  /** Reads of the inner source's readEveryServer (one per pass and range). */
  everyServerReads: number;
  /** Reads of every server answered by an earlier pass's read of a longer range at the same data version. */
  sharedReads: number;
}

/** A read of every server over one range, kept for the pass that made it and the passes that may share it. */
interface EveryServerRead {
  readonly fromMs: number;
  readonly toMs: number;
  readonly staleAfterMs: number;
  readonly runs: Promise<Map<string, ObservationRun[]>>;
}

/** The reads of every server that a pass may use: those of the passes since `sinceMs` at one data version. */
interface SharedReads {
  readonly dataVersion: string | undefined;
  readonly sinceMs: number;
  readonly reads: EveryServerRead[];
}

/**
 * Each pass reads from the cut to now, so the step sets how much a pass reads beyond the margin: half of it on
 * average. At the daemon bench's margin (4.5 min), 1 min rather than 5 cut each refresh's and each computed credits
 * answer's read from ~7 min of every series to ~5. In short daemon runs (2026-12-01, 10,000 servers) the worker's heap
 * peak fell from 119-141 to 97-108 MiB; daemon + influxd from a median of 1.115 to 1.005 cores, within the runs'
 * spread (test/bench/README.md). A pass whose cut moves makes a second query, once a minute.
 */
const DEFAULT_ADVANCE_STEP_MS = 60_000;
const DEFAULT_EVERY_SERVER_READ_MAX_MS = 30 * 60_000;
/**
 * A data version that stops changing while data still arrives (an agent whose heartbeats fail to be written while its
 * observations are) must not hold the month to date back for long: passes share reads for at most this long.
 */
const DEFAULT_SHARED_READ_MAX_AGE_MS = 10_000;

/** Reads no pass may share: before the first pass, and after a reset. */
const nothingShared = (): SharedReads => ({ dataVersion: undefined, sinceMs: Number.NEGATIVE_INFINITY, reads: [] });

/** A RunSource that reads the settled part of the month to date once (see the file's comment). */
export class IncrementalRunSource implements RunSource {
  private generation: CacheGeneration | undefined;
  private readonly advanceStepMs: number;
  /** This pass's reads of every server: shared by the caller's groups of servers, and by passes (see beginPass). */
  private shared = nothingShared();
  private readonly counters: IncrementalRunStats = {
    incrementalReads: 0,
    passedThrough: 0,
    rewinds: 0,
    resets: 0,
    everyServerReads: 0,
    sharedReads: 0,
  };

  constructor(private readonly options: IncrementalRunSourceOptions) {
    if (!(options.marginMs >= 0)) throw new Error('marginMs must be >= 0');
    this.advanceStepMs = options.advanceStepMs ?? DEFAULT_ADVANCE_STEP_MS;
  }

  /** Forgets every cached run: the next read reads the whole range again (on demand, e.g. after an old import). */
  reset(): void {
    this.generation = undefined;
    this.shared = nothingShared();
    this.counters.resets++;
  }

  /**
   * Starts a pass (one computation of the month, which reads its servers group by group). Reads of every server made
   * for earlier passes are forgotten, since more has arrived since, unless the store's data version is the earlier
   * passes' (`dataVersion`, as cached-computations.ts keys its answers): then nothing new is known to have arrived,
   * and their reads answer this pass's too, for at most sharedReadMaxAgeMs. That is what a cached answer of that
   * version would be. A refresh's month to date, which ends now, is then answered by the read a credits answer of the
   * whole month made a moment before: two passes cost one read of InfluxDB.
   */
  beginPass(dataVersion?: string): void {
    const nowMs = this.now();
    const maxAgeMs = this.options.sharedReadMaxAgeMs ?? DEFAULT_SHARED_READ_MAX_AGE_MS;
    const { shared } = this;
    if (dataVersion !== undefined && dataVersion === shared.dataVersion && nowMs - shared.sinceMs <= maxAgeMs) return;
    this.shared = { dataVersion, sinceMs: nowMs, reads: [] };
  }

  stats(): IncrementalRunStats {
    return { ...this.counters };
  }

  async readRuns(query: RunQuery): Promise<Map<string, ObservationRun[]>> {
    const fromMs = this.options.cachedFromMs();
    if (query.fromMs !== fromMs) {
      this.counters.passedThrough++;
      return this.options.inner.readRuns(query);
    }
    let generation = this.generation;
    if (!generation || generation.fromMs !== fromMs || generation.staleAfterMs !== query.staleAfterMs) {
      if (generation) this.counters.resets++;
      generation = { fromMs, staleAfterMs: query.staleAfterMs, servers: new Map() };
      this.generation = generation;
    }
    this.counters.incrementalReads++;
    const settledMs = await this.options.settledThroughMs();
    const targetMs = Math.max(fromMs, Math.min(settledMs - this.options.marginMs, query.toMs));

    // Each server's settled runs, moved back where the mark moved back, forward where it advanced enough.
    const before = new Map<string, SettledRuns | undefined>();
    const settled = new Map<string, SettledRuns>();
    for (const server of query.servers) {
      const cached = generation.servers.get(server);
      before.set(server, cached);
      let entry = cached ?? { cutMs: fromMs, runs: [] };
      if (entry.cutMs > targetMs) {
        entry = rewind(entry, targetMs);
        this.counters.rewinds++;
      }
      settled.set(server, entry);
    }
    const advancing = query.servers.filter((server) => {
      const cutMs = cutOf(settled, server);
      return targetMs > cutMs && (cutMs === fromMs || targetMs - cutMs >= this.advanceStepMs);
    });
    for (const [cutMs, servers] of groupByCut(advancing, settled)) {
      const read = await this.readInner({ ...query, servers, fromMs: cutMs, toMs: targetMs });
      for (const server of servers) {
        const entry = settled.get(server);
        const runs = compactRuns([...(entry?.runs ?? []), ...(read.get(server) ?? [])], query.staleAfterMs);
        settled.set(server, { cutMs: targetMs, runs });
      }
    }
    // Stored only where no other read replaced the server's entry meanwhile (one server read twice at once).
    for (const server of query.servers) {
      const entry = settled.get(server);
      if (entry && generation.servers.get(server) === before.get(server)) generation.servers.set(server, entry);
    }

    const result = new Map<string, ObservationRun[]>();
    for (const [cutMs, servers] of groupByCut(query.servers, settled)) {
      const tail = cutMs < query.toMs ? await this.readInner({ ...query, servers, fromMs: cutMs }) : undefined;
      for (const server of servers) {
        const runs = [...(settled.get(server)?.runs ?? []), ...(tail?.get(server) ?? [])];
        result.set(server, compactRuns(runs, query.staleAfterMs)); // copies: the kept runs are never changed
      }
    }
    return result;
  }

  /** `query`'s runs from the inner source: from this pass's read of every server when the range is short. */
  private readInner(query: RunQuery): Promise<Map<string, ObservationRun[]>> {
    const { inner } = this.options;
    const dataEndMs = Math.min(query.toMs, this.now());
    const maxMs = this.options.everyServerReadMaxMs ?? DEFAULT_EVERY_SERVER_READ_MAX_MS;
    if (!inner.readEveryServer || dataEndMs - query.fromMs > maxMs) return inner.readRuns(query);
    const { reads } = this.shared;
    const { fromMs, toMs, staleAfterMs } = query;
    const sameStart = (read: EveryServerRead) => read.fromMs === fromMs && read.staleAfterMs === staleAfterMs;
    const same = reads.find((read) => sameStart(read) && read.toMs === toMs);
    if (same) return same.runs;
    // A longer range's read whose runs all end before this range does is this range's read: no observation lies
    // between the two ends. Otherwise (an observation stamped after this end) the range is read on its own.
    const longer = reads.find((read) => sameStart(read) && read.toMs > toMs);
    const runs = longer
      ? longer.runs.then((longerRuns) => {
          if (!endsBefore(longerRuns, toMs)) return this.readOfEveryServer(query);
          this.counters.sharedReads++;
          return longerRuns;
        })
      : this.readOfEveryServer(query);
    const read: EveryServerRead = { fromMs, toMs, staleAfterMs, runs };
    reads.push(read);
    runs.catch(() => {
      // a failure is not a read
      const index = reads.indexOf(read);
      if (index >= 0) reads.splice(index, 1);
    });
    return runs;
  }

  private readOfEveryServer({ fromMs, toMs, staleAfterMs }: RunQuery): Promise<Map<string, ObservationRun[]>> {
    const { inner } = this.options;
    if (!inner.readEveryServer) throw new Error('the inner source cannot read every server');
    this.counters.everyServerReads++;
    return inner.readEveryServer({ fromMs, toMs, staleAfterMs });
  }

  private now(): number {
    return (this.options.nowMs ?? Date.now)();
  }
}

/** Whether every run ends before `toMs`. */
const endsBefore = (runsByServer: ReadonlyMap<string, readonly ObservationRun[]>, toMs: number): boolean => {
  for (const runs of runsByServer.values()) for (const run of runs) if (run.lastMs >= toMs) return false;
  return true;
};

const cutOf = (settled: ReadonlyMap<string, SettledRuns>, server: string): number => {
  const entry = settled.get(server);
  if (!entry) throw new Error(`no settled runs for "${server}"`);
  return entry.cutMs;
};

/** Servers grouped by their cut, so that each group is one read of the inner source. */
function groupByCut(servers: readonly string[], settled: ReadonlyMap<string, SettledRuns>): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const server of servers) {
    const cutMs = cutOf(settled, server);
    const group = groups.get(cutMs);
    if (group) group.push(server);
    else groups.set(cutMs, [server]);
  }
  return groups;
}

/**
 * The settled runs cut back to at most `toMs`. A run crossing the cut cannot be split (its observations' times are
 * not kept), so the cut moves back to that run's start, and again while a run of another series crosses it.
 */
export function rewind(entry: SettledRuns, toMs: number): SettledRuns {
  let cutMs = Math.min(toMs, entry.cutMs);
  for (;;) {
    let earliestCrossingMs = cutMs;
    for (const run of entry.runs)
      if (run.firstMs < cutMs && run.lastMs >= cutMs) earliestCrossingMs = Math.min(earliestCrossingMs, run.firstMs);
    if (earliestCrossingMs === cutMs) break;
    cutMs = earliestCrossingMs;
  }
  return { cutMs, runs: entry.runs.filter((run) => run.lastMs < cutMs) };
}
