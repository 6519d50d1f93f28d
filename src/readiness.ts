// The write path's state, read by /readyz and the write-path metrics: the probe loop's unwritten observations
// and the store's outbox, whatever the remote store's state.
import type { Clock } from './clock.js';
import type { WritePathView } from './metrics/metrics.js';
import type { ProbeLoop } from './scheduler/probe-loop.js';
import type { ObservationStore } from './store/store.js';

/** /readyz waits this long for the remote store's /ping before it calls it unreachable. */
const READY_PING_TIMEOUT_MS = 1_500;
/** Observations waiting longer than this for the remote store make the daemon degraded. */
const OUTBOX_WAIT_DEGRADED_MS = 60_000;

type ProbeLoopState = Pick<ProbeLoop, 'running' | 'stats'>;

/** The write path now: cheap and local. */
export function writePathView(store: ObservationStore, loop: ProbeLoopState, clock: Clock): WritePathView {
  const probing = loop.stats();
  return {
    store: store.health(),
    pendingInMemory: probing.pendingWrites,
    localWriteProblem: probing.writeProblem,
    localWriteErrorsTotal: probing.writeErrorsTotal,
    discarded: probing.discarded,
    droppedTotal: probing.droppedTotal,
    nowMs: clock.now(),
  };
}

/**
 * Throws with the reason the daemon cannot do its work (not probing, cannot store locally); otherwise lists why it
 * works degraded (the remote store unreachable or slow while the local outbox holds observations), if at all.
 */
export async function checkReadiness(
  store: ObservationStore,
  loop: ProbeLoopState,
  clock: Clock,
): Promise<{ degraded: string[] }> {
  if (!loop.running) throw new Error('probe loop is not running');
  const view = writePathView(store, loop, clock);
  if (view.localWriteProblem !== undefined)
    throw new Error(
      `cannot store observations locally (${view.pendingInMemory} wait in memory): ${view.localWriteProblem}`,
    );
  const degraded: string[] = [];
  const answered = await Promise.race([
    store.ping().then(
      () => undefined,
      (error: Error) => error.message,
    ),
    new Promise<string>((resolve) =>
      setTimeout(() => resolve(`no answer within ${READY_PING_TIMEOUT_MS} ms`), READY_PING_TIMEOUT_MS).unref(),
    ),
  ]);
  const problem = view.store.remoteProblem ?? answered;
  if (problem !== undefined)
    degraded.push(
      `${store.description} unreachable: ${problem}; ${view.store.waiting} observations wait in the local outbox`,
    );
  else if (
    view.store.waiting > 0 &&
    view.store.oldestWaitingSinceMs !== undefined &&
    view.nowMs - view.store.oldestWaitingSinceMs > OUTBOX_WAIT_DEGRADED_MS
  ) {
    degraded.push(`${view.store.waiting} observations have waited over a minute for ${store.description}`);
  }
  if (view.store.parked > 0)
    degraded.push(
      `${view.store.parked} observations refused by the remote store are parked (see \`uptime-credits outbox\`)`,
    );
  return { degraded };
}
