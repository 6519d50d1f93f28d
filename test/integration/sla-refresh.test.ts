// The month-to-date SLA view on a real embedded store: the figures the alert rules read. The burn-rate windows
// reach back across the month's start (the month-to-date downtime restarts at 0 there, the burn does not), and a
// server failing before its coverage starts is not "down" (nothing is promised yet).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { computed, inThreadComputations, type MonthComputations } from '../../src/close/month-computations.js';
import { workerComputations } from '../../src/close/worker-computations.js';
import { createLogger } from '../../src/logging.js';
import { createIncrementalReads } from '../../src/scheduler/incremental-reads.js';
import { createSlaRefresh, type RefreshTiming, type SlaSnapshot } from '../../src/scheduler/sla-refresh.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { closeFixture, type CloseFixture } from '../support/close-fixture.js';
import { observationsOf } from '../support/observations.js';
import { capturedLog } from '../support/captured-log.js';

const at = (iso: string) => Date.parse(iso);
/** A refresh's reading on this thread, over the fixture's store (each call: a month-to-date cache of its own). */
const inThread = (fixture: CloseFixture) => ({
  operatorRecords: fixture.operatorRecords,
  computations: inThreadComputations(fixture.config, {
    store: fixture.store,
    operatorRecords: fixture.operatorRecords,
  }),
});
/** A failure over `window` written by a connection of its own, as an `import` into the embedded file would. */
async function importFailure(
  fixture: CloseFixture,
  window: { server: string; check: string; fromMs: number; toMs: number },
): Promise<void> {
  const importer = EmbeddedObservationStore.open(fixture.config.storage.path);
  await importer.write(observationsOf({ ...window, everyMs: 60_000, down: [window] }));
  await importer.close();
}
const NOW = '2026-12-01T01:00:00+01:00';

describe('month-to-date SLA view', () => {
  let fixture: CloseFixture;
  let snapshot: SlaSnapshot;

  beforeAll(async () => {
    fixture = await closeFixture({
      nowIso: NOW,
      yaml: `
customers:
  - id: acme
    name: ACME
    tier: gold
    servers:
      - { id: web-1, name: Down since 22:00 the day before }
      - { id: new-1, name: Failing before its coverage starts, since: 2026-12-02 }
`,
    });
    // Probes every 60 s (staleAfter 3 min, 3 confirmations): web-1 fails from 22:00 on 30 November on.
    await fixture.observe(
      {
        server: 'web-1',
        fromMs: at('2026-11-30T18:00:00+01:00'),
        toMs: at(NOW),
        everyMs: 60_000,
        down: [{ fromMs: at('2026-11-30T22:00:00+01:00'), toMs: at(NOW) }],
      },
      {
        server: 'new-1',
        fromMs: at('2026-12-01T00:10:00+01:00'),
        toMs: at(NOW),
        everyMs: 60_000,
        down: [{ fromMs: 0, toMs: at(NOW) }],
      },
    );
    snapshot = await createSlaRefresh({
      config: fixture.config,
      ...inThread(fixture),
      logger: createLogger(),
      clock: fixture.clock,
    }).refresh();
  });
  afterAll(async () => fixture.dispose());

  it("measures the burn windows across the month's start, while the month to date starts at midnight", () => {
    const web = snapshot.servers.find((s) => s.server === 'web-1')!;
    expect(snapshot.month).toBe('2026-12');
    expect(web.monthToDate.downtimeMs).toBe(3_600_000); // 00:00 to 01:00
    expect(web.recentDowntimeMs).toEqual({ '30m': 1_800_000, '1h': 3_600_000, '6h': 3 * 3_600_000 }); // 22:00 to 01:00
    expect(web.monthToDate.downAtEnd).toBe(true);
    expect(web.outlook.coveredNow).toBe(true);
    // December: 31 days; Gold 99.6 % allows 0.4 % of 2,678,400 s = 10,713.6 s, less the hour so far.
    expect(web.outlook.budgets[0]).toEqual({
      belowMicroPercent: 99_600_000,
      creditPercentHundredths: 1_000,
      allowanceMs: 10_713_600,
      remainingMs: 10_713_600 - 3_600_000,
    });
    expect(web.outlook.remainingEligibleMs).toBe(31 * 86_400_000 - 3_600_000);
  });

  it('does not call a server down before its coverage starts', () => {
    const fresh = snapshot.servers.find((s) => s.server === 'new-1')!;
    expect(fresh.monthToDate.downAtEnd).toBe(true); // the probes say so
    expect(fresh.outlook.coveredNow).toBe(false); // but nothing is promised yet (the metrics then export server_down 0)
    expect(fresh.monthToDate.downtimeMs).toBe(0);
    expect(fresh.recentDowntimeMs).toEqual({ '30m': 0, '1h': 0, '6h': 0 });
  });
});

// Ten days of October 2026 (240 h of a 745 h month), figured by hand from sla-terms.md (rules 2-7). The projection
// is the bracket of the month-to-date uptime, applied to the fee of the whole month's coverage.
describe('month-to-date SLA view: projected credits', () => {
  const TEN_DAYS = '2026-10-11T00:00:00+02:00';
  const H = 3_600_000;
  let fixture: CloseFixture;
  let snapshot: SlaSnapshot;

  beforeAll(async () => {
    fixture = await closeFixture({
      nowIso: TEN_DAYS,
      yaml: `
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers:
      - { id: p-full, name: Covered all month }
      - { id: p-late, name: Covered from the 6th, since: 2026-10-06 }
  - id: beta
    name: Beta
    tier: gold
    servers: [{ id: g-maint, name: Down in its maintenance window too }]
  - id: calm
    name: Calm
    tier: silver
    servers: [{ id: s-1, name: Down an hour }]
maintenance:
  - { server: g-maint, from: "2026-10-07T01:00:00+02:00", to: "2026-10-07T03:00:00+02:00", reason: Upgrade, announced: true }
`,
    });
    const probes = { fromMs: at('2026-10-01T00:00:00+02:00') - 2 * H, toMs: at(TEN_DAYS), everyMs: 60_000 };
    const down = (from: string, to: string) => ({
      fromMs: at(`2026-10-${from}+02:00`),
      toMs: at(`2026-10-${to}+02:00`),
    });
    await fixture.observe(
      { server: 'p-full', ...probes, down: [down('03T10:00:00', '03T11:00:00')] },
      // Four hours down before its coverage starts (not counted), two after.
      { server: 'p-late', ...probes, down: [down('04T10:00:00', '04T14:00:00'), down('08T10:00:00', '08T12:00:00')] },
      // Two hours down inside the announced window (excluded), one outside it.
      { server: 'g-maint', ...probes, down: [down('07T01:00:00', '07T03:00:00'), down('09T12:00:00', '09T13:00:00')] },
      { server: 's-1', ...probes, down: [down('02T08:00:00', '02T09:00:00')] },
    );
    snapshot = await createSlaRefresh({
      config: fixture.config,
      ...inThread(fixture),
      logger: createLogger(),
      clock: fixture.clock,
    }).refresh();
  });
  afterAll(async () => fixture.dispose());

  const view = (server: string) => {
    const found = snapshot.servers.find((s) => s.server === server);
    if (!found) throw new Error(`no view of ${server}`);
    return found;
  };

  it('projects each server from its month-to-date uptime and its whole month of coverage', () => {
    expect(snapshot.month).toBe('2026-10');
    expect(snapshot.asOfMs).toBe(at(TEN_DAYS));
    // Platinum, covered all month: 1 h of 240 h -> 99.5833 % < 99.6 -> 25 % of 600.00 = 150.00.
    expect(view('p-full').monthToDate).toMatchObject({ eligibleMs: 240 * H, downtimeMs: H });
    expect(view('p-full')).toMatchObject({ projectedCreditPercentHundredths: 2_500, projectedCreditGrosze: 15_000 });
    // Platinum from 6 Oct 00:00: 2 h of 120 h -> 98.3333 % < 99.0 -> 300 % of the fee for 625 h of 745 h:
    // 600.00 x 625 / 745 = 503.3557 -> 503.36; x 3 = 1 510.08.
    expect(view('p-late').monthToDate).toMatchObject({ coveredMs: 120 * H, eligibleMs: 120 * H, downtimeMs: 2 * H });
    expect(view('p-late')).toMatchObject({ projectedCreditPercentHundredths: 30_000, projectedCreditGrosze: 151_008 });
    // Gold: 240 h less 2 h of maintenance = 238 h, 1 h down -> 99.5798 % < 99.6 -> 10 % of 300.00 = 30.00 (counting the
    // window's 2 h it would be 3 h of 240 h, 98.75 %, 200 %).
    expect(view('g-maint').monthToDate).toMatchObject({ eligibleMs: 238 * H, maintenanceMs: 2 * H, downtimeMs: H });
    expect(view('g-maint')).toMatchObject({ projectedCreditPercentHundredths: 1_000, projectedCreditGrosze: 3_000 });
    // Silver: 99.5833 % is not below 99.4: nothing.
    expect(view('s-1')).toMatchObject({ projectedCreditPercentHundredths: 0, projectedCreditGrosze: 0 });
  });

  it('adds the projections up per customer and for the month, with the bases and uptimes shown', () => {
    const servers = new Map(
      [...snapshot.projectedByServer].map(([id, s]) => [
        id,
        [s.uptimePercent, s.creditBaseGrosze, s.creditAmountGrosze],
      ]),
    );
    expect(Object.fromEntries(servers)).toEqual({
      'p-full': ['99.5833', 60_000, 15_000],
      'p-late': ['98.3333', 50_336, 151_008],
      'g-maint': ['99.5798', 30_000, 3_000],
      's-1': ['99.5833', 15_000, 0],
    });
    expect(snapshot.projected.monthMs).toBe(745 * H);
    expect(snapshot.projected.customers.map((c) => [c.id, c.creditAmountGrosze])).toEqual([
      ['acme', 166_008],
      ['beta', 3_000],
      ['calm', 0],
    ]);
    expect(snapshot.projected.creditAmountGrosze).toBe(169_008);
  });
});

// The refresh on the incremental run source: the same snapshot as a refresh reading the whole month, pass after
// pass; an import of observations older than the settled mark is seen only after an on-demand recompute.
describe('month-to-date SLA view: incremental refresh', () => {
  const H = 3_600_000;
  const START = '2026-10-03T12:00:00+02:00';
  let fixture: CloseFixture;

  beforeAll(async () => {
    fixture = await closeFixture({ nowIso: START });
  });
  afterAll(async () => fixture.dispose());

  it('gives a full refresh’s snapshot after every pass, and sees an old import after recompute()', async () => {
    const logger = createLogger();
    const clock = fixture.clock;
    const full = createSlaRefresh({ config: fixture.config, ...inThread(fixture), logger, clock });
    const incremental = createSlaRefresh({
      config: fixture.config,
      ...inThread(fixture),
      logger,
      clock,
      incrementalReads: createIncrementalReads({ settledThroughMs: async () => clock.now(), logger }),
    });
    const monthStartMs = at('2026-10-01T00:00:00+02:00');
    // oci-101 fails for 20 min every 5 h; oci-5 is probed from ams, a location this process does not probe.
    const down = Array.from({ length: 20 }, (_, i) => ({
      fromMs: monthStartMs + i * 5 * H,
      toMs: monthStartMs + i * 5 * H + 20 * 60_000,
    }));
    let writtenToMs = monthStartMs - H;
    for (let pass = 0; pass < 6; pass++) {
      const nowMs = clock.now();
      await fixture.observe(
        { server: 'oci-101', fromMs: writtenToMs, toMs: nowMs, everyMs: 60_000, down },
        { server: 'oci-5', location: 'ams', fromMs: writtenToMs, toMs: nowMs, everyMs: 60_000, down: down.slice(3) },
      );
      writtenToMs = nowMs;
      const expected = await full.refresh();
      expect(await incremental.refresh()).toEqual(expected);
      await clock.advanceTo(nowMs + 97 * 60_000);
    }
    expect((await full.refresh()).servers.find((s) => s.server === 'oci-5')?.monthToDate.downtimeMs).toBeGreaterThan(0);

    // An import of a failure on 1 October, long settled: a full read sees it at once, the cache after recompute().
    const imported = { server: 'oci-101', check: 'dns', fromMs: monthStartMs + 7 * H, toMs: monthStartMs + 8 * H };
    await fixture.observe({ ...imported, everyMs: 60_000, down: [imported] });
    const withImport = await full.refresh();
    expect(await incremental.refresh()).not.toEqual(withImport);
    expect(await incremental.recompute()).toEqual(withImport);

    // Told how to see another process's writes to the embedded file (the daemon tells it), it needs no recompute:
    // an import through a connection of its own, of a failure on 2 October, is in the next pass.
    const watching = createSlaRefresh({
      config: fixture.config,
      ...inThread(fixture),
      logger,
      clock,
      incrementalReads: createIncrementalReads({
        settledThroughMs: async () => clock.now(),
        writesByOthersVersion: () => fixture.store.writesByOthersVersion(),
        logger,
      }),
    });
    expect(await watching.refresh()).toEqual(withImport);
    await importFailure(fixture, {
      server: 'oci-101',
      check: 'dns',
      fromMs: monthStartMs + 30 * H,
      toMs: monthStartMs + 31 * H,
    });
    const withSecond = await full.refresh();
    expect(withSecond).not.toEqual(withImport);
    expect(await watching.refresh()).toEqual(withSecond);
    expect(await incremental.refresh()).not.toEqual(withSecond);
  });
});

// The daemon's refresh: the reading and computing in the compute worker, over the worker's own read-only connection;
// this thread passes only the settled mark, the records and whether to start over, and has no store to read at all.
// The worker keeps the month's runs between refreshes (an old import by this thread's connection stays unseen until
// recompute(), exactly as on this thread), and the burn windows of the month's first 6 h come from it too.
describe('month-to-date SLA view: refresh in the compute worker', () => {
  const H = 3_600_000;
  const START = '2026-10-01T02:00:00+02:00';
  let fixture: CloseFixture;
  let computations: MonthComputations;

  beforeAll(async () => {
    fixture = await closeFixture({ nowIso: START });
    computations = workerComputations(fixture.config);
  });
  afterAll(async () => {
    await computations?.close();
    await fixture.dispose();
  });

  it('gives the in-thread snapshots, keeps the month in the worker, starts over on recompute and on others’ writes', async () => {
    const logger = createLogger();
    const clock = fixture.clock;
    const full = createSlaRefresh({ config: fixture.config, ...inThread(fixture), logger, clock });
    const inWorker = createSlaRefresh({
      config: fixture.config,
      operatorRecords: fixture.operatorRecords,
      computations,
      logger,
      clock,
      incrementalReads: createIncrementalReads({
        settledThroughMs: async () => clock.now(),
        writesByOthersVersion: () => fixture.store.writesByOthersVersion(),
        logger,
      }),
    });
    const monthStartMs = at('2026-10-01T00:00:00+02:00');
    // Failures of 20 min every 3 h from 30 September 21:00 on: the first passes' burn windows reach into September.
    const down = Array.from({ length: 12 }, (_, i) => ({
      fromMs: monthStartMs - 3 * H + i * 3 * H,
      toMs: monthStartMs - 3 * H + i * 3 * H + 20 * 60_000,
    }));
    let writtenToMs = monthStartMs - 8 * H;
    let burnBeforeTheMonth = 0;
    for (let pass = 0; pass < 6; pass++) {
      const nowMs = clock.now();
      await fixture.observe(
        { server: 'oci-101', fromMs: writtenToMs, toMs: nowMs, everyMs: 60_000, down },
        { server: 'oci-5', location: 'ams', fromMs: writtenToMs, toMs: nowMs, everyMs: 60_000, down: down.slice(2) },
      );
      writtenToMs = nowMs;
      const expected = await full.refresh();
      const web = expected.servers.find((s) => s.server === 'oci-101')!;
      if (web.recentDowntimeMs['6h'] > web.monthToDate.downtimeMs) burnBeforeTheMonth++;
      expect(await inWorker.refresh()).toEqual(expected);
      await clock.advanceTo(nowMs + 97 * 60_000);
    }
    expect(burnBeforeTheMonth).toBeGreaterThan(0); // the recent-window computation was compared too

    // An import by this thread's connection of a long-settled failure: the worker's kept runs do not have it ...
    const imported = { server: 'oci-101', check: 'dns', fromMs: monthStartMs + H, toMs: monthStartMs + 2 * H };
    await fixture.observe({ ...imported, everyMs: 60_000, down: [imported] });
    const withImport = await full.refresh();
    expect(await inWorker.refresh()).not.toEqual(withImport);
    // ... until recompute() tells the worker to start over.
    expect(await inWorker.recompute()).toEqual(withImport);

    // Another connection's write is seen by this thread's data version: the next refresh starts over by itself.
    await importFailure(fixture, {
      server: 'oci-101',
      check: 'dns',
      fromMs: monthStartMs + 4 * H,
      toMs: monthStartMs + 5 * H,
    });
    const withSecond = await full.refresh();
    expect(withSecond).not.toEqual(withImport);
    expect(await inWorker.refresh()).toEqual(withSecond);
  });

  // The API's credits of the running month take their read from the same owner as the refresh and are read by the
  // worker's same incremental source: a whole read's figures, and a restart taken by either is a restart for both.
  it('answers the running month’s credits incrementally, equal to a whole read, sharing restarts with the refresh', async () => {
    const logger = createLogger();
    const clock = fixture.clock;
    const month = '2026-10';
    const whole = inThread(fixture).computations;
    const reads = createIncrementalReads({ settledThroughMs: async () => clock.now(), logger });
    const refresh = createSlaRefresh({
      config: fixture.config,
      operatorRecords: fixture.operatorRecords,
      computations,
      logger,
      clock,
      incrementalReads: reads,
    });
    /** A refresh reading the whole month to date on this thread. */
    const wholeRefresh = () =>
      createSlaRefresh({ config: fixture.config, ...inThread(fixture), logger, clock }).refresh();
    const credits = async () =>
      computed(await reads.withRead((incremental) => computations.credits(month, undefined, { incremental })));
    const monthStartMs = at('2026-10-01T00:00:00+02:00');
    // Written from now on only: what is older than the settled mark given before must not change (its contract).
    let writtenToMs = clock.now();
    for (let pass = 0; pass < 4; pass++) {
      const nowMs = clock.now();
      const failure = { fromMs: nowMs - 40 * 60_000, toMs: nowMs - 10 * 60_000 };
      await fixture.observe({ server: 'oci-101', fromMs: writtenToMs, toMs: nowMs, everyMs: 60_000, down: [failure] });
      writtenToMs = nowMs;
      const expected = computed(await whole.credits(month));
      expect(await credits()).toEqual(expected);
      expect((await refresh.refresh()).availability).toEqual((await wholeRefresh()).availability);
      await clock.advanceTo(nowMs + 97 * 60_000);
    }
    const settledCredits = computed(await whole.credits(month));
    expect(settledCredits.customers.some((c) => c.servers.some((s) => s.creditAmountGrosze > 0))).toBe(true);

    // A long-settled failure written by this thread's connection: unseen by the kept runs ...
    const old = { server: 'oci-101', check: 'dns', fromMs: monthStartMs + 6 * H, toMs: monthStartMs + 9 * H };
    await fixture.observe({ ...old, everyMs: 60_000, down: [old] });
    const withOld = computed(await whole.credits(month));
    expect(withOld).not.toEqual(settledCredits);
    expect(await credits()).toEqual(settledCredits);
    // ... until a restart is asked: the credits call takes it, and the refresh after it reads the new runs too.
    reads.restartNext();
    expect(await credits()).toEqual(withOld);
    expect((await refresh.refresh()).availability).toEqual((await wholeRefresh()).availability);
  });
});

describe('a month-to-date refresh that keeps failing', () => {
  let fixture: CloseFixture;
  beforeAll(async () => {
    fixture = await closeFixture({ nowIso: NOW });
  });
  afterAll(async () => fixture.dispose());

  it('is logged at once, then once a minute with how many failed, and once when it works again', async () => {
    const { logger, lines } = capturedLog();
    const clock = fixture.clock;
    const startMs = clock.now();
    const { operatorRecords, computations: real } = inThread(fixture);
    // The store's reads fail while `down` holds, as they do while InfluxDB is unreachable.
    let down = true;
    const computations: MonthComputations = {
      ...real,
      monthToDateCredits: (...args) =>
        down ? Promise.reject(new Error('InfluxDB is unreachable')) : real.monthToDateCredits(...args),
    };
    const refresh = createSlaRefresh({ config: fixture.config, operatorRecords, computations, logger, clock });
    refresh.start();
    try {
      // Refreshes at 0, 15 s, ... 600 s: 41 failures.
      await clock.advanceTo(startMs + 600_000);
      const failed = lines.filter((l) => l.msg.startsWith('refreshing the month-to-date SLA view failed'));
      expect(failed.map((l) => [l.level, l.failedSinceLastLine])).toEqual([
        [50, 1],
        ...Array.from({ length: 10 }, () => [50, 4]),
      ]);

      down = false;
      await clock.advanceTo(startMs + 615_000);
      await vi.waitFor(() =>
        expect(lines.filter((l) => l.msg === 'refreshing the month-to-date SLA view works again')).toEqual([
          expect.objectContaining({ level: 30, failedInStreak: 41 }),
        ]),
      );
      expect(refresh.snapshot()?.asOfMs).toBe(startMs + 615_000);

      // A new outage within the minute after the last error line is told when the minute is over, with its count.
      down = true;
      await clock.advanceTo(startMs + 645_000);
      expect(lines.at(-1)?.msg).toBe('refreshing the month-to-date SLA view works again');
      await clock.advanceTo(startMs + 660_000);
      expect(lines.at(-1)).toMatchObject({ level: 50, failedSinceLastLine: 3 });
    } finally {
      await refresh.stop();
    }
  });
});

describe('a month-to-date refresh longer than its interval', () => {
  let fixture: CloseFixture;
  beforeAll(async () => {
    fixture = await closeFixture({ nowIso: NOW });
  });
  afterAll(async () => fixture.dispose());

  it('is told with where its time went: at info for a whole month, else a warning, at most once a minute', async () => {
    const { logger, lines } = capturedLog();
    const clock = fixture.clock;
    const { operatorRecords, computations: real } = inThread(fixture);
    // Every computation takes at least 400 ms (a real wait), against an interval of 300 ms.
    const computations: MonthComputations = {
      ...real,
      monthToDateCredits: async (...args) => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        return real.monthToDateCredits(...args);
      },
    };
    const timings: RefreshTiming[] = [];
    const refresh = createSlaRefresh({
      config: fixture.config,
      operatorRecords,
      computations,
      logger,
      clock,
      intervalMs: 300,
      incrementalReads: createIncrementalReads({ settledThroughMs: async () => clock.now(), logger }),
      onTimed: (timing) => timings.push(timing),
    });
    const told = () => lines.filter((l) => l.msg.startsWith('the month-to-date refresh took'));
    await refresh.refresh(); // the month's first read: whole
    await clock.advanceTo(clock.now() + 60_000);
    await refresh.refresh();
    await clock.advanceTo(clock.now() + 20_000);
    await refresh.refresh(); // within the minute: counted, not told
    await clock.advanceTo(clock.now() + 40_000);
    await refresh.refresh();
    expect(timings.map((t) => t.wholeMonth)).toEqual([true, false, false, false]);
    for (const t of timings) {
      expect(t.computeMs).toBeGreaterThanOrEqual(400);
      expect(t.totalMs).toBeGreaterThanOrEqual(t.computeMs + t.recentMs + t.viewsMs + t.snapshotMs - 4);
    }
    expect(told().map((l) => [l.level, l.wholeMonth, l.longerSinceLastLine, l.intervalMs])).toEqual([
      [30, true, 1, 300],
      [40, false, 1, 300],
      [40, false, 2, 300],
    ]);
    expect(told()[1]).toMatchObject({ totalMs: timings[1]!.totalMs, computeMs: timings[1]!.computeMs });
    expect(told()[1]!.msg).toMatch(/^the month-to-date refresh took \d+\.\d s, longer than its 0\.3 s interval/);
  });
});
