// A simulated clock: time moves only when the test advances it, firing due timers in order.
import { systemClock, type Clock } from '../../src/clock.js';

export class FakeClock implements Clock {
  private timers: { atMs: number; seq: number; callback: () => void; cancelled: boolean }[] = [];
  private seq = 0;
  constructor(private nowMs: number) {}

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number) {
    const timer = { atMs: this.nowMs + Math.max(0, delayMs), seq: this.seq++, callback, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward to `toMs`, firing timers in time order and letting promises settle in between. */
  async advanceTo(toMs: number): Promise<void> {
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      this.timers.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.atMs > toMs) break;
      this.timers.shift();
      this.nowMs = Math.max(this.nowMs, next.atMs);
      next.callback();
      for (let i = 0; i < 5; i++) await Promise.resolve();
      await new Promise((r) => setImmediate(r));
    }
    this.nowMs = toMs;
  }
}

/** A clock at `startMs` when made, running at wall-clock speed from there, with real timers: a daemon at a chosen date. */
export function clockStartingAt(startMs: number): Clock {
  const offsetMs = startMs - Date.now();
  return {
    now: () => Date.now() + offsetMs,
    setTimeout: (callback, delayMs) => systemClock.setTimeout(callback, delayMs),
  };
}
