// Fleet-sized loops on the daemon's thread: every item is visited once, in order, and the event loop runs between
// slices (a timer due meanwhile fires before the loop ends), so a probe or a scrape waits two slices at most. And a
// wait a stop cuts short: it ends with the stop's reason at once, and the work it leaves can end as it will.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { forEachInSlices, isAbortOf, unlessAborted } from '../../src/concurrency.js';

describe('forEachInSlices', () => {
  it('visits every item once in order, letting a due timer run between slices', async () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const seen: string[] = [];
    setTimeout(() => seen.push('timer'), 0);
    // A busy first slice: the timer is due before it ends, and fires before the loop ends (the event loop's timers
    // come round after at most one more slice: setImmediate runs before the next timers phase).
    const busyUntil = Date.now() + 5;
    await forEachInSlices(items, 4, (item) => {
      if (item === 0) while (Date.now() < busyUntil);
      seen.push(String(item));
    });
    expect(seen.filter((entry) => entry !== 'timer')).toEqual(items.map(String));
    expect(seen.indexOf('timer')).toBeGreaterThan(seen.indexOf('3'));
    expect(seen.indexOf('timer')).toBeLessThan(seen.indexOf('8'));
  });

  it('runs a short list within one turn, and an empty one not at all', async () => {
    const seen: number[] = [];
    const done = forEachInSlices([1, 2, 3], 4, (item) => seen.push(item));
    expect(seen).toEqual([1, 2, 3]);
    await done;
    await forEachInSlices([], 4, () => seen.push(0));
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('unlessAborted', () => {
  /** A promise settled by hand. */
  const deferred = <T>() => {
    let resolve!: (value: T) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };

  it("gives the work's result or failure while the signal holds, and leaves no listener on it", async () => {
    const { signal } = new AbortController();
    const work = deferred<number>();
    const waited = unlessAborted(work.promise, signal);
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    work.resolve(42);
    await expect(waited).resolves.toBe(42);
    await expect(unlessAborted(Promise.reject(new Error('the store does not answer')), signal)).rejects.toThrow(
      'the store does not answer',
    );
    // The month-end job's signal lives for the process: a listener left per close would pile up month after month.
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    await expect(unlessAborted(Promise.resolve('no signal'), undefined)).resolves.toBe('no signal');
  });

  it("rejects with the signal's reason as soon as it aborts, before the work ends; the work's later end is dropped", async () => {
    const controller = new AbortController();
    const work = deferred<number>();
    const waited = unlessAborted(work.promise, controller.signal);
    const reason = new Error('the month-end job is stopping');
    controller.abort(reason);
    await expect(waited).rejects.toBe(reason);
    // The abandoned work failing later is nobody's unhandled rejection (vitest fails the run on one).
    work.reject(new Error('the month computations were closed'));
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it('rejects at once for a signal aborted before the wait began', async () => {
    const controller = new AbortController();
    const reason = new Error('stopped');
    controller.abort(reason);
    await expect(unlessAborted(new Promise<never>(() => {}), controller.signal)).rejects.toBe(reason);
  });
});

describe('isAbortOf', () => {
  it("tells the signal's own abort from a failure that came while it was aborted, or before", () => {
    const controller = new AbortController();
    const reason = new Error('stopping');
    const failure = new Error('disk full');
    expect(isAbortOf(controller.signal, reason)).toBe(false); // not aborted yet
    controller.abort(reason);
    expect(isAbortOf(controller.signal, reason)).toBe(true);
    expect(isAbortOf(controller.signal, failure)).toBe(false);
    expect(isAbortOf(undefined, reason)).toBe(false);
  });
});
