// Notices when this process itself stalled (its event loop blocked: a synchronous write on a full disk, a long
// GC): a probe whose deadline came during or just after such a stall may have had its request sent late or its
// answer left unread, which says nothing about the target. The probe loop leaves those timeouts out (unmonitored
// time, never downtime). A stall early in a probe's window leaves it most of its time, so it does not count.
import { performance } from 'node:perf_hooks';

const TICK_MS = 100;
/** A tick this much later than due counts as a stall of the process. */
export const STALL_THRESHOLD_MS = 250;
const REMEMBERED = 256;

export interface StallWatch {
  /** True when the process stalled between `fromMs` and `toMs` (performance.now() times). */
  stalledBetween(fromMs: number, toMs: number): boolean;
  stop(): void;
}

/** The stall bookkeeping, fed with tick times (pure, so tests give exact times). */
export function createStallRecorder() {
  const stalls: { fromMs: number; toMs: number }[] = [];
  let lastTick: number | undefined;
  return {
    tick(nowMs: number): void {
      if (lastTick !== undefined && nowMs - lastTick - TICK_MS >= STALL_THRESHOLD_MS) {
        stalls.push({ fromMs: lastTick + TICK_MS, toMs: nowMs });
        if (stalls.length > REMEMBERED) stalls.shift();
      }
      lastTick = nowMs;
    },
    stalledBetween(fromMs: number, toMs: number, nowMs: number): boolean {
      // A stall just ending has not been ticked yet when the probe's own (equally late) timer runs first.
      if (lastTick !== undefined && nowMs - lastTick - TICK_MS >= STALL_THRESHOLD_MS && toMs >= lastTick + TICK_MS)
        return true;
      return stalls.some((s) => s.fromMs <= toMs && s.toMs >= fromMs);
    },
  };
}

export function startStallWatch(): StallWatch {
  const recorder = createStallRecorder();
  recorder.tick(performance.now());
  const timer = setInterval(() => recorder.tick(performance.now()), TICK_MS);
  timer.unref();
  return {
    stalledBetween: (fromMs, toMs) => recorder.stalledBetween(fromMs, toMs, performance.now()),
    stop: () => clearInterval(timer),
  };
}
