import { describe, expect, it } from 'vitest';
import { atMostEvery, doublingBackoff } from '../../src/pacing.js';

describe('pacing', () => {
  it('doubles the delay up to its bound, and starts over after a reset', () => {
    const backoff = doublingBackoff(500, 3_000);
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([
      500, 1_000, 2_000, 3_000, 3_000,
    ]);
    backoff.reset();
    expect(backoff.next()).toBe(500);
  });

  it('says yes at most once per interval, and at once after a reset', () => {
    let nowMs = 0;
    const log = atMostEvery(60_000, () => nowMs);
    expect(log.due()).toBe(true);
    nowMs = 59_999;
    expect(log.due()).toBe(false);
    nowMs = 60_000;
    expect(log.due()).toBe(true);
    nowMs = 60_001;
    log.reset();
    expect(log.due()).toBe(true);
  });
});
