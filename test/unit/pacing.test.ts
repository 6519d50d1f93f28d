import { describe, expect, it } from 'vitest';
import { atMostEvery, doublingBackoff, failureStreakLog } from '../../src/pacing.js';

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

  it('logs failures at most once per interval with the count since, and the end of a streak a line told of', () => {
    let nowMs = 0;
    const said: string[] = [];
    const logger = {
      error: (fields: { failedSinceLastLine: number; err: Error }, msg: string) =>
        said.push(`${nowMs}: ${msg} (${fields.err.message}) x${fields.failedSinceLastLine}`),
      info: (fields: { failedInStreak: number }, msg: string) =>
        said.push(`${nowMs}: ${msg} after ${fields.failedInStreak}`),
    } as unknown as Parameters<typeof failureStreakLog>[0];
    const streak = failureStreakLog(logger, 'reading', () => nowMs);
    streak.succeeded(); // no streak: nothing to say
    for (nowMs = 0; nowMs <= 150_000; nowMs += 15_000) streak.failed(new Error('down'));
    nowMs = 160_000;
    streak.succeeded();
    streak.succeeded();
    // A short streak within the minute after the last line: no line, and none for its end either...
    nowMs = 170_000;
    streak.failed(new Error('down again'));
    nowMs = 175_000;
    streak.succeeded();
    // ...its failure is counted in the next line.
    nowMs = 185_000;
    streak.failed(new Error('down again'));
    const failed = 'reading failed; it is retried (logged at most once a minute)';
    expect(said).toEqual([
      `0: ${failed} (down) x1`,
      `60000: ${failed} (down) x4`,
      `120000: ${failed} (down) x4`,
      '160000: reading works again after 11',
      `185000: ${failed} (down again) x2`,
    ]);
  });
});
