// Fleet-sized loops on the daemon's thread: every item is visited once, in order, and the event loop runs between
// slices (a timer due meanwhile fires before the loop ends), so a probe or a scrape waits two slices at most.
import { describe, expect, it } from 'vitest';
import { forEachInSlices } from '../../src/concurrency.js';

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
