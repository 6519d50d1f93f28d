// Runs compared as ObservationRun's contract allows: every field equal, except an up run's count, which a store
// answering clean hours from aggregates does not count. It must then lie between 1 and the exact count.
import { expect } from 'vitest';
import type { ObservationRun } from '../../src/sla/types.js';

type RunsByServer = Map<string, ObservationRun[]>;

const withoutUpCounts = (runs: readonly ObservationRun[]) => runs.map((r) => (r.up ? { ...r, count: 'uncounted' } : r));

/** `actual` has the runs of `exact` (a store that counts every observation, or rows read one by one). */
export function expectSameRuns(
  actual: RunsByServer | ObservationRun[] | undefined,
  exact: RunsByServer | ObservationRun[] | undefined,
): void {
  const asMap = (runs: RunsByServer | ObservationRun[] | undefined) =>
    runs instanceof Map ? runs : new Map(runs === undefined ? [] : [['', runs]]);
  const a = asMap(actual);
  const e = asMap(exact);
  expect([...a.keys()]).toEqual([...e.keys()]);
  for (const [server, runs] of e) {
    const got = a.get(server) ?? [];
    expect(withoutUpCounts(got), server).toEqual(withoutUpCounts(runs));
    runs.forEach((run, i) => {
      const count = got[i]?.count ?? 0;
      expect(count, `${server}: run ${i}'s count`).toBeGreaterThanOrEqual(1);
      expect(count, `${server}: run ${i}'s count`).toBeLessThanOrEqual(run.count);
    });
  }
}
