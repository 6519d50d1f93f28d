// Property: over random month-to-date histories (several servers, locations and checks, duplicates, late and
// out-of-order arrivals, a writer announcing a backlog late so the settled mark moves back, gaps beyond staleAfter,
// maintenance and incidents, coverage starting and ending inside the month), after every pass the incremental run
// source returns the runs a full read returns, and the month-to-date figures computed from it are a full
// recompute's. On the embedded store (many histories) and on a real influxd (fewer).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeMonthToDateCredits, monthReadRange, runLookbackMs } from '../../src/close/compute.js';
import { IncrementalRunSource, type IncrementalRunStats } from '../../src/store/incremental-runs.js';
import type { ObservationStore } from '../../src/store/store.js';
import { closeFixture } from '../support/close-fixture.js';
import {
  buildScenario,
  MONTH,
  MONTH_START_MS,
  SERVERS,
  scenarioArbitrary,
  scenarioYaml,
  type ScenarioInput,
} from '../support/incremental-scenario.js';
import { influxSuite, openInfluxStore } from '../support/influx-suite.js';

const MIN = 60_000;
const noRevision = () => ({ months: [], reason: 'test', by: 'test', atMs: 0 });

/**
 * Plays one history on `openStore`'s store: writes what becomes visible before each pass, then compares the
 * incremental source with the store itself.
 */
async function playHistory(
  input: ScenarioInput,
  openStore: (dir: string) => Promise<{ store: ObservationStore; visible(): Promise<void> }>,
): Promise<IncrementalRunStats> {
  const scenario = buildScenario(input);
  const fixture = await closeFixture({ nowIso: new Date(MONTH_START_MS).toISOString(), yaml: scenarioYaml(scenario) });
  const dir = mkdtempSync(join(tmpdir(), 'uc-incremental-'));
  const { store, visible } = await openStore(dir);
  try {
    const { config, operatorRecords } = fixture;
    for (const { window, kind } of input.incidents)
      operatorRecords.addIncident(
        {
          serverId: window.server,
          kind,
          fromMs: MONTH_START_MS + window.fromMin * MIN,
          toMs: MONTH_START_MS + (window.fromMin + window.minutes) * MIN,
          reason: 'generated',
          recordedAtMs: MONTH_START_MS,
          recordedBy: 'test',
        },
        noRevision,
      );
    for (const window of input.maintenance)
      operatorRecords.announceMaintenance(
        {
          serverId: window.server,
          fromMs: MONTH_START_MS + window.fromMin * MIN,
          toMs: MONTH_START_MS + (window.fromMin + window.minutes) * MIN,
          reason: 'generated',
          announcedAtMs: MONTH_START_MS - 86_400_000,
          announcedBy: 'test',
          recordedAtMs: MONTH_START_MS - 86_400_000,
        },
        noRevision,
      );
    let pass = 0;
    const incremental = new IncrementalRunSource({
      inner: store,
      settledThroughMs: async () => scenario.settledMs[pass] ?? 0,
      cachedFromMs: () => monthReadRange(config, MONTH).fromMs,
      marginMs: scenario.marginMs,
      advanceStepMs: input.advanceStepMin * MIN,
      // The recent part read once for every server (a store that can) whatever its length, as of the pass's time.
      everyServerReadMaxMs: Number.POSITIVE_INFINITY,
      nowMs: () => scenario.passesMs[pass] ?? 0,
    });
    expect(scenario.marginMs).toBe(runLookbackMs(config));
    for (; pass < scenario.passesMs.length; pass++) {
      const asOfMs = scenario.passesMs[pass] ?? 0;
      // What becomes visible before this pass, in a shuffled order (arrival order is not time order).
      const arriving = scenario.observations
        .filter((o) => o.visibleAtPass === pass)
        .map((o) => o.observation)
        .sort((a, b) => ((a.timeMs * 7919) % 1009) - ((b.timeMs * 7919) % 1009));
      if (arriving.length > 0) await store.write(arriving);
      await visible();
      if (scenario.resetBefore[pass]) incremental.reset();
      // The daemon's two passes at one data version: a credits answer of the whole month, then the refresh's month to
      // date, which may be answered by the first's reads (IncrementalRunSource.beginPass).
      const dataVersion = `written before pass ${pass}`;
      incremental.beginPass(dataVersion);
      const wholeMonth = {
        servers: [...SERVERS],
        ...monthReadRange(config, MONTH),
        staleAfterMs: config.availability.staleAfterMs,
      };
      expect(await incremental.readRuns(wholeMonth), `whole month at pass ${pass}`).toEqual(
        await store.readRuns(wholeMonth),
      );
      incremental.beginPass(dataVersion);
      const query = {
        ...wholeMonth,
        toMs: asOfMs + config.availability.confirmations * config.availability.staleAfterMs,
      };
      expect(await incremental.readRuns(query), `runs at pass ${pass}`).toEqual(await store.readRuns(query));
      const full = await computeMonthToDateCredits(config, { store, operatorRecords }, MONTH, asOfMs);
      const fromCache = await computeMonthToDateCredits(config, { store: incremental, operatorRecords }, MONTH, asOfMs);
      expect(fromCache.availability, `availability at pass ${pass}`).toEqual(full.availability);
      expect(fromCache.credits, `credits at pass ${pass}`).toEqual(full.credits);
    }
    expect(incremental.stats().passedThrough).toBe(0);
    return incremental.stats();
  } finally {
    await store.close();
    await fixture.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('incremental month-to-date runs equal a full read (embedded store)', () => {
  it('after every pass of random histories', async () => {
    const { EmbeddedObservationStore } = await import('../../src/store/embedded/embedded-store.js');
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (input) => {
        // The embedded store answers at once (microtasks only): let the event loop breathe between histories, or
        // the test runner's own messages time out on a busy machine.
        await new Promise((resolve) => setImmediate(resolve));
        await playHistory(input, async (dir) => ({
          store: EmbeddedObservationStore.open(join(dir, 'store.db')),
          visible: async () => undefined,
        }));
      }),
      { numRuns: Number(process.env.INCREMENTAL_RUNS ?? 100) },
    );
  }, 240_000);
});

describe('incremental month-to-date runs equal a full read (InfluxDB)', () => {
  const influx = influxSuite();
  it('after every pass of random histories', async () => {
    let everyServerReads = 0;
    let sharedReads = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (input) => {
        const database = await influx.database('incremental');
        const stats = await playHistory(input, async (dir) => {
          const store = openInfluxStore({ url: influx.influxd.url, database, outboxPath: join(dir, 'outbox.db') });
          return {
            store,
            async visible() {
              if (!(await store.drain(10_000))) throw new Error('InfluxDB did not confirm the writes in 10 s');
            },
          };
        });
        everyServerReads += stats.everyServerReads;
        sharedReads += stats.sharedReads;
      }),
      { numRuns: Number(process.env.INCREMENTAL_INFLUX_RUNS ?? 12) },
    );
    // The recent part came from InfluxDB's read of every server (RunSource.readEveryServer), not only by name.
    expect(everyServerReads).toBeGreaterThan(0);
    // And a month to date was answered by the whole month's read of the same data version.
    expect(sharedReads).toBeGreaterThan(0);
  }, 240_000);
});
