// The storage boundary: every observation goes in here, month closes and dashboards read out of here.
import type { Observation, ObservationRun } from '../sla/types.js';

/**
 * The store did not answer (down, unreachable, overloaded): not a bug, and the same request may succeed later. A
 * read that fails so says it with this error (or has it as a cause), and an API answers 503 rather than 500.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** The StoreUnavailableError that `error` is, or was caused by; undefined when it is another failure. */
export function storeUnavailableIn(error: unknown): StoreUnavailableError | undefined {
  for (let e = error; e instanceof Error; e = e.cause) if (e instanceof StoreUnavailableError) return e;
  return undefined;
}

/**
 * Result of a write. One rule for every store: the first value written for a key (server, location, check, timeMs)
 * stays. A later write of the same key with the same outcome is a duplicate; with a different outcome (up, latency
 * or error differ) it is a conflict: not stored, counted here, and logged by the store.
 */
export interface WriteResult {
  stored: number;
  duplicates: number;
  conflicts: number;
}

/** What the store's write path looks like now, whatever the remote store's state: for metrics and /readyz. */
export interface StoreHealth {
  /** Observations accepted locally but not yet confirmed by the remote store (0 for embedded). */
  waiting: number;
  /** When the oldest waiting observation was accepted locally (epoch ms), if any waits. */
  oldestWaitingSinceMs?: number;
  /** Observations the remote store refused by name, parked until `uptime-credits outbox --retry`. */
  parked: number;
  /** Failed attempts to write to the remote store since start. */
  remoteWriteErrorsTotal: number;
  /** When the remote store last confirmed a write (epoch ms), if it did since start. */
  lastRemoteWriteMs?: number;
  /** Why the remote store is not taking writes now; undefined when it is (or there is none). */
  remoteProblem?: string;
  /** Observations readers can see because this process wrote them, since it started (confirmed by the remote store). */
  confirmedTotal: number;
}

export interface RunQuery {
  servers: readonly string[];
  fromMs: number;
  toMs: number;
  /** Runs are split wherever two consecutive observations are this far apart or more. */
  staleAfterMs: number;
}

/** What a month's computation reads from a store. */
export interface RunSource {
  /**
   * Observation runs (see ObservationRun) of each requested server with timeMs in [fromMs, toMs), sorted by
   * location, check, firstMs. Servers without observations map to an empty array.
   */
  readRuns(query: RunQuery): Promise<Map<string, ObservationRun[]>>;
  /**
   * Optional: the runs of every server with observations in [fromMs, toMs), as readRuns gives each, in one read. For
   * a short range of a whole fleet one scan costs less than naming thousands of servers (InfluxDB compares every
   * series with every name given), so the incremental month to date reads its recent part this way.
   */
  readEveryServer?(range: Omit<RunQuery, 'servers'>): Promise<Map<string, ObservationRun[]>>;
}

/** Where observations live. One contract test suite runs against every implementation. */
export interface ObservationStore extends RunSource {
  /** Human name for logs and /readyz, e.g. "embedded sqlite data/x.db" or "influxdb 1.6.7 at http://...". */
  readonly description: string;
  /** Durably accepts observations; idempotent on (server, location, check, timeMs). */
  write(observations: readonly Observation[]): Promise<WriteResult>;
  /** Raw observations of one server in [fromMs, toMs), sorted by time (for the API and tests). */
  readObservations(server: string, fromMs: number, toMs: number): Promise<Observation[]>;
  /** Throws (with a clear message) when the store cannot be reached. */
  ping(): Promise<void>;
  /** Observations accepted locally but not yet confirmed by the remote store (0 for embedded). */
  backlog(): Promise<number>;
  /**
   * Observations with timeMs in [fromMs, toMs) that a read cannot see yet: waiting to be forwarded, or refused by
   * the remote store and parked. A month close asks this before it reads (close/evidence.ts).
   */
  unconfirmed(fromMs: number, toMs: number): Promise<{ waiting: number; parked: number }>;
  /**
   * The earliest observation time this process accepted that a reader cannot see yet (waiting for the remote
   * store, or parked); undefined when readers see everything it accepted (always, for embedded).
   */
  earliestUnconfirmedMs(): number | undefined;
  /** The time of the earliest observation stored or waiting to be (undefined when there is none). */
  earliestObservationMs(): Promise<number | undefined>;
  /** The write path's state now; cheap and local (never waits for the remote store). */
  health(): StoreHealth;
  /**
   * Waits until nothing accepted locally waits for the remote store, or `timeoutMs` passes; true when all was
   * confirmed (always true for embedded). Parked lines do not count as waiting.
   */
  drain(timeoutMs: number): Promise<boolean>;
  /**
   * A number that changes when another process (an import) writes to this store behind this one's back, where no
   * writer's mark says so; absent where the writers' heartbeats do (InfluxDB).
   */
  writesByOthersVersion?(): number;
  /** Flushes what it can and releases resources. */
  close(): Promise<void>;
}
