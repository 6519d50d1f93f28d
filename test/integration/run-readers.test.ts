// Property: the two run readers agree, with each other and with InfluxDB's rows read one by one. Whatever
// observations are written (several series, up and down, silences longer than staleAfter, probes off the grid,
// chunks written out of order), the embedded store and the InfluxDB store give the same runs for any time range. Each case spans hours with at least one long clean stretch, so
// InfluxDB answers some hours from its hourly aggregates and reads the others row by row. On InfluxDB a series is
// written with the gap marks (gap-marks.ts, floor 90 s against staleAfter 60, 90 or 180 s), in the old form (gap_ms
// on every point, as databases written before the marks hold), switching from the old form to the marks with the
// last times in one outbox (an upgrade), or by both writers at once, each with its own last times.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/sla/types.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { compactRuns } from '../../src/store/bucketed-runs.js';
import { lastTimeKey, type OutboxedInfluxStore } from '../../src/store/influx/influx-store.js';
import type { RunQuery } from '../../src/store/store.js';
import { SERVERS_PER_RAW_READ } from '../../src/store/influx/run-reader.js';
import { countedRunReader } from '../support/counted-reads.js';
import { expectSameRuns } from '../support/same-runs.js';
import { influxSuite, openInfluxStore, testConnection } from '../support/influx-suite.js';
import { oldFormLine } from '../support/old-form-lines.js';

const MIN = 60_000;
const H = 60 * MIN;
const T0 = Date.parse('2026-10-03T00:00:00Z');
/** The InfluxDB store's floor for its gap marks (its staleAfter), beside the cases' staleAfter of 60, 90 or 180 s. */
const FLOOR_MS = 90_000;

const segment = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('up' as const), minutes: fc.integer({ min: 1, max: 150 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('down' as const), minutes: fc.integer({ min: 1, max: 20 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('silent' as const), minutes: fc.integer({ min: 1, max: 40 }) }),
  },
);
/** A stretch of probes (up, down) or none (silent), in whole minutes; or one gap of exactly `ms` before the next probe. */
type Segment = (typeof segment extends fc.Arbitrary<infer S> ? S : never) | { kind: 'gap'; ms: number };

const series = fc.record({
  server: fc.constantFrom('a', 'b'),
  location: fc.constantFrom('waw', 'fra'),
  check: fc.constantFrom('', 'http'),
  everyMs: fc.constantFrom(20_000, 30_000, 60_000),
  /** Where the series starts within the first two hours. */
  startMs: fc.integer({ min: 0, max: 2 * H - 1 }),
  /** Probes up to this much late, each (0: on the grid). */
  jitterMs: fc.constantFrom(0, 0, 1_500, 9_999),
  segments: fc.array(segment, { minLength: 1, maxLength: 8 }),
  /** A clean stretch of 4-6 h, put among the segments at this index: hours InfluxDB answers from aggregates. */
  longUpMinutes: fc.integer({ min: 240, max: 360 }),
  longUpAt: fc.nat(),
  /** A gap in the middle of that stretch, relative to staleAfter: a run split or not inside otherwise clean hours. */
  longUpGap: fc.constantFrom(
    'none' as const,
    'under' as const,
    'exact' as const,
    'over' as const,
    'floor' as const,
    'under-floor' as const,
  ),
  /** How InfluxDB gets the series (see the top of the file). */
  form: fc.constantFrom('marked' as const, 'marked' as const, 'old' as const, 'switch' as const, 'both' as const),
});
type Series = typeof series extends fc.Arbitrary<infer S> ? S : never;

const scenario = fc.record({
  series: fc.uniqueArray(series, {
    minLength: 1,
    maxLength: 4,
    selector: (s) => `${s.server}/${s.location}/${s.check}`,
  }),
  staleAfterMs: fc.constantFrom(60_000, 90_000, 180_000),
  /** How the observations reach the stores: in time order, or in chunks of which some come late and backwards. */
  order: fc.constantFrom('in-order' as const, 'chunks-reversed' as const, 'chunks-shuffled' as const),
  chunkSize: fc.integer({ min: 40, max: 900 }),
  seed: fc.nat(),
  /** The query's edges, relative to the first and last hour of the data (inside, on or outside them). */
  fromOffsetMs: fc.integer({ min: -H, max: 2 * H }),
  toOffsetMs: fc.integer({ min: -2 * H, max: H }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

/**
 * The observations of one series: one probe per everyMs through its segments, none while silent; and the time of
 * the first probe after the long stretch's gap (where a 'switch' series is upgraded).
 */
function observationsOf(
  s: Series,
  server: string,
  staleAfterMs: number,
): { observations: Observation[]; gapEndMs: number } {
  const segments: Segment[] = [...s.segments];
  const half = Math.floor(s.longUpMinutes / 2);
  const gapMs = {
    none: s.everyMs,
    under: staleAfterMs - 1,
    exact: staleAfterMs,
    over: staleAfterMs + 1,
    floor: FLOOR_MS,
    'under-floor': FLOOR_MS - 1,
  }[s.longUpGap];
  const longUp: Segment[] = [
    { kind: 'up', minutes: half },
    { kind: 'gap', ms: gapMs },
    { kind: 'up', minutes: s.longUpMinutes - half },
  ];
  segments.splice(s.longUpAt % (segments.length + 1), 0, ...longUp);
  const out: Observation[] = [];
  let t = T0 + s.startMs; // the next probe's time
  let probe = 0;
  let gapEndMs = t;
  for (const seg of segments) {
    if (seg.kind === 'gap') {
      t += seg.ms - s.everyMs;
      gapEndMs = t;
      continue;
    }
    const endMs = t + seg.minutes * MIN;
    for (; t < endMs; t += s.everyMs) {
      if (seg.kind === 'silent') continue;
      // A deterministic lateness below everyMs: times stay in order and distinct.
      const late = s.jitterMs === 0 ? 0 : (probe++ * 7_919) % s.jitterMs;
      out.push({ timeMs: t + late, server, location: s.location, check: s.check, up: seg.kind === 'up' });
    }
  }
  return { observations: out, gapEndMs };
}

/** Which writer of InfluxDB takes the observation: the store (with marks), or the old form's writer. */
function writtenOld(form: Series['form'], o: Observation, index: number, switchMs: number): boolean {
  if (form === 'old') return true;
  if (form === 'switch') return o.timeMs < switchMs;
  if (form === 'both') return index % 2 === 0;
  return false;
}

/** The write order: every observation once, in chunks. */
function writeOrder(all: Observation[], sc: Scenario): Observation[][] {
  const chunks: Observation[][] = [];
  for (let i = 0; i < all.length; i += sc.chunkSize) chunks.push(all.slice(i, i + sc.chunkSize));
  if (sc.order === 'chunks-reversed') chunks.reverse();
  if (sc.order === 'chunks-shuffled') {
    let seed = sc.seed;
    for (let i = chunks.length - 1; i > 0; i--) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const j = seed % (i + 1);
      [chunks[i], chunks[j]] = [chunks[j]!, chunks[i]!];
    }
  }
  return chunks;
}

describe('run readers: embedded and InfluxDB agree', () => {
  const influx = influxSuite();
  let dir: string;
  let embedded: EmbeddedObservationStore;
  let influxStore: OutboxedInfluxStore;
  // The InfluxDB side is read through the store's own run reader class, its queries counted from outside.
  let counted: ReturnType<typeof countedRunReader>;
  /** Observations inside the queried ranges: what reading every row would return. */
  let rowsInRanges = 0;
  let run = 0;
  /**
   * Writes lines in the old form straight into InfluxDB, as the store did before the marks: with the last times of
   * the store's outbox when `upgrade` (the same outbox before and after), else with its own.
   */
  let writeOldForm: (observations: Observation[], upgrade: boolean) => Promise<void>;
  const oldFormLastMs = new Map<string, number>();
  let database: string;
  /** Lines straight into InfluxDB, as another writer would send them. */
  const postLines = async (lines: string[]) => {
    const response = await fetch(`${influx.influxd.url}/write?db=${database}&precision=ms`, {
      method: 'POST',
      body: lines.join('\n'),
    });
    expect(response.status).toBe(204);
  };
  /** What a row-by-row read of InfluxDB gives: the truth the hourly aggregates must reproduce. */
  const rowByRowRuns = async (store: OutboxedInfluxStore, query: RunQuery) => {
    const [server] = query.servers;
    const rows = await store.readObservations(server!, query.fromMs, query.toMs);
    return compactRuns(
      rows.map((o) => ({
        location: o.location,
        check: o.check,
        up: o.up,
        firstMs: o.timeMs,
        lastMs: o.timeMs,
        count: 1,
      })),
      query.staleAfterMs,
    );
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uc-run-readers-'));
    embedded = EmbeddedObservationStore.open(join(dir, 'embedded.db'));
    database = await influx.database('runs');
    writeOldForm = async (observations, upgrade) => {
      if (observations.length === 0) return;
      const advanced = new Map<string, number>();
      const lines = observations.map((o) => {
        const key = lastTimeKey(o);
        const lastMs = advanced.get(key) ?? (upgrade ? influxStore.queue.lastTimeOf(key) : oldFormLastMs.get(key));
        if (lastMs === undefined || o.timeMs > lastMs) advanced.set(key, o.timeMs);
        return oldFormLine('uptime_observation', o, lastMs);
      });
      await postLines(lines);
      if (upgrade) influxStore.queue.enqueue([], advanced, Date.now());
      else for (const [key, lastMs] of advanced) oldFormLastMs.set(key, lastMs);
    };
    influxStore = openInfluxStore({
      url: influx.influxd.url,
      database,
      outboxPath: join(dir, 'outbox.db'),
      batchSize: 5_000,
      gapFloorMs: FLOOR_MS,
    });
    counted = countedRunReader(testConnection({ url: influx.influxd.url, database }));
  });
  afterAll(async () => {
    await counted?.close();
    await influxStore?.close();
    await embedded?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives equal runs for random observation streams and ranges', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        // Servers of their own in every case (shrinking included): the cases share the two stores.
        const prefix = `r${++run}-`;
        const old = new Set<Observation>();
        const upgraded = new Set<string>();
        const all = sc.series
          .flatMap((s) => {
            const server = `${prefix}${s.server}`;
            const { observations, gapEndMs } = observationsOf(s, server, sc.staleAfterMs);
            if (s.form === 'switch') upgraded.add(lastTimeKey({ server, location: s.location, check: s.check }));
            // Upgraded right at the long stretch's gap: the first marked point may follow an old one in its hour.
            observations.forEach((o, i) => {
              if (writtenOld(s.form, o, i, gapEndMs)) old.add(o);
            });
            return observations;
          })
          .sort((x, y) => x.timeMs - y.timeMs);
        for (const chunk of writeOrder(all, sc)) {
          // The old writer first: in an upgrade it wrote the earlier part of the chunk.
          const oldPart = chunk.filter((o) => old.has(o));
          await writeOldForm(
            oldPart.filter((o) => upgraded.has(lastTimeKey(o))),
            true,
          );
          await writeOldForm(
            oldPart.filter((o) => !upgraded.has(lastTimeKey(o))),
            false,
          );
          const marked = chunk.filter((o) => !old.has(o));
          const [a, b] = await Promise.all([embedded.write(chunk), influxStore.write(marked)]);
          expect(a.stored).toBe(chunk.length);
          expect(b.stored).toBe(marked.length);
        }
        expect(await influxStore.drain(30_000)).toBe(true);
        const firstHour = Math.floor(all[0]!.timeMs / H) * H;
        const lastHour = Math.floor(all[all.length - 1]!.timeMs / H) * H;
        const fromMs = firstHour + sc.fromOffsetMs;
        const toMs = Math.max(fromMs + 1, lastHour + H + sc.toOffsetMs);
        const query = {
          servers: [`${prefix}a`, `${prefix}b`, `${prefix}nobody`],
          fromMs,
          toMs,
          staleAfterMs: sc.staleAfterMs,
        };
        rowsInRanges += all.filter((o) => o.timeMs >= fromMs && o.timeMs < toMs).length;
        const [fromEmbedded, fromInflux] = await Promise.all([
          embedded.readRuns(query),
          counted.reader.readRuns(query),
        ]);
        // The embedded store counts every observation; InfluxDB's aggregates do not count up hours (see same-runs.ts).
        expectSameRuns(fromInflux, fromEmbedded);
        // And both equal InfluxDB's own rows read one by one (the stores share the bucket method; this does not).
        for (const server of query.servers)
          expectSameRuns(fromInflux.get(server), await rowByRowRuns(influxStore, { ...query, servers: [server] }));
      }),
      {
        numRuns: 50,
        // Always tried, besides the random ones: a gap exactly the store's floor, with staleAfter equal to it (the
        // mark's boundary: a random run finds it about once in a hundred cases); and a range ending 180 ms into an
        // hour whose points all lie after it (a reader that aggregated the cut hour whole let the hour before it
        // stand for a run to its end).
        examples: [
          [
            {
              series: [
                {
                  server: 'a',
                  location: 'waw',
                  check: '',
                  everyMs: 20_000,
                  startMs: 0,
                  jitterMs: 1_500,
                  segments: [{ kind: 'up', minutes: 1 }],
                  longUpMinutes: 240,
                  longUpAt: 0,
                  longUpGap: 'none',
                  form: 'marked',
                },
              ],
              staleAfterMs: 180_000,
              order: 'in-order',
              chunkSize: 40,
              seed: 0,
              fromOffsetMs: 0,
              toOffsetMs: -3_599_820,
            },
          ],
          [
            {
              series: [
                {
                  server: 'a',
                  location: 'waw',
                  check: '',
                  everyMs: 20_000,
                  startMs: 0,
                  jitterMs: 0,
                  segments: [{ kind: 'silent', minutes: 1 }],
                  longUpMinutes: 240,
                  longUpAt: 0,
                  longUpGap: 'floor',
                  form: 'marked',
                },
              ],
              staleAfterMs: FLOOR_MS,
              order: 'in-order',
              chunkSize: 40,
              seed: 0,
              fromOffsetMs: 0,
              toOffsetMs: 0,
            },
          ],
        ],
      },
    );
    // Both of InfluxDB's paths were taken: hourly aggregates, and rows read one by one, but not every row (the
    // inner hours of the clean stretches came back as aggregates; about a quarter of the rows in trial runs).
    expect(counted.counts.aggregateRows).toBeGreaterThan(0);
    expect(counted.counts.rawRows).toBeGreaterThan(0);
    expect(counted.counts.rawRows).toBeLessThan(rowsInRanges);
  }, 120_000);

  it('reads a short range of many series row by row in few queries, and gives equal runs', async () => {
    // As the incremental refresh asks: the last minutes across an hour's edge, no clean hour, so every series is
    // read row by row over one range. Some servers have a second series (another location, no check name).
    const servers = Array.from({ length: SERVERS_PER_RAW_READ + 50 }, (_, i) => `short-${i}`);
    const startMs = Date.parse('2026-10-20T10:30:00Z');
    const observations: Observation[] = [];
    servers.forEach((server, i) => {
      for (let t = startMs + ((i * 997) % 30_000); t < startMs + 50 * MIN; t += 30_000) {
        const up = i % 7 !== 0 || t < startMs + 30 * MIN || t > startMs + 33 * MIN;
        observations.push({ timeMs: t, server, location: 'waw', check: 'http', up });
        if (i % 10 === 0) observations.push({ timeMs: t + 1, server, location: 'fra', check: '', up: i % 20 !== 0 });
      }
    });
    const [a, b] = await Promise.all([embedded.write(observations), influxStore.write(observations)]);
    expect(b).toEqual(a);
    expect(await influxStore.drain(30_000)).toBe(true);
    const before = { ...counted.counts };
    const query = { servers, fromMs: startMs + 20 * MIN, toMs: startMs + 45 * MIN, staleAfterMs: 90_000 };
    const [fromEmbedded, fromInflux] = await Promise.all([embedded.readRuns(query), counted.reader.readRuns(query)]);
    // Every hour read row by row: counted exactly, up runs too.
    expect(fromInflux).toEqual(fromEmbedded);
    // The hourly aggregates, and the points counted in the two parts of hours the range cuts (10:50-11:00, 11:00-11:15).
    expect(counted.counts.aggregateQueries - before.aggregateQueries).toBe(3);
    // One query per SERVERS_PER_RAW_READ servers, not one per series (165 series here).
    expect(counted.counts.rawQueries - before.rawQueries).toBe(Math.ceil(servers.length / SERVERS_PER_RAW_READ));
    expect(counted.counts.rawRows - before.rawRows).toBe(
      observations.filter((o) => o.timeMs >= query.fromMs && o.timeMs < query.toMs).length,
    );
  });

  it('a restart with a larger staleAfter inside an hour, and back: the hour is read row by row', async () => {
    // One outbox, three processes: staleAfter 60 s from 08:00, then 180 s from 10:21:45 (60 s probes, the first after a 125 s
    // gap), then 60 s again from 10:40:30. Closed with staleAfter 60 s, hour 10 holds gaps of 60 s and more that no
    // mark of the first process's floor covers; the second process's first mark (179,999) says so.
    const outboxPath = join(dir, 'restarts.db');
    const server = 'restarts';
    const at = (hhmmss: string) => Date.parse(`2026-10-05T${hhmmss}Z`);
    const ups = (fromMs: number, toMs: number, everyMs: number) =>
      Array.from({ length: Math.ceil((toMs - fromMs) / everyMs) }, (_, i) => ({
        timeMs: fromMs + i * everyMs,
        server,
        location: 'waw',
        check: 'http',
        up: true,
      }));
    const run = async (gapFloorMs: number, observations: Observation[]) => {
      const store = openInfluxStore({ url: influx.influxd.url, database, outboxPath, gapFloorMs });
      expect((await store.write(observations)).stored).toBe(observations.length);
      expect(await store.drain(30_000)).toBe(true);
      await store.close();
    };
    await run(60_000, ups(at('08:00:00'), at('10:19:41'), 20_000));
    await run(180_000, ups(at('10:21:45'), at('10:40:00'), 60_000));
    await run(60_000, ups(at('10:40:30'), at('12:30:00'), 20_000));
    const query = { servers: [server], fromMs: at('09:00:00'), toMs: at('12:00:00'), staleAfterMs: 60_000 };
    const reader = openInfluxStore({ url: influx.influxd.url, database, outboxPath: join(dir, 'reader.db') });
    try {
      const truth = await rowByRowRuns(reader, query);
      expect(truth.length).toBeGreaterThan(10); // split at the 125 s gap and at every 60 s gap
      expectSameRuns((await reader.readRuns(query)).get(server), truth);
    } finally {
      await reader.close();
    }
  });

  it('one key written in both forms (InfluxDB merges its fields): the mark still counts', async () => {
    // The store wrote 08:00-08:10; a writer of the old form wrote 08:30-12:00, all up. Then the store, whose last time
    // is 08:10, writes a down observation at a time the old writer had written up: InfluxDB keeps up=0, gap_ms from
    // the old line and the endless mark. Every point of hour 10 has gap_ms; the mark must make it unclean.
    const server = 'merged';
    const at = (hhmmss: string) => Date.parse(`2026-10-06T${hhmmss}Z`);
    const observation = (timeMs: number, up: boolean): Observation => ({
      timeMs,
      server,
      location: 'waw',
      check: 'http',
      up,
    });
    const store = openInfluxStore({ url: influx.influxd.url, database, outboxPath: join(dir, 'merged.db') });
    try {
      const early = Array.from({ length: 31 }, (_, i) => observation(at('08:00:00') + i * 20_000, true));
      expect((await store.write(early)).stored).toBe(31);
      let lastMs: number | undefined;
      const oldLines: string[] = [];
      for (let t = at('08:30:00'); t < at('12:00:00'); t += 20_000) {
        oldLines.push(oldFormLine('uptime_observation', observation(t, true), lastMs));
        lastMs = t;
      }
      await postLines(oldLines);
      expect((await store.write([observation(at('10:30:00'), false)])).stored).toBe(1);
      expect(await store.drain(30_000)).toBe(true);
      const query = { servers: [server], fromMs: at('09:00:00'), toMs: at('12:00:00'), staleAfterMs: 90_000 };
      const truth = await rowByRowRuns(store, query);
      expect(truth.map((r) => r.up)).toEqual([true, false, true]);
      expectSameRuns((await store.readRuns(query)).get(server), truth);
    } finally {
      await store.close();
    }
  });
});
