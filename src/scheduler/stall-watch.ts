// Notices when this process itself stalled (its event loop blocked: a synchronous write on a full disk, a long
// GC): a probe that timed out across such a stall says nothing about its target, whose answer may have been
// sitting unread. The probe loop leaves those out (unmonitored time, never downtime).
import { performance } from 'node:perf_hooks';

const TICK_MS = 100;
/** A tick this much later than due counts as a stall of the process. */
export const STALL_THRESHOLD_MS = 500;
const REMEMBERED = 256;

export interface StallWatch {
  /** True when a stall of the process overlapped [fromMs, toMs] (performance.now() times). */
  stalledDuring(fromMs: number, toMs: number): boolean;
  stop(): void;
}

export function startStallWatch(): StallWatch {
  const stalls: { fromMs: number; toMs: number }[] = [];
  let lastTick = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - lastTick - TICK_MS >= STALL_THRESHOLD_MS) {
      stalls.push({ fromMs: lastTick, toMs: now });
      if (stalls.length > REMEMBERED) stalls.shift();
    }
    lastTick = now;
  }, TICK_MS);
  timer.unref();
  return {
    stalledDuring(fromMs, toMs) {
      // A stall just ending has not been ticked yet when the probe's own (equally late) timer runs first.
      const now = performance.now();
      if (now - lastTick - TICK_MS >= STALL_THRESHOLD_MS && toMs >= lastTick) return true;
      return stalls.some((s) => s.fromMs <= toMs && s.toMs >= fromMs);
    },
    stop: () => clearInterval(timer),
  };
}
