// The incremental run source on a real embedded store, with exact values: what it asks the store for on each read,
// and the runs it answers with at the seam, after a late observation, when the mark moves back, and across months.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Observation } from '../../../src/sla/types.js';
import { EmbeddedObservationStore } from '../../../src/store/embedded/embedded-store.js';
import { IncrementalRunSource, rewind } from '../../../src/store/incremental-runs.js';
import type { RunQuery, RunSource } from '../../../src/store/store.js';

const MIN = 60_000;
const F = Date.parse('2026-09-30T21:51:00Z'); // October in Warsaw, less the 9 min look-back
const STALE = 3 * MIN;
const MARGIN = 9 * MIN;

const probe = (minute: number, up = true, location = 'waw'): Observation => ({
  timeMs: F + minute * MIN,
  server: 'web-1',
  location,
  check: 'http',
  up,
});
const run = (fromMin: number, toMin: number, up = true, location = 'waw') => ({
  location,
  check: 'http',
  up,
  firstMs: F + fromMin * MIN,
  lastMs: F + toMin * MIN,
  count: toMin - fromMin + 1,
});
const query = (toMin: number, fromMs = F): RunQuery => ({
  servers: ['web-1'],
  fromMs,
  toMs: F + toMin * MIN,
  staleAfterMs: STALE,
});

describe('IncrementalRunSource', () => {
  let dir: string;
  let store: EmbeddedObservationStore;
  /** The ranges asked of the store, in minutes after F. */
  let reads: [number, number][];
  let settledMs: number;
  let fromMs: number;
  let source: IncrementalRunSource;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'uc-incremental-unit-'));
    store = EmbeddedObservationStore.open(join(dir, 'store.db'));
    reads = [];
    settledMs = F;
    fromMs = F;
    const recorded: RunSource = {
      readRuns(q) {
        reads.push([(q.fromMs - F) / MIN, (q.toMs - F) / MIN]);
        return store.readRuns(q);
      },
    };
    source = new IncrementalRunSource({
      inner: recorded,
      settledThroughMs: async () => settledMs,
      cachedFromMs: () => fromMs,
      marginMs: MARGIN,
      advanceStepMs: 5 * MIN,
    });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const probes = async (fromMin: number, toMin: number, up = true, location = 'waw') => {
    const observations: Observation[] = [];
    for (let m = fromMin; m <= toMin; m++) observations.push(probe(m, up, location));
    await store.write(observations);
  };

  it('reads the settled part once, then only from its cut, and joins the run across the seam', async () => {
    await probes(0, 60);
    settledMs = F + 61 * MIN;
    expect(await source.readRuns(query(70))).toEqual(new Map([['web-1', [run(0, 60)]]]));
    expect(reads).toEqual([
      [0, 52], // the settled part, up to the mark less the margin
      [52, 70], // what follows it
    ]);
    await probes(61, 64);
    settledMs = F + 65 * MIN; // 4 min more: less than the 5 min step, so the cut stays
    expect(await source.readRuns(query(74))).toEqual(new Map([['web-1', [run(0, 64)]]]));
    await probes(65, 80);
    settledMs = F + 81 * MIN;
    expect(await source.readRuns(query(90))).toEqual(new Map([['web-1', [run(0, 80)]]]));
    expect(reads.slice(2)).toEqual([
      [52, 74],
      [52, 72],
      [72, 90],
    ]);
  });

  it('sees a late observation after the mark, and observations of locations this process does not probe', async () => {
    await probes(0, 30);
    settledMs = F + 20 * MIN; // a failure probed at minute 20.5 is still on its way
    await source.readRuns(query(40)); // cut at 11
    await store.write([probe(31, false, 'ams'), probe(32, false, 'ams'), probe(33, false, 'ams')]);
    await probes(31, 40);
    await store.write([probe(20.5, false)]); // after a read that covered its time
    settledMs = F + 41 * MIN;
    const runs = await source.readRuns(query(50));
    expect(runs).toEqual(await store.readRuns(query(50)));
    expect(runs.get('web-1')).toEqual([
      run(31, 33, false, 'ams'),
      run(0, 20),
      { ...run(20.5, 20.5, false), count: 1 },
      run(21, 40),
    ]);
  });

  it('moves the cut back to the start of the run it falls in when the mark moves back, and reads from there', async () => {
    await probes(0, 10, false);
    await probes(11, 60);
    settledMs = F + 61 * MIN;
    await source.readRuns(query(70)); // cut at 52, inside the up run from 11
    // An agent restarts with a backlog from minute 40: its mark is 40, and its observations come after this read.
    settledMs = F + 40 * MIN;
    expect(await source.readRuns(query(70))).toEqual(new Map([['web-1', [run(0, 10, false), run(11, 60)]]]));
    expect(reads.slice(2)).toEqual([
      [11, 31],
      [31, 70],
    ]);
    expect(source.stats()).toMatchObject({ rewinds: 1, incrementalReads: 2 });
  });

  it('gives every one of two reads of one server at once the full runs, and keeps one of them', async () => {
    await probes(0, 30);
    await probes(31, 33, false);
    await probes(34, 60);
    settledMs = F + 61 * MIN;
    const full = await store.readRuns(query(70));
    expect(await Promise.all([source.readRuns(query(70)), source.readRuns(query(70))])).toEqual([full, full]);
    expect(reads.slice(0, 2)).toEqual([
      [0, 52],
      [0, 52],
    ]);
    reads = [];
    expect(await source.readRuns(query(70))).toEqual(full);
    expect(reads).toEqual([[52, 70]]);
  });

  it('passes other ranges through, and starts over at a new month or on demand', async () => {
    await probes(0, 60);
    settledMs = F + 61 * MIN;
    await source.readRuns(query(70));
    await source.readRuns(query(70, F + 5 * MIN)); // the last 6 h's burn windows, say: another start
    expect(reads.slice(2)).toEqual([[5, 70]]);
    expect(source.stats().passedThrough).toBe(1);
    source.reset();
    await source.readRuns(query(70));
    expect(reads.slice(3)).toEqual([
      [0, 52],
      [52, 70],
    ]);
    fromMs = F + 30 * MIN; // the next month's range
    await source.readRuns(query(70, fromMs));
    expect(reads.slice(5)).toEqual([
      [30, 52],
      [52, 70],
    ]);
    expect(source.stats().resets).toBe(2);
  });
});

describe('IncrementalRunSource: reads of every server shared by passes of one data version', () => {
  let dir: string;
  let store: EmbeddedObservationStore;
  /** The ranges read of every server, in minutes after F. */
  let reads: [number, number][];
  let nowMs: number;
  let source: IncrementalRunSource;
  const SETTLED_MS = F + 61 * MIN;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'uc-incremental-shared-'));
    store = EmbeddedObservationStore.open(join(dir, 'store.db'));
    reads = [];
    nowMs = SETTLED_MS;
    const everyServer: RunSource = {
      readRuns: () => Promise.reject(new Error('read by name: every read here is short')),
      readEveryServer(range) {
        reads.push([(range.fromMs - F) / MIN, (range.toMs - F) / MIN]);
        return store.readRuns({ ...range, servers: ['web-1'] });
      },
    };
    source = new IncrementalRunSource({
      inner: everyServer,
      settledThroughMs: async () => SETTLED_MS,
      cachedFromMs: () => F,
      marginMs: MARGIN,
      everyServerReadMaxMs: Number.POSITIVE_INFINITY,
      nowMs: () => nowMs,
      sharedReadMaxAgeMs: 10_000,
    });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (minutes: number[], up = true) => store.write(minutes.map((m) => probe(m, up)));
  const upTo = (toMin: number) => Array.from({ length: toMin + 1 }, (_, m) => m);

  it('answers a shorter range from the longer read of an earlier pass at the same version, then reads again', async () => {
    await write(upTo(60));
    source.beginPass('v1');
    expect(await source.readRuns(query(90))).toEqual(await store.readRuns(query(90))); // the whole month, say
    expect(reads).toEqual([
      [0, 52],
      [52, 90],
    ]);
    source.beginPass('v1');
    nowMs += 4_000;
    expect(await source.readRuns(query(70))).toEqual(await store.readRuns(query(70))); // a month to date
    expect(reads).toHaveLength(2);
    expect(source.stats().sharedReads).toBe(1);

    source.beginPass('v2'); // more arrived
    await source.readRuns(query(70));
    expect(reads.slice(2)).toEqual([[52, 70]]);
    source.beginPass('v2');
    await source.readRuns(query(70));
    expect(reads).toHaveLength(3); // the same range at the same version: the same read
    nowMs += 10_001;
    source.beginPass('v2'); // a version unchanged for longer than the shared reads may live
    await source.readRuns(query(70));
    expect(reads.slice(3)).toEqual([[52, 70]]);
    source.beginPass(); // no version known: nothing shared
    await source.readRuns(query(70));
    source.reset();
    source.beginPass('v2');
    await source.readRuns(query(70));
    expect(reads.slice(4)).toEqual([
      [52, 70],
      [0, 52],
      [52, 70],
    ]);
    expect(source.stats().sharedReads).toBe(1);
  });

  it('reads a shorter range on its own when an observation lies between the two ends', async () => {
    await write(upTo(60));
    await write([75, 76, 77], false); // stamped by a clock far ahead
    source.beginPass('v1');
    await source.readRuns(query(90));
    source.beginPass('v1');
    const toDate = await source.readRuns(query(70));
    expect(toDate).toEqual(await store.readRuns(query(70)));
    expect(toDate.get('web-1')).toEqual([run(0, 60)]);
    expect(reads).toEqual([
      [0, 52],
      [52, 90],
      [52, 70],
    ]);
    expect(source.stats().sharedReads).toBe(0);
  });
});

describe('rewind', () => {
  it('moves the cut back while a run of any series crosses it, keeping only the runs wholly before it', () => {
    const runs = [
      run(0, 9, false),
      run(10, 30),
      { ...run(0, 25), location: 'ams' },
      { ...run(26, 40), location: 'ams' },
    ];
    expect(rewind({ cutMs: F + 41 * MIN, runs }, F + 28 * MIN)).toEqual({ cutMs: F, runs: [] });
    expect(rewind({ cutMs: F + 41 * MIN, runs: runs.slice(0, 2) }, F + 10 * MIN)).toEqual({
      cutMs: F + 10 * MIN,
      runs: [run(0, 9, false)],
    });
  });
});
