// The reads the running month's computations take: their marks are taken one at a time, and numbered in that order,
// whatever order the computations then reach the worker in.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging.js';
import type { IncrementalRead } from '../../../src/close/month-computations.js';
import { createIncrementalReads } from '../../../src/scheduler/incremental-reads.js';

describe('incremental reads', () => {
  it('takes marks one at a time and numbers them in the order taken, though the first is slow to take', async () => {
    const started: number[] = [];
    const releases: (() => void)[] = [];
    let marks = 0;
    // The first mark waits until released (a heartbeat read of InfluxDB); the second is at hand.
    const reads = createIncrementalReads({
      settledThroughMs: async () => {
        const mark = ++marks * 1_000;
        started.push(mark);
        if (mark === 1_000) await new Promise<void>((resolve) => releases.push(resolve));
        return mark;
      },
      logger: createLogger(),
    });
    const seen: IncrementalRead[] = [];
    const first = reads.withRead(async (read) => seen.push(read));
    const second = reads.withRead(async (read) => seen.push(read));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The second waits for the first: not even started while the first is being taken.
    expect(started).toEqual([1_000]);
    releases[0]!();
    await Promise.all([first, second]);
    expect(started).toEqual([1_000, 2_000]);
    expect(seen.map((r) => r.settledThroughMs)).toEqual([1_000, 2_000]);
    expect(seen[1]!.markTaken).toBeGreaterThan(seen[0]!.markTaken);
  });

  it('takes the next mark after one failed to be taken', async () => {
    let fail = true;
    const reads = createIncrementalReads({
      settledThroughMs: async () => {
        if (fail) throw new Error('InfluxDB is unreachable');
        return 5_000;
      },
      logger: createLogger(),
    });
    await expect(reads.withRead(async (read) => read)).rejects.toThrow('InfluxDB is unreachable');
    fail = false;
    expect((await reads.withRead(async (read) => read)).settledThroughMs).toBe(5_000);
  });
});
