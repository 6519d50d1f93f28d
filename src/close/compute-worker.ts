// The compute worker's entry (a worker thread, started by worker-computations.ts): month computations on readers of
// its own, so the daemon's event loop (the probe loop) never waits for one. Its readers: a read-only SQLite
// connection to the embedded store, or its own InfluxQL client; a read-only connection to the state database for
// people's records. Their data versions key its cache of answers (cached-computations.ts). They close with the
// thread (the daemon terminates it). It also keeps the month to date's settled runs between the refresh's calls
// (inThreadComputations' incremental source): a new worker after a crash starts with the whole month again.
import { setPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { AppConfig } from '../config/types.js';
import { openReadOnlyDatabase, sqliteDataVersion } from '../sqlite.js';
import { SqliteOperatorRecords } from '../state/operator-records.js';
import { EmbeddedObservationStore } from '../store/embedded/embedded-store.js';
import { HEARTBEATS_READ_FOR_MS, type AgentHeartbeat } from '../agents/heartbeat.js';
import { influxHeartbeats } from '../agents/influx-heartbeats.js';
import { influxConnection } from '../store/influx/connection.js';
import { InfluxQLClient } from '../store/influx/influxql.js';
import { InfluxRunReader } from '../store/influx/run-reader.js';
import { storeUnavailableIn, type RunSource } from '../store/store.js';
import { cachedComputations, type DataVersion } from './cached-computations.js';
import { monthToDateInParts, type MonthToDate } from './month-to-date-parts.js';
import type { ComputeReply, ComputeRequest, ComputeWorkerData } from './compute-worker-protocol.js';
import {
  inThreadComputations,
  type ComputeOptions,
  type IncrementalRead,
  type MonthComputations,
  type RunningMonthOptions,
} from './month-computations.js';

/**
 * InfluxDB keeps no write counter, so the writers leave one: each agent's heartbeat carries `written` (lines
 * InfluxDB confirmed since that process started) and `started_ms`. Their set changes when any agent had more lines
 * confirmed, or restarted; the answers lag new data by one heartbeat (HEARTBEAT_EVERY_MS) and one
 * HEARTBEATS_READ_FOR_MS, or, for a beat stamped by a clock far behind ours, until influx-heartbeats.ts reads it.
 */
const heartbeatsVersion = (beats: ReadonlyMap<string, AgentHeartbeat>): string =>
  [...beats.values()]
    .map((beat) => `${beat.agent}/${beat.location}/${beat.shard}:${beat.startedMs}:${beat.written}`)
    .sort()
    .join(',');

/** `read()`'s answer, read again only when the last read began `forMs` ago or failed; callers meanwhile share it. */
function readAtMostEvery<T>(forMs: number, read: () => Promise<T>): () => Promise<T> {
  let last: { atMs: number; answer: Promise<T> } | undefined;
  return () => {
    const nowMs = performance.now();
    if (!last || nowMs - last.atMs >= forMs) {
      const answer = read();
      last = { atMs: nowMs, answer };
      answer.catch(() => {
        if (last?.answer === answer) last = undefined; // a failure is not an answer
      });
    }
    return last.answer;
  };
}

/**
 * The worker's own run source and its data version (SQLite's data_version, or the agents' heartbeats): `version` for
 * the cache of answers, which may be a read of the heartbeats made up to HEARTBEATS_READ_FOR_MS ago, and
 * `currentVersion`, read now, for the running month's passes, which share their reads while it holds (once a pass).
 */
function openRunSource(config: AppConfig): { store: RunSource; version: DataVersion; currentVersion: DataVersion } {
  if (config.storage.kind === 'embedded') {
    const db = openReadOnlyDatabase(config.storage.path, 'the embedded database');
    // Only the store's reads are used; its write statements are prepared but never run on this connection.
    const store = new EmbeddedObservationStore(db, config.storage.path);
    const version = async () => `sqlite:${sqliteDataVersion(db)}`;
    return { store, version, currentVersion: version };
  }
  const influx = config.storage.influxdb;
  if (!influx) throw new Error('storage.kind is influxdb but the storage.influxdb section is missing');
  const connection = influxConnection(influx);
  const client = new InfluxQLClient(connection);
  const select = (statement: string) => client.query(statement);
  const heartbeats = influxHeartbeats(connection);
  const latestHeartbeats = readAtMostEvery(HEARTBEATS_READ_FOR_MS, () => heartbeats.latest());
  return {
    store: new InfluxRunReader(select, connection.measurement),
    version: async () => `influx:${heartbeatsVersion(await latestHeartbeats())}`,
    currentVersion: async () => `influx:${heartbeatsVersion(await heartbeats.latest())}`,
  };
}

/**
 * Lowers this thread's priority by `niceness` (ComputeWorkerData). Linux keeps a nice value per thread, and setpriority(2) with no pid sets the
 * calling thread's; elsewhere it would set the whole process's, so nothing is changed there. A refusal only costs
 * the probe loop some latency under load, so it is not an error.
 */
function yieldToTheProbeLoop(niceness: number): void {
  if (process.platform !== 'linux' || niceness === 0) return;
  try {
    setPriority(niceness);
  } catch {
    // e.g. a seccomp profile that forbids setpriority: the computations run as before, at the daemon's priority
  }
}

/** Opens the readers and answers requests until the daemon terminates the thread. */
function serve(port: NonNullable<typeof parentPort>, { config, niceness, heapEveryMs }: ComputeWorkerData): void {
  yieldToTheProbeLoop(niceness);
  const runs = openRunSource(config);
  const operatorRecords = SqliteOperatorRecords.openReadOnly(config.state.path);
  const version: DataVersion = async () => `${await runs.version()} records:${operatorRecords.dataVersion()}`;
  const send = (reply: ComputeReply) => port.postMessage(reply);
  const reportHeap = () => {
    const heap = getHeapStatistics();
    send({ heap: { usedBytes: heap.used_heap_size, totalBytes: heap.total_heap_size } });
  };
  reportHeap();
  setInterval(reportHeap, heapEveryMs).unref();
  const computations: MonthComputations = cachedComputations(
    inThreadComputations(config, { store: runs.store, operatorRecords }, runs.currentVersion),
    version,
    (source) => send({ answered: source }),
  );

  const call = (request: ComputeRequest): Promise<unknown> => {
    const options: ComputeOptions = {
      cachedOnly: request.cachedOnly,
      ...(request.progress ? { onProgress: (step) => send({ id: request.id, progress: step }) } : {}),
    };
    /** The options of a computation of a month that may be the running one, read incrementally when asked. */
    const running = (incremental: IncrementalRead | undefined): RunningMonthOptions =>
      incremental ? { ...options, incremental } : options;
    switch (request.method) {
      case 'credits':
        return computations.credits(request.month, request.records, running(request.incremental));
      case 'creditsJson':
        return computations.creditsJson(request.month, running(request.incremental));
      case 'monthToDateCredits':
        return computations.monthToDateCredits(
          request.month,
          request.asOfMs,
          request.records,
          running(request.incremental),
        );
      case 'availability':
        return computations.availability(request.window, request.serverIds, options);
      case 'timeline':
        return computations.timeline(request.serverId, request.window, options);
    }
  };

  // A byte answer from the cache is the cache's own object: the same object is the same answer. Naming it lets a
  // caller that holds it be told so rather than sent megabytes again (a fleet's month of credits, asked back to back).
  const byteAnswerIds = new WeakMap<Uint8Array, number>();
  let lastByteAnswerId = 0;
  const reply = (request: ComputeRequest, answer: unknown) => {
    if (request.method === 'monthToDateCredits' && answer !== undefined) {
      const inParts = monthToDateInParts(answer as MonthToDate);
      const { buffer } = inParts;
      // The serializer's own memory is moved rather than copied (a slice of a shared pool would be copied).
      const own = buffer instanceof ArrayBuffer && inParts.byteOffset === 0 && inParts.byteLength === buffer.byteLength;
      return port.postMessage({ id: request.id, ok: true, inParts } satisfies ComputeReply, own ? [buffer] : []);
    }
    if (!(answer instanceof Uint8Array)) return send({ id: request.id, ok: true, answer });
    let bytesId = byteAnswerIds.get(answer);
    if (bytesId === undefined) {
      bytesId = ++lastByteAnswerId;
      byteAnswerIds.set(answer, bytesId);
    }
    if (request.holding === bytesId) return send({ id: request.id, ok: true, held: true });
    send({ id: request.id, ok: true, answer, bytesId });
  };

  port.on('message', (request: ComputeRequest) => {
    // A failure to send the answer (one that cannot be serialized) fails this call, not the whole worker.
    call(request)
      .then((answer) => reply(request, answer))
      .catch((error: unknown) =>
        send({
          id: request.id,
          ok: false,
          message: error instanceof Error ? error.message : String(error),
          ...(storeUnavailableIn(error) ? { storeUnavailable: true as const } : {}),
        }),
      );
  });
}

if (!parentPort) throw new Error('compute-worker.ts runs as a worker thread (see worker-computations.ts)');
serve(parentPort, workerData as ComputeWorkerData);
