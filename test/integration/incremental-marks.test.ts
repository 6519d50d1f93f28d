// The running month's incremental reads when computations overlap: the refresh and the API's credits each take a
// settled mark and then wait their turn in the computations, so the marks may arrive out of the order they were
// taken. A mark taken a moment before the one the kept runs were cut with must not look like the mark moving back:
// a cut moved back past a server's last observation before it falls inside a run that, for a server up all month,
// began at the month's start, so the server's whole month is read again (at 10 s probes, a mark a second earlier
// does that to about one server in ten; one a probe interval earlier, to all).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthReadRange } from '../../src/close/compute.js';
import { computed, inThreadComputations, type IncrementalRead } from '../../src/close/month-computations.js';
import type { RunQuery, RunSource } from '../../src/store/store.js';
import { closeFixture, type CloseFixture } from '../support/close-fixture.js';

const MIN = 60_000;
const H = 60 * MIN;
const NOW = '2026-10-20T12:00:00Z';
const MONTH = '2026-10';

describe('incremental reads of the running month, marks arriving out of order', () => {
  let fixture: CloseFixture;
  beforeAll(async () => {
    fixture = await closeFixture({ nowIso: NOW });
    const nowMs = Date.parse(NOW);
    // Both servers up all month, probed every minute.
    await fixture.observe(
      { server: 'oci-101', fromMs: Date.parse('2026-09-30T00:00:00Z'), toMs: nowMs, everyMs: MIN },
      { server: 'oci-5', fromMs: Date.parse('2026-09-30T00:00:00Z'), toMs: nowMs, everyMs: MIN },
    );
  });
  afterAll(async () => fixture.dispose());

  it('reads with the latest mark taken: an earlier one does not cut the kept runs back, a later one moving back does', async () => {
    const nowMs = Date.parse(NOW);
    const monthStartMs = monthReadRange(fixture.config, MONTH).fromMs;
    const reads: RunQuery[] = [];
    const store: RunSource = {
      readRuns: (query) => {
        reads.push(query);
        return fixture.store.readRuns(query);
      },
    };
    const computations = inThreadComputations(fixture.config, { store, operatorRecords: fixture.operatorRecords });
    const whole = computed(
      await inThreadComputations(fixture.config, fixture).monthToDateCredits(MONTH, nowMs, undefined),
    );
    const toDate = async (read: Omit<IncrementalRead, 'restart'>) => {
      reads.length = 0;
      const answer = computed(
        await computations.monthToDateCredits(MONTH, nowMs, undefined, { incremental: { ...read, restart: false } }),
      );
      expect(answer).toEqual(whole);
      return reads.map((r) => r.fromMs);
    };

    // The first read is of the whole month; the kept runs are cut at the mark (less the margin).
    expect(await toDate({ settledThroughMs: nowMs - 10 * MIN, markTaken: 2 })).toContain(monthStartMs);
    // A computation whose mark was taken before (two probe intervals earlier) reads only what follows the cut.
    const afterEarlierMark = await toDate({ settledThroughMs: nowMs - 12 * MIN, markTaken: 1 });
    expect(afterEarlierMark.length).toBeGreaterThan(0);
    expect(afterEarlierMark.every((fromMs) => fromMs > nowMs - H)).toBe(true);
    // A mark taken later that moved back (a writer restarted with a backlog) cuts back: read again from before it.
    const afterMovedBack = await toDate({ settledThroughMs: nowMs - 3 * H, markTaken: 3 });
    expect(Math.min(...afterMovedBack)).toBeLessThan(nowMs - 3 * H);
  });
});
