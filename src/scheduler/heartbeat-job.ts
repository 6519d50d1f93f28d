// Writes this agent's heartbeat every few seconds and once more at stop, so the closing instance knows how far its
// observations have reached InfluxDB.
import type { AgentHeartbeat } from '../agents/heartbeat.js';
import { HEARTBEAT_EVERY_MS } from '../agents/heartbeat.js';
import type { HeartbeatStore } from '../agents/influx-heartbeats.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logging.js';
import { atMostEvery, REPEATED_FAILURE_LOG_EVERY_MS } from '../pacing.js';

export interface HeartbeatJob {
  start(): void;
  /** Stops the timer and writes a last heartbeat (after the probe loop and the store have drained). */
  stop(): Promise<void>;
}

export function createHeartbeatJob(deps: {
  heartbeats: HeartbeatStore;
  /** Who this agent is, and its figures now. */
  beat: (nowMs: number) => Omit<AgentHeartbeat, 'atMs'>;
  clock: Clock;
  logger: Logger;
  everyMs?: number;
}): HeartbeatJob {
  const { heartbeats, clock, logger } = deps;
  const everyMs = deps.everyMs ?? HEARTBEAT_EVERY_MS;
  const failureLog = atMostEvery(REPEATED_FAILURE_LOG_EVERY_MS, () => clock.now());
  let timer: { cancel(): void } | undefined;
  let running = false;
  let writing: Promise<void> = Promise.resolve();

  const writeNow = async () => {
    const nowMs = clock.now();
    try {
      await heartbeats.write({ ...deps.beat(nowMs), atMs: nowMs });
      failureLog.reset();
    } catch (error) {
      // Not fatal: the closing instance waits for a later one (and names this agent if none comes).
      if (failureLog.due()) logger.warn({ err: error }, "cannot write this agent's heartbeat to InfluxDB");
    }
  };
  const tick = () => {
    writing = writeNow().then(() => {
      if (running) timer = clock.setTimeout(tick, everyMs);
    });
  };
  return {
    start() {
      running = true;
      tick();
    },
    async stop() {
      running = false;
      timer?.cancel();
      await writing;
      await writeNow();
    },
  };
}
