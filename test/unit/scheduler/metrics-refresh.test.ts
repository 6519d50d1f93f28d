import { describe, expect, it, vi } from 'vitest';
import { createMetricsRefresh } from '../../../src/scheduler/metrics-refresh.js';
import { FakeClock } from '../../support/fake-clock.js';
import { capturedLog } from '../../support/captured-log.js';

describe('the metrics read on a timer', () => {
  it('logs a count of due months that keeps failing once a minute, with how many failed, and when it works again', async () => {
    const { logger, lines } = capturedLog();
    const clock = new FakeClock(Date.parse('2026-12-01T00:00:00Z'));
    const startMs = clock.now();
    const dueCounts: number[] = [];
    let down = true;
    const refresh = createMetricsRefresh({
      metrics: {
        recordCloseStates: () => undefined,
        recordPendingRevisions: () => undefined,
        recordDueMonths: (count) => dueCounts.push(count),
        recordWritePath: () => undefined,
      },
      logger,
      clock,
      closeStates: () => [],
      pendingRevisionMonths: () => [],
      dueMonths: async () => {
        if (down) throw new Error('InfluxDB is unreachable');
        return ['2026-11'];
      },
      writePath: () => ({
        store: { waiting: 0, parked: 0, remoteWriteErrorsTotal: 0, confirmedTotal: 0 },
        pendingInMemory: 0,
        localWriteErrorsTotal: 0,
        discarded: { 'process-stalled': 0, 'local-error': 0 },
        droppedTotal: 0,
        nowMs: clock.now(),
      }),
    });
    refresh.start();
    await new Promise((resolve) => setImmediate(resolve)); // the first count fails at the start, before time moves
    try {
      // Counted at the start and every 30 s: 11 failures by 300 s.
      await clock.advanceTo(startMs + 300_000);
      const failed = lines.filter((l) => l.msg.startsWith('finding the months due for closing failed'));
      expect(failed.map((l) => [l.level, l.failedSinceLastLine])).toEqual([
        [50, 1],
        ...Array.from({ length: 5 }, () => [50, 2]),
      ]);
      expect(dueCounts).toEqual([]);

      down = false;
      await clock.advanceTo(startMs + 330_000);
      await vi.waitFor(() => expect(dueCounts).toEqual([1]));
      expect(lines.at(-1)).toMatchObject({
        level: 30,
        msg: 'finding the months due for closing works again',
        failedInStreak: 11,
      });
    } finally {
      await refresh.stop();
    }
  });
});
