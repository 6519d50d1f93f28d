// MonthComputations in a worker thread (compute-worker.ts), so the daemon's event loop, where the probe loop runs,
// never waits for a month's computation. A crash of the worker fails the calls in flight with an error, and the
// next call starts a new worker; close() terminates it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AppConfig } from '../config/types.js';
import type { ProgressListener } from '../progress.js';
import { StoreUnavailableError } from '../store/store.js';
import type { AnswerSource } from './cached-computations.js';
import type { ComputeReply, ComputeRequest, ComputeWorkerData, ComputeWorkerHeap } from './compute-worker-protocol.js';
import { monthToDateFromParts } from './month-to-date-parts.js';
import { ComputationsClosedError, type ComputeOptions, type MonthComputations } from './month-computations.js';

/** A request without the fields every call fills in. */
type Call = ComputeRequest extends infer R
  ? R extends ComputeRequest
    ? Omit<R, 'id' | 'cachedOnly' | 'progress'>
    : never
  : never;

/** tsx's ESM API (`register`), as its package exports it to `import` (require.resolve would give its CommonJS twin). */
function tsxRegisterModule(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: { './esm/api': { import: { default: string } } };
  };
  return join(dirname(manifest), exports['./esm/api'].import.default);
}

/**
 * A small young generation: the worker's garbage is mostly one computation's reads, short-lived, and V8's default
 * let it hold ~100 MB more resident at 10,000 servers with no measured loss of speed (daemon bench, embedded, 0.05 day:
 * steady RSS 636 -> 536 MiB, credits computation p50 371 -> 392 ms).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };

/**
 * The worker thread on its entry file. Built (dist/), this module is .js and so is its sibling; run from the sources
 * (vitest, tsx), it is .ts and Node cannot load the sibling alone, so a bootstrap registers tsx's loader first.
 */
function startWorker(workerData: ComputeWorkerData): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './compute-worker.ts' : './compute-worker.js', import.meta.url);
  if (!fromSources) return new Worker(entry, { workerData, resourceLimits: WORKER_LIMITS });
  const tsx = pathToFileURL(tsxRegisterModule()).href;
  const bootstrap =
    `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); ` +
    `return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits: WORKER_LIMITS });
}

export interface WorkerComputationsOptions {
  /** Hears where each answer came from (the metric of cached and computed month answers). */
  onAnswer?: (source: AnswerSource) => void;
  /** Hears that the worker stopped by itself (a crash); the next call starts another. */
  onCrash?: (error: Error) => void;
  /** Hears the worker's heap, at its start and every COMPUTE_WORKER_HEAP_EVERY_MS. */
  onHeap?: (heap: ComputeWorkerHeap) => void;
}

/**
 * The compute worker runs at this nice value above the daemon's thread: a month's computation takes whatever CPU the
 * probe loop and the scrapes leave, rather than sharing a core with them while a refresh or a close runs.
 */
export const COMPUTE_WORKER_NICENESS = 10;

/** How often the worker reports its heap (a metric: the daemon's own process metrics see only its main thread). */
export const COMPUTE_WORKER_HEAP_EVERY_MS = 5_000;

/** Byte answers this thread keeps to be told "unchanged" instead of copied again (queries; each a few MB at most). */
const MAX_HELD_ANSWERS = 4;

interface HeldAnswer {
  bytesId: number;
  bytes: Uint8Array;
}

/** MonthComputations answered by a compute worker that reads the stores `config` names. */
export function workerComputations(config: AppConfig, options: WorkerComputationsOptions = {}): MonthComputations {
  const pending = new Map<
    number,
    {
      resolve(a: unknown): void;
      reject(e: Error): void;
      onProgress?: ProgressListener;
      /** The query's key among the held answers, and the answer held when it was asked. */
      holdAs?: string;
      holding?: HeldAnswer;
    }
  >();
  // The worker's last byte answer to each such query, by the id the worker gave it: a cached answer asked again is
  // not copied across the thread again (a new copy of a fleet's credits per request was most of this thread's
  // allocation under back-to-back API clients).
  const held = new Map<string, HeldAnswer>();
  const hold = (key: string, answer: HeldAnswer) => {
    held.delete(key);
    held.set(key, answer);
    if (held.size > MAX_HELD_ANSWERS) held.delete(held.keys().next().value as string);
  };
  let nextId = 1;
  let worker: Worker | undefined;
  let closed = false;

  const failAll = (error: Error) => {
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };

  const running = (): Worker => {
    if (closed) throw new ComputationsClosedError();
    if (worker) return worker;
    held.clear(); // a new worker names its answers afresh
    const started = startWorker({
      config,
      niceness: COMPUTE_WORKER_NICENESS,
      heapEveryMs: COMPUTE_WORKER_HEAP_EVERY_MS,
    });
    const gone = (error: Error) => {
      if (worker !== started) return; // an exit after the error that already replaced it
      worker = undefined;
      if (closed) return;
      options.onCrash?.(error);
      failAll(error);
    };
    started.on('message', (reply: ComputeReply) => {
      if ('answered' in reply) return options.onAnswer?.(reply.answered);
      if ('heap' in reply) return options.onHeap?.(reply.heap);
      const call = pending.get(reply.id);
      if (!call) return;
      if ('progress' in reply) return call.onProgress?.(reply.progress);
      pending.delete(reply.id);
      if (!reply.ok) {
        call.reject(reply.storeUnavailable ? new StoreUnavailableError(reply.message) : new Error(reply.message));
      } else if ('inParts' in reply) {
        // Read over several turns: a close meanwhile fails the call, as it fails every call still pending.
        monthToDateFromParts(reply.inParts).then(
          (answer) => (closed ? call.reject(new ComputationsClosedError()) : call.resolve(answer)),
          call.reject,
        );
      } else if ('held' in reply) {
        if (call.holding) call.resolve(call.holding.bytes);
        else call.reject(new Error('the compute worker answered with an answer the call did not hold'));
      } else {
        if (reply.bytesId !== undefined && call.holdAs !== undefined && reply.answer instanceof Uint8Array)
          hold(call.holdAs, { bytesId: reply.bytesId, bytes: reply.answer });
        call.resolve(reply.answer);
      }
    });
    started.on('error', (error) => gone(new Error(`the compute worker failed: ${error.message}`, { cause: error })));
    started.on('exit', (code) => gone(new Error(`the compute worker exited with code ${code}`)));
    worker = started;
    return started;
  };

  /** Asks the worker; `holdAs` names a query whose answer is bytes, kept here to be told when it is unchanged. */
  const ask = <T>(call: Call, computeOptions: ComputeOptions | undefined, holdAs?: string): Promise<T | undefined> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const onProgress = computeOptions?.onProgress;
      const target = running();
      const holding = holdAs === undefined ? undefined : held.get(holdAs);
      pending.set(id, {
        resolve: resolve as (a: unknown) => void,
        reject,
        ...(onProgress ? { onProgress } : {}),
        ...(holdAs === undefined ? {} : { holdAs }),
        ...(holding ? { holding } : {}),
      });
      const request = {
        ...call,
        id,
        cachedOnly: computeOptions?.cachedOnly ?? false,
        progress: onProgress !== undefined,
        ...(holding ? { holding: holding.bytesId } : {}),
      } as ComputeRequest;
      target.postMessage(request);
    });

  running(); // started now, so that a worker that cannot open its readers says so at the daemon's start
  return {
    credits: (month, records, o) => ask({ method: 'credits', month, records, incremental: o?.incremental }, o),
    creditsJson: (month, o) =>
      ask({ method: 'creditsJson', month, incremental: o?.incremental }, o, `creditsJson ${month}`),
    monthToDateCredits: (month, asOfMs, records, o) =>
      ask({ method: 'monthToDateCredits', month, asOfMs, records, incremental: o?.incremental }, o),
    availability: (window, serverIds, o) => ask({ method: 'availability', window, serverIds }, o),
    timeline: (serverId, window, o) => ask({ method: 'timeline', serverId, window }, o),
    async close() {
      closed = true;
      const last = worker;
      worker = undefined;
      failAll(new ComputationsClosedError());
      await last?.terminate();
    },
  };
}
