// The probe loop: every check of every covered server at its interval, on absolute times (no drift), with a
// deterministic spread start per check (no thundering herd), a global concurrency cap, and measured lag. Right after
// start each check runs once within the first few seconds (see firstDueMs), then on its grid.
// Outcomes become observations written to the store every FLUSH_EVERY_MS (the most a SIGKILL can lose); a failed
// write keeps them in memory (up to MAX_PENDING) and is retried with backoff, so a full disk does not turn into a
// retry per probe that stalls the process. A probe that timed out while the process itself stalled is left out:
// our own trouble is unmonitored time, never downtime.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import type { AppConfig, ResolvedCheck, ResolvedServer } from '../config/types.js';
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logging.js';
import { atMostEvery, doublingBackoff, REPEATED_FAILURE_LOG_EVERY_MS } from '../pacing.js';
import { closeHttpDispatchers, runCheck } from '../probes/index.js';
import { inShard } from './shard.js';
import type { CheckOutcome, ProbeResult } from '../probes/probe.js';
import type { Observation } from '../sla/types.js';
import { formatObservationLine } from '../store/observation-line.js';
import type { ObservationStore } from '../store/store.js';
import { startStallWatch, type StallWatch } from './stall-watch.js';

export type ObservationSink = Pick<ObservationStore, 'write'>;

export interface ProbeLoopDeps {
  config: AppConfig;
  store: ObservationSink;
  logger: Logger;
  clock?: Clock;
  onOutcome?: (outcome: CheckOutcome) => void;
  /** Replaces the real probes (benchmarks of the scheduler alone); default runs the configured check. */
  probe?: (check: ResolvedCheck) => Promise<ProbeResult>;
  /** Tells when the process stalled; default watches the event loop. */
  stalls?: StallWatch;
  /**
   * Where observations the store still refuses at stop are saved as an import file (then the system temp folder):
   * a restart while the disk is full must not lose them.
   */
  spillDir?: string;
}

/** process-stalled: timed out while this process stalled; local-error: this host's own error (ProbeErrorClass local). */
export type DiscardReason = 'process-stalled' | 'local-error';

export interface ProbeLoopStats {
  checks: number;
  probesTotal: number;
  inFlight: number;
  queued: number;
  pendingWrites: number;
  writeErrorsTotal: number;
  /** Why the last write of observations to the local store failed; undefined when it succeeded. */
  writeProblem?: string;
  /** Failed probes left out because the trouble was this process's own (see DiscardReason). */
  discarded: Readonly<Record<DiscardReason, number>>;
  /** Observations dropped because MAX_PENDING waited unwritten (the oldest go first). */
  droppedTotal: number;
}

export interface ProbeLoop {
  start(): void;
  /** Stops scheduling, waits for probes in flight (each ends by its timeout), writes what is pending. */
  stop(): Promise<void>;
  readonly running: boolean;
  stats(): ProbeLoopStats;
  /** Observations of [fromMs, toMs) probed but not yet written to the store (an evidence source for a close). */
  unconfirmed(fromMs: number, toMs: number): Promise<{ waiting: number; parked: number }>;
  /**
   * The earliest observation time not yet handed to the store: a probe in flight (its observation carries its start)
   * or an observation waiting to be written. Undefined when nothing is held: everything probed is in the store.
   */
  earliestUnwrittenMs(): number | undefined;
}

interface Job {
  server: ResolvedServer;
  check: ResolvedCheck;
  offsetMs: number;
  dueMs: number;
  timer?: { cancel(): void };
}
/** Observations wait at most this long in memory before their commit: the window a SIGKILL can lose. */
export const FLUSH_EVERY_MS = 100;
const FLUSH_AT = 500;
/** Observations kept in memory while the store refuses writes (~200 bytes each: ~100 MB). */
export const MAX_PENDING = 500_000;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 15_000;
/** A timeout is left out when the process stalled in this last share of the probe's time, or after its deadline. */
const STALL_LOOKBACK_SHARE = 0.25;

/** Where in its interval a check runs: a stable hash of server and check, so restarts keep the same phase. */
export function phaseOffsetMs(serverId: string, checkName: string, intervalMs: number): number {
  const digest = createHash('sha1').update(`${serverId}/${checkName}`).digest();
  return digest.readUInt32BE(0) % intervalMs;
}

/** The first due time at or after `nowMs` for a check with this interval and phase. */
export function nextDueMs(nowMs: number, intervalMs: number, offsetMs: number): number {
  const base = nowMs - ((((nowMs - offsetMs) % intervalMs) + intervalMs) % intervalMs);
  return base >= nowMs ? base : base + intervalMs;
}

/** How soon after start every check has run once: the first round's results come within this, not an interval. */
export const FIRST_ROUND_WITHIN_MS = 5_000;

/**
 * When a check first runs after the loop starts at `startMs`: its grid slot when that comes within the first round
 * (min(interval, FIRST_ROUND_WITHIN_MS)), else an early run at the same share of the first round as the slot's
 * share of the interval. So the first round keeps the phases' spread (no burst at start, checks in phase order).
 * After it the check waits for a grid slot at least half an interval away (see schedule()).
 */
export function firstDueMs(startMs: number, intervalMs: number, offsetMs: number): number {
  const gridMs = nextDueMs(startMs, intervalMs, offsetMs);
  const roundMs = Math.min(intervalMs, FIRST_ROUND_WITHIN_MS);
  const untilGridMs = gridMs - startMs;
  if (untilGridMs < roundMs) return gridMs;
  return startMs + Math.floor((untilGridMs * roundMs) / intervalMs);
}

/** Builds the probe loop over the configured servers (those whose coverage has not ended). */
export function createProbeLoop(deps: ProbeLoopDeps): ProbeLoop {
  const { config, store, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const probe = deps.probe ?? ((check: ResolvedCheck) => runCheck(check.config, check.timeoutMs));
  let stalls = deps.stalls;
  const ownsStallWatch = stalls === undefined;
  const limit = config.probing.concurrency;

  const jobs: Job[] = [];
  for (const server of config.servers.values()) {
    for (const check of server.checks)
      if (inShard(server.id, check.name, config.probing.shard))
        jobs.push({ server, check, offsetMs: phaseOffsetMs(server.id, check.name, check.intervalMs), dueMs: 0 });
  }

  let running = false;
  let inFlight = 0;
  // A FIFO with a moving head: Array.shift() would copy the whole queue for every probe at 10,000 checks.
  let waiting: Job[] = [];
  let waitingHead = 0;
  const nextWaiting = (): Job | undefined => {
    if (waitingHead >= waiting.length) return undefined;
    const job = waiting[waitingHead++];
    if (waitingHead > 1_024 && waitingHead * 2 > waiting.length) {
      waiting = waiting.slice(waitingHead);
      waitingHead = 0;
    }
    return job;
  };
  let pending: Observation[] = [];
  /** The batch store.write has in hand: not pending any more, not in the store yet. */
  let writing: readonly Observation[] = [];
  /** Start times of the probes in flight (one entry per probe; a check's runs may overlap). */
  const probingSince = new Set<{ startedMs: number }>();
  let probesTotal = 0;
  let writeErrorsTotal = 0;
  let writeProblem: string | undefined;
  let retryWriteAtMs = 0;
  const retryDelay = doublingBackoff(FIRST_RETRY_MS, MAX_RETRY_MS);
  const writeErrorLog = atMostEvery(REPEATED_FAILURE_LOG_EVERY_MS, () => clock.now());
  const discarded: Record<DiscardReason, number> = { 'process-stalled': 0, 'local-error': 0 };
  /** Why a failed result is this process's own trouble (then it is left out), if it is. */
  const ownTroubleOf = (result: ProbeResult, startedAt: number, timeoutMs: number): DiscardReason | undefined => {
    if (result.up) return undefined;
    if (result.error === 'local') return 'local-error';
    // A stall near or past the deadline may have sent the request late or left the answer unread.
    if (
      result.error === 'timeout' &&
      stalls?.stalledBetween(startedAt + timeoutMs * (1 - STALL_LOOKBACK_SHARE), performance.now())
    )
      return 'process-stalled';
    return undefined;
  };
  let droppedTotal = 0;
  const dropLog = atMostEvery(REPEATED_FAILURE_LOG_EVERY_MS, () => clock.now());
  let flushTimer: { cancel(): void } | undefined;
  let flushing: Promise<void> = Promise.resolve();
  const idleWaiters: (() => void)[] = [];

  /** Sets the job's timer for its dueMs, unless its server's coverage ends before then. */
  const arm = (job: Job, now: number) => {
    if (job.server.untilMs !== undefined && job.dueMs >= job.server.untilMs) return;
    job.timer = clock.setTimeout(() => launch(job), Math.max(0, job.dueMs - now));
  };

  const schedule = (job: Job) => {
    if (!running) return;
    const now = clock.now();
    // Slots missed while the process was busy are skipped, not replayed in a burst; the lag shows them. The next
    // run is at least half an interval after this one's start: after the first round's early run, or a run that
    // began late, two observations a moment apart would count as two confirmations of one failure (and never
    // share a millisecond).
    const earliestNextMs = Math.max(job.dueMs, now) + Math.max(1, Math.ceil(job.check.intervalMs / 2));
    job.dueMs = nextDueMs(earliestNextMs, job.check.intervalMs, job.offsetMs);
    arm(job, now);
  };

  const launch = (job: Job) => {
    if (!running) return;
    if (inFlight >= limit) {
      waiting.push(job);
      return;
    }
    void execute(job);
  };

  const execute = async (job: Job) => {
    inFlight++;
    const startedMs = clock.now();
    const inFlightEntry = { startedMs };
    probingSince.add(inFlightEntry);
    const startedAt = performance.now();
    const lagMs = Math.max(0, startedMs - job.dueMs);
    schedule(job); // the next run is due on the absolute grid whatever this probe takes
    let result: ProbeResult;
    try {
      result = await probe(job.check);
    } catch (error) {
      // runCheck never throws; a replaced probe might, and the slot must still be freed and recorded.
      result = {
        up: false,
        latencyMs: Math.max(0, clock.now() - startedMs),
        error: 'local',
        detail: `probe failed: ${(error as Error).message}`,
      };
    }
    probesTotal++;
    probingSince.delete(inFlightEntry);
    inFlight--;
    const ownTrouble = ownTroubleOf(result, startedAt, job.check.timeoutMs);
    if (ownTrouble !== undefined) {
      // Not evidence either way: left out, so the gap is unmonitored time, never downtime.
      discarded[ownTrouble]++;
      logger.warn(
        { server: job.server.id, check: job.check.name, reason: ownTrouble, detail: result.detail },
        'a probe failed because of this process, not its target; left out',
      );
      continueWith();
      return;
    }
    // Written out field by field: built with a spread of the result, the outcome cost the main thread ~1.3 MB/s more
    // promoted to the old generation at 1,000 probes/s (test/bench/README.md), so more full collections.
    const outcome: CheckOutcome = {
      up: result.up,
      latencyMs: result.latencyMs,
      error: result.error,
      detail: result.detail,
      httpStatus: result.httpStatus,
      certNotAfterMs: result.certNotAfterMs,
      customer: job.server.customerId,
      server: job.server.id,
      check: job.check.name,
      kind: job.check.config.kind,
      location: config.probing.location,
      timeMs: startedMs,
      lagMs,
    };
    const observation: Observation = {
      timeMs: startedMs,
      server: outcome.server,
      location: outcome.location,
      check: outcome.check,
      up: result.up,
      latencyMs: result.latencyMs,
    };
    if (result.error) observation.error = result.error;
    pending.push(observation);
    if (pending.length > MAX_PENDING) dropOldest();
    if (pending.length >= FLUSH_AT && writeProblem === undefined) void flush();
    try {
      deps.onOutcome?.(outcome);
    } catch (error) {
      logger.error({ err: error }, 'outcome listener failed');
    }
    continueWith();
  };

  /** Saves what the store refused until the end as an NDJSON file `import` loads. */
  const spill = () => {
    const name = `unwritten-observations-${new Date(clock.now()).toISOString().replace(/[:.]/g, '-')}.ndjson`;
    const text = `${pending.map(formatObservationLine).join('\n')}\n`;
    for (const dir of [deps.spillDir, tmpdir()].filter((d): d is string => d !== undefined)) {
      const path = join(dir, name);
      try {
        writeFileSync(path, text, { flag: 'wx' });
        logger.error(
          { pending: pending.length, path },
          `the store refused observations until stop; they are saved: load them with \`uptime-credits import ${path}\``,
        );
        return;
      } catch (error) {
        logger.error({ err: error, path }, 'cannot save the unwritten observations here');
      }
    }
    logger.error({ pending: pending.length }, 'observations could not be written or saved at stop: they are lost');
  };

  const continueWith = () => {
    const next = running ? nextWaiting() : undefined;
    if (next) void execute(next);
    if (inFlight === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  };

  const dropOldest = () => {
    // A tenth of the cap at once: splicing the head of a 500,000-long array for every probe would cost O(n) each.
    const excess = pending.length - MAX_PENDING + MAX_PENDING / 10;
    pending.splice(0, excess);
    droppedTotal += excess;
    if (dropLog.due())
      logger.error(
        { droppedTotal, kept: MAX_PENDING },
        'the store has refused writes for so long that the oldest unwritten observations are dropped (unmonitored time, not downtime)',
      );
  };

  /** Writes what is pending. After a failure, waits out the retry delay unless `force` (at stop). */
  let flushQueued = false;
  const flush = (force = false): Promise<void> => {
    // One flush waiting behind the running one takes everything pending then: no pile-up while a write is slow.
    if (flushQueued && !force) return flushing;
    flushQueued = true;
    flushing = flushing.then(async () => {
      flushQueued = false;
      if (pending.length === 0 || (!force && clock.now() < retryWriteAtMs)) return;
      const batch = pending;
      pending = [];
      writing = batch;
      try {
        await store.write(batch);
        writing = [];
        if (writeProblem !== undefined) logger.info({ written: batch.length }, 'observations are written again');
        writeProblem = undefined;
        retryDelay.reset();
        retryWriteAtMs = 0;
      } catch (error) {
        writing = [];
        writeErrorsTotal++;
        writeProblem = (error as Error).message;
        pending = batch.concat(pending); // kept for the next attempt: nothing is dropped
        if (pending.length > MAX_PENDING) dropOldest();
        retryWriteAtMs = clock.now() + retryDelay.next();
        if (writeErrorLog.due())
          logger.error(
            { err: error, pending: pending.length, failures: writeErrorsTotal },
            'writing observations to the store failed; they wait in memory and are retried',
          );
      }
    });
    return flushing;
  };

  const scheduleFlush = () => {
    flushTimer = clock.setTimeout(() => {
      void flush().then(() => running && scheduleFlush());
    }, FLUSH_EVERY_MS);
  };

  return {
    get running() {
      return running;
    },
    start() {
      if (running) return;
      running = true;
      if (ownsStallWatch) stalls = startStallWatch();
      const now = clock.now();
      for (const job of jobs) {
        job.dueMs = firstDueMs(now, job.check.intervalMs, job.offsetMs);
        arm(job, now);
      }
      scheduleFlush();
      logger.info({ checks: jobs.length, location: config.probing.location }, 'probe loop started');
    },
    async stop() {
      if (!running) return;
      running = false;
      for (const job of jobs) job.timer?.cancel();
      flushTimer?.cancel();
      waiting = [];
      waitingHead = 0;
      if (inFlight > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
      if (ownsStallWatch) stalls?.stop();
      await flush(true);
      if (pending.length > 0) spill();
      await closeHttpDispatchers();
      logger.info({ probesTotal }, 'probe loop stopped');
    },
    async unconfirmed(fromMs, toMs) {
      const inRange = (o: Observation) => o.timeMs >= fromMs && o.timeMs < toMs;
      return { waiting: pending.filter(inRange).length + writing.filter(inRange).length, parked: 0 };
    },
    earliestUnwrittenMs() {
      let earliest = Number.POSITIVE_INFINITY;
      for (const { startedMs } of probingSince) earliest = Math.min(earliest, startedMs);
      for (const o of pending) earliest = Math.min(earliest, o.timeMs);
      for (const o of writing) earliest = Math.min(earliest, o.timeMs);
      return Number.isFinite(earliest) ? earliest : undefined;
    },
    stats: () => ({
      checks: jobs.length,
      probesTotal,
      inFlight,
      queued: waiting.length - waitingHead,
      pendingWrites: pending.length,
      writeErrorsTotal,
      writeProblem,
      discarded: { ...discarded },
      droppedTotal,
    }),
  };
}
