// The messages between the daemon and its compute worker: plain data (structured clone carries the Maps).
import type { AppConfig } from '../config/types.js';
import type { ProgressStep } from '../progress.js';
import type { Interval } from '../sla/types.js';
import type { AnswerSource } from './cached-computations.js';
import type { IncrementalRead, RecordsGiven } from './month-computations.js';

/** What the worker starts with. */
export interface ComputeWorkerData {
  config: AppConfig;
  /** How much lower the worker's thread runs than the daemon's (a nice value; Linux only). */
  niceness: number;
  /** How often the worker reports its heap. */
  heapEveryMs: number;
}

/**
 * One call of MonthComputations. `progress`: the caller listens, so the worker sends each step. `holding`: the id of
 * the byte answer the caller already holds for this query, which the worker does not send again while it stands.
 */
export type ComputeRequest = { id: number; cachedOnly: boolean; progress: boolean; holding?: number } & (
  | {
      method: 'credits';
      month: string;
      records: RecordsGiven;
      /** Read by the worker's one incremental source of the running month. */
      incremental: IncrementalRead | undefined;
    }
  | { method: 'creditsJson'; month: string; incremental: IncrementalRead | undefined }
  | {
      method: 'monthToDateCredits';
      month: string;
      asOfMs: number;
      records: RecordsGiven;
      incremental: IncrementalRead | undefined;
    }
  | { method: 'availability'; window: Interval; serverIds: readonly string[] }
  | { method: 'timeline'; serverId: string; window: Interval }
);

/** The worker's messages: a call's answer or error, a step of its progress, or where an answer came from. */
export type ComputeReply =
  /** bytesId: the answer is bytes (encoded JSON), and this id names it while the worker's cache keeps it. */
  | { id: number; ok: true; answer: unknown; bytesId?: number }
  /** The answer to monthToDateCredits, in parts (month-to-date-parts.ts). */
  | { id: number; ok: true; inParts: Uint8Array }
  /** The answer is the byte answer the request said it holds. */
  | { id: number; ok: true; held: true }
  /** storeUnavailable: the store did not answer (store.ts StoreUnavailableError), which the caller may tell apart. */
  | { id: number; ok: false; message: string; storeUnavailable?: true }
  | { id: number; progress: ProgressStep }
  | { answered: AnswerSource }
  /** The worker's V8 heap, reported every COMPUTE_WORKER_HEAP_EVERY_MS (the daemon's own metrics see its thread only). */
  | { heap: ComputeWorkerHeap };

/** A compute worker's V8 heap: in use, and reserved (what its thread adds to the daemon's RSS, most of it). */
export interface ComputeWorkerHeap {
  usedBytes: number;
  totalBytes: number;
}
