// Time as a dependency, so the scheduler and the month-end job can run on a simulated clock in tests.

/** Wall-clock time in integer epoch milliseconds, plus timers that follow the same clock. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): { cancel(): void };
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    timer.unref?.();
    return { cancel: () => clearTimeout(timer) };
  },
};
