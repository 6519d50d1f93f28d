import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/logging.js';
import type { ProbeResult } from '../../../src/probes/probe.js';
import {
  createProbeLoop,
  firstDueMs,
  FIRST_ROUND_WITHIN_MS,
  nextDueMs,
  phaseOffsetMs,
} from '../../../src/scheduler/probe-loop.js';
import { shardOf } from '../../../src/scheduler/shard.js';
import { createStallRecorder } from '../../../src/scheduler/stall-watch.js';
import type { Observation } from '../../../src/sla/types.js';
import { parseObservationLine } from '../../../src/store/observation-line.js';
import { FakeClock } from '../../support/fake-clock.js';

const config = (servers: number, extra = '', interval = '10s') =>
  parseConfig(
    `
probing: { location: waw, interval: ${interval}, timeout: 2s ${extra} }
customers:
  - id: c
    name: C
    tier: gold
    servers:
${Array.from({ length: servers }, (_, i) => `      - { id: s${i}, name: S${i}, checks: [{ kind: tcp, host: 127.0.0.1, port: 1 }] }`).join('\n')}
`,
    'test.yaml',
  );

/**
 * When the tcp check of `server` runs after a start at `startMs`, up to `untilMs`: its first-round run, then its
 * grid from the first slot at least half an interval later (the first simulated-clock test checks these rules).
 */
const runTimes = (server: string, startMs: number, untilMs: number, intervalMs = 10_000) => {
  const phase = phaseOffsetMs(server, 'tcp', intervalMs);
  const times: number[] = [];
  for (
    let t = firstDueMs(startMs, intervalMs, phase);
    t <= untilMs;
    t = nextDueMs(t + Math.ceil(intervalMs / 2), intervalMs, phase)
  )
    times.push(t);
  return times;
};
/** How many runs the checks of servers s0..s(n-1) make between a start at `startMs` and `untilMs`. */
/** A store that keeps what it is given in `written`. */
const recordingStore = (written: Observation[]) => ({
  write: async (batch: readonly Observation[]) => {
    written.push(...batch);
    return { stored: batch.length, duplicates: 0, conflicts: 0 };
  },
});

const runsOf = (servers: number, startMs: number, untilMs: number) =>
  Array.from({ length: servers }, (_, i) => runTimes(`s${i}`, startMs, untilMs).length).reduce((a, b) => a + b, 0);

describe('schedule maths', () => {
  it('due times sit on an absolute grid shifted by the phase', () => {
    expect(nextDueMs(1_000, 10_000, 3_000)).toBe(3_000);
    expect(nextDueMs(3_000, 10_000, 3_000)).toBe(3_000);
    expect(nextDueMs(3_001, 10_000, 3_000)).toBe(13_000);
  });
  it('the first run after start is the grid slot when it comes within 5 s, else as early in 5 s as the slot is in the interval', () => {
    expect(firstDueMs(0, 30_000, 3_000)).toBe(3_000);
    expect(firstDueMs(0, 30_000, 4_999)).toBe(4_999);
    expect(firstDueMs(0, 30_000, 6_000)).toBe(1_000);
    expect(firstDueMs(0, 30_000, 24_000)).toBe(4_000);
    expect(firstDueMs(0, 30_000, 29_999)).toBe(4_999);
    expect(firstDueMs(100_000, 30_000, 1_000)).toBe(103_500); // the slot at 121,000 is 21 s away: 21/30 of 5 s
    // At an interval of 5 s or less the grid slot always comes within 5 s.
    expect(firstDueMs(0, 3_000, 2_999)).toBe(2_999);
  });
  it('phases are stable and spread over the interval', () => {
    expect(phaseOffsetMs('s1', 'http', 10_000)).toBe(phaseOffsetMs('s1', 'http', 10_000));
    const phases = Array.from({ length: 1_000 }, (_, i) => phaseOffsetMs(`s${i}`, 'http', 10_000));
    const perSecond = new Array(10).fill(0);
    for (const p of phases) perSecond[Math.floor(p / 1_000)]++;
    // 1,000 checks over 10 one-second slots: no slot holds more than twice its share.
    expect(Math.max(...perSecond)).toBeLessThan(200);
    expect(Math.min(...perSecond)).toBeGreaterThan(50);
  });
});

describe('probe loop on a simulated clock', () => {
  it('runs every check once within 5 s of start, spread over them, then once per interval on its phase', async () => {
    const intervalMs = 30_000;
    const startMs = 1_000_123;
    const clock = new FakeClock(startMs);
    const written: Observation[] = [];
    const loop = createProbeLoop({
      config: config(200, '', '30s'),
      store: recordingStore(written),
      logger: createLogger(),
      clock,
      probe: async () => ({ up: true, latencyMs: 5 }),
    });
    loop.start();
    await clock.advanceTo(startMs + 3 * intervalMs);
    await loop.stop();
    const firstRunsPerSecond = new Array(FIRST_ROUND_WITHIN_MS / 1_000).fill(0);
    for (let i = 0; i < 200; i++) {
      const times = written.filter((o) => o.server === `s${i}`).map((o) => o.timeMs);
      const phase = phaseOffsetMs(`s${i}`, 'tcp', intervalMs);
      // The first run within 5 s of start, where the grid alone would take up to the whole interval.
      const sinceStartMs = times[0]! - startMs;
      expect(sinceStartMs).toBeGreaterThanOrEqual(0);
      expect(sinceStartMs).toBeLessThan(FIRST_ROUND_WITHIN_MS);
      firstRunsPerSecond[Math.floor(sinceStartMs / 1_000)]++;
      // Then the grid from its first slot after start: every run on the check's phase, one interval apart.
      const gridTimes = times.slice(times[0]! % intervalMs === phase ? 0 : 1);
      expect(gridTimes.every((t) => t % intervalMs === phase)).toBe(true);
      expect(gridTimes[0]! - startMs).toBeLessThan(2 * intervalMs);
      expect(gridTimes.slice(1).map((t, k) => t - gridTimes[k]!)).toEqual(
        new Array(gridTimes.length - 1).fill(intervalMs),
      );
      // An early run only where the first slot was 5 s away or more; the grid then resumes at the first slot at
      // least half an interval later: two observations a moment apart would confirm a failure twice over.
      const slotAwayMs = (((phase - startMs) % intervalMs) + intervalMs) % intervalMs;
      expect(times.length - gridTimes.length).toBe(slotAwayMs >= FIRST_ROUND_WITHIN_MS ? 1 : 0);
      if (times.length > gridTimes.length) {
        expect(gridTimes[0]! - times[0]!).toBeGreaterThanOrEqual(intervalMs / 2);
        expect(gridTimes[0]! - times[0]!).toBeLessThan(intervalMs * 1.5);
      }
      // Every two runs of the check at least half an interval apart.
      expect(times.slice(1).every((t, k) => t - times[k]! >= intervalMs / 2)).toBe(true);
    }
    // Spread over those 5 s: no second holds twice its share (the whole fleet in one instant would be a burst).
    expect(Math.max(...firstRunsPerSecond)).toBeLessThan(80);
    expect(written[0]).toMatchObject({ location: 'waw', check: 'tcp', up: true, latencyMs: 5 });
  });

  it('at a 6 s interval too, the first round comes within 5 s and no two runs of a check are under 3 s apart', async () => {
    const startMs = 2_000_017;
    const clock = new FakeClock(startMs);
    const written: Observation[] = [];
    const loop = createProbeLoop({
      config: config(50, '', '6s'),
      store: recordingStore(written),
      logger: createLogger(),
      clock,
      probe: async () => ({ up: false, latencyMs: 1, error: 'refused' }),
    });
    loop.start();
    await clock.advanceTo(startMs + 60_000);
    await loop.stop();
    for (let i = 0; i < 50; i++) {
      const times = written.filter((o) => o.server === `s${i}`).map((o) => o.timeMs);
      expect(times[0]! - startMs).toBeLessThan(5_000);
      const gaps = times.slice(1).map((t, k) => t - times[k]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(3_000);
      // 60 s at 6 s: 10 or 11 runs (the early one and the grid's).
      expect(times.length).toBeGreaterThanOrEqual(10);
    }
  });

  it('runs checks of an interval of 5 s or less on their grid from the start', async () => {
    const clock = new FakeClock(1_000_000);
    const written: Observation[] = [];
    const loop = createProbeLoop({
      config: config(20, '', '4s'),
      store: recordingStore(written),
      logger: createLogger(),
      clock,
      probe: async () => ({ up: true, latencyMs: 5 }),
    });
    loop.start();
    await clock.advanceTo(1_000_000 + 12_000);
    await loop.stop();
    expect(written).toHaveLength(60);
    for (let i = 0; i < 20; i++) {
      const phase = phaseOffsetMs(`s${i}`, 'tcp', 4_000);
      expect(written.filter((o) => o.server === `s${i}`).map((o) => o.timeMs % 4_000)).toEqual([phase, phase, phase]);
    }
  });

  it('keeps at most `concurrency` probes in flight and measures the lag of the queued ones', async () => {
    const clock = new FakeClock(0);
    let inFlight = 0;
    let maxInFlight = 0;
    const releases: (() => void)[] = [];
    const lags: number[] = [];
    const loop = createProbeLoop({
      config: config(10, ', concurrency: 3'),
      store: { write: async (b) => ({ stored: b.length, duplicates: 0, conflicts: 0 }) },
      logger: createLogger(),
      clock,
      onOutcome: (outcome) => lags.push(outcome.lagMs),
      probe: () =>
        new Promise<ProbeResult>((resolve) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          releases.push(() => {
            inFlight--;
            resolve({ up: true, latencyMs: 1 });
          });
        }),
    });
    loop.start();
    // By the end of the first round every check was launched once: 3 run, 7 wait.
    await clock.advanceTo(FIRST_ROUND_WITHIN_MS - 1);
    expect(maxInFlight).toBe(3);
    expect(loop.stats().queued).toBe(7);
    while (releases.length) {
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(maxInFlight).toBe(3);
    expect(loop.stats().probesTotal).toBe(10);
    // The 7 that waited for a free slot started late, and say so (the lag histogram is fed from these).
    expect(lags).toHaveLength(10);
    expect(lags.filter((lag) => lag > 0).length).toBeGreaterThanOrEqual(7);
    await loop.stop();
  });

  it('keeps observations whose write failed and writes them later', async () => {
    const clock = new FakeClock(0);
    let failing = true;
    const written: Observation[] = [];
    const loop = createProbeLoop({
      config: config(5),
      store: {
        write: async (batch) => {
          if (failing) throw new Error('disk full');
          written.push(...batch);
          return { stored: batch.length, duplicates: 0, conflicts: 0 };
        },
      },
      logger: createLogger(),
      clock,
      probe: async () => ({ up: false, latencyMs: 2, error: 'refused' }),
    });
    loop.start();
    await clock.advanceTo(20_000);
    expect(loop.stats().writeErrorsTotal).toBeGreaterThan(0);
    expect(loop.stats().pendingWrites).toBe(runsOf(5, 0, 20_000));
    failing = false;
    await loop.stop();
    expect(written).toHaveLength(runsOf(5, 0, 20_000));
    expect(written.every((o) => !o.up && o.error === 'refused')).toBe(true);
  });
});

describe('probe loop when its own process or store is in trouble', () => {
  it('backs off a failing store: attempts thin out instead of one per probe, and nothing is lost', async () => {
    const clock = new FakeClock(0);
    let failing = true;
    let attempts = 0;
    const written: Observation[] = [];
    const loop = createProbeLoop({
      config: config(50),
      store: {
        write: async (batch) => {
          attempts++;
          if (failing) throw new Error('SQLITE_FULL: database or disk is full');
          written.push(...batch);
          return { stored: batch.length, duplicates: 0, conflicts: 0 };
        },
      },
      logger: createLogger(),
      clock,
      probe: async () => ({ up: true, latencyMs: 1 }),
    });
    loop.start();
    await clock.advanceTo(60_000);
    // 300 probes (and the first round's early ones) and 600 flush ticks in a minute; backoff (1, 2, 4, 8, 15,
    // 15... s) allows about 9 attempts.
    expect(attempts).toBeLessThanOrEqual(10);
    expect(loop.stats()).toMatchObject({
      pendingWrites: runsOf(50, 0, 60_000),
      writeProblem: 'SQLITE_FULL: database or disk is full',
      droppedTotal: 0,
    });
    failing = false;
    await clock.advanceTo(80_000);
    expect(loop.stats().writeProblem).toBeUndefined();
    expect(loop.stats().pendingWrites).toBeLessThan(50);
    await loop.stop();
    expect(written).toHaveLength(runsOf(50, 0, 80_000));
  });

  it('leaves out a probe that timed out while the process stalled; other failures stay evidence', async () => {
    const clock = new FakeClock(0);
    const written: Observation[] = [];
    const asked: number[] = [];
    let stalled = true;
    const loop = createProbeLoop({
      config: config(2),
      store: recordingStore(written),
      logger: createLogger(),
      clock,
      stalls: {
        stalledBetween: (fromMs, toMs) => {
          asked.push(toMs - fromMs);
          return stalled;
        },
        stop: () => undefined,
      },
      probe: async (check) =>
        check.config.kind === 'tcp'
          ? { up: false, latencyMs: 2_000, error: 'timeout' }
          : { up: false, latencyMs: 1, error: 'refused' },
    });
    loop.start();
    await clock.advanceTo(10_000);
    expect(loop.stats().discarded).toEqual({ 'process-stalled': runsOf(2, 0, 10_000), 'local-error': 0 });
    // Asked about the last quarter of the 2 s timeout and after it (the probe itself took no real time here).
    expect(asked.every((windowMs) => windowMs <= -1_500 + 50)).toBe(true);
    stalled = false;
    await clock.advanceTo(20_000);
    await loop.stop();
    // Only the timeouts outside a stall are stored (as downtime evidence).
    expect(written.map((o) => o.error)).toEqual(new Array(runsOf(2, 0, 20_000) - runsOf(2, 0, 10_000)).fill('timeout'));
  });
});

describe('probe loop stopping while the store refuses writes', () => {
  it('saves what it could not write as an import file, and nothing is lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uc-spill-'));
    try {
      const clock = new FakeClock(1_800_000_000_000);
      const loop = createProbeLoop({
        config: config(3),
        store: { write: async () => Promise.reject(new Error('SQLITE_FULL: database or disk is full')) },
        logger: createLogger(),
        clock,
        spillDir: dir,
        probe: async () => ({ up: false, latencyMs: 7, error: 'refused' }),
      });
      loop.start();
      await clock.advanceTo(1_800_000_000_000 + 20_000);
      await loop.stop();
      const [file] = readdirSync(dir);
      const parsed = readFileSync(join(dir, file!), 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) =>
          parseObservationLine(
            line,
            new Map([
              ['s0', 1],
              ['s1', 1],
              ['s2', 1],
            ]),
            'nowhere',
          ),
        );
      expect(parsed).toHaveLength(runsOf(3, 1_800_000_000_000, 1_800_000_000_000 + 20_000));
      expect(
        parsed.every(
          (p) =>
            p.ok &&
            p.observation.location === 'waw' &&
            p.observation.check === 'tcp' &&
            p.observation.error === 'refused' &&
            p.observation.latencyMs === 7,
        ),
      ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stall recorder', () => {
  it('records a tick 250 ms or more late as a stall, and answers for windows that touch it', () => {
    const r = createStallRecorder();
    r.tick(1_000);
    r.tick(1_100);
    r.tick(1_449); // 249 ms late: no stall
    expect(r.stalledBetween(1_000, 1_449, 1_449)).toBe(false);
    r.tick(1_800); // 251 ms late: the loop was blocked from 1,549 to 1,800
    expect(r.stalledBetween(1_500, 1_548, 1_800)).toBe(false);
    expect(r.stalledBetween(1_500, 1_549, 1_800)).toBe(true);
    expect(r.stalledBetween(1_800, 1_900, 1_900)).toBe(true);
    expect(r.stalledBetween(1_801, 1_900, 1_900)).toBe(false);
  });

  it('sees a stall still in progress before its tick has run', () => {
    const r = createStallRecorder();
    r.tick(0);
    expect(r.stalledBetween(50, 200, 349)).toBe(false); // 249 ms since the tick was due
    expect(r.stalledBetween(50, 200, 350)).toBe(true);
    expect(r.stalledBetween(0, 99, 350)).toBe(false); // before the tick was even due
  });
});

describe('probe loop coverage and failures', () => {
  const covered = (until: string) =>
    parseConfig(
      `
probing: { location: waw, interval: 10s, timeout: 2s }
customers:
  - id: c
    name: C
    tier: gold
    servers:
      - { id: ended, name: E, until: "2026-10-01T00:00:00Z", checks: [{ kind: tcp, host: 127.0.0.1, port: 1 }] }
      - { id: ending, name: F, until: "${until}", checks: [{ kind: tcp, host: 127.0.0.1, port: 1 }] }
      - { id: forever, name: G, checks: [{ kind: tcp, host: 127.0.0.1, port: 1 }] }
`,
      'test.yaml',
    );

  it('probes no server whose coverage has ended, and stops probing one when its coverage ends', async () => {
    const startMs = Date.parse('2026-10-02T00:00:00Z');
    const clock = new FakeClock(startMs);
    const written: Observation[] = [];
    const loop = createProbeLoop({
      config: covered('2026-10-02T00:00:30Z'),
      store: recordingStore(written),
      logger: createLogger(),
      clock,
      probe: async () => ({ up: true, latencyMs: 1 }),
    });
    loop.start();
    await clock.advanceTo(startMs + 60_000);
    await loop.stop();
    const count = (server: string) => written.filter((o) => o.server === server).length;
    expect(count('ended')).toBe(0);
    expect(count('forever')).toBe(runTimes('forever', startMs, startMs + 60_000).length);
    // Coverage ends at +30 s: the runs before it happen, none after.
    const endingTimes = written.filter((o) => o.server === 'ending').map((o) => o.timeMs);
    expect(endingTimes).toEqual(runTimes('ending', startMs, startMs + 30_000 - 1));
    expect(endingTimes.length).toBeGreaterThanOrEqual(3);
  });

  it('leaves out a probe that throws (a bug of ours, not downtime), frees its slot and keeps probing', async () => {
    const clock = new FakeClock(0);
    const written: Observation[] = [];
    const outcomes: string[] = [];
    const loop = createProbeLoop({
      config: config(2, ', concurrency: 1'),
      store: recordingStore(written),
      logger: createLogger(),
      clock,
      onOutcome: (o) => outcomes.push(`${o.server}:${o.up ? 'up' : o.error}`),
      probe: async () => {
        throw new Error('bug in a probe');
      },
    });
    loop.start();
    await clock.advanceTo(20_000);
    await loop.stop();
    // Two servers, two intervals (and the first round): none stored as evidence, and the concurrency slot was
    // freed each time.
    expect(written).toHaveLength(0);
    expect(outcomes).toEqual([]);
    expect(loop.stats().discarded['local-error']).toBe(runsOf(2, 0, 20_000));
    expect(loop.stats().inFlight).toBe(0);
  });

  it('never probes a check twice at the same millisecond, even when a queued run starts exactly on its next slot', async () => {
    // Two checks, one probe at a time: the first blocks until the second's next slot, so the second (queued since
    // its first-round run was due) starts exactly on that slot. Its next run is a whole slot later, not at once:
    // the store keys observations by (server, location, check, time).
    const clock = new FakeClock(0);
    const [blocking, queued] = ['s0', 's1'].sort((a, b) => runTimes(a, 0, 10_000)[0]! - runTimes(b, 0, 10_000)[0]!) as [
      string,
      string,
    ];
    const slotMs = runTimes(queued, 0, 20_000)[1]!;
    const twoChecks = config(2, ', concurrency: 1');
    const blockingCheck = twoChecks.servers.get(blocking)!.checks[0];
    let release: (() => void) | undefined;
    const written: Observation[] = [];
    const loop = createProbeLoop({
      config: twoChecks,
      store: recordingStore(written),
      logger: createLogger(),
      clock,
      probe: (check) =>
        check === blockingCheck && release === undefined
          ? new Promise<ProbeResult>((resolve) => (release = () => resolve({ up: true, latencyMs: 1 })))
          : Promise.resolve({ up: true, latencyMs: 1 }),
    });
    loop.start();
    await clock.advanceTo(slotMs);
    release!();
    await new Promise((r) => setImmediate(r)); // the queued run starts now, before the clock moves on
    await clock.advanceTo(slotMs + 10_000);
    await loop.stop();
    const times = written.filter((o) => o.server === queued).map((o) => o.timeMs);
    expect(times.slice(0, 2)).toEqual([slotMs, slotMs + 10_000]);
  });
});

describe('an agent of several', () => {
  it('probes only its shard of the checks, and two shards together probe every check exactly once', async () => {
    const probed = async (shard: string) => {
      const clock = new FakeClock(0);
      const written: Observation[] = [];
      const loop = createProbeLoop({
        config: config(40, `, shard: "${shard}"`),
        store: recordingStore(written),
        logger: createLogger(),
        clock,
        probe: async () => ({ up: true, latencyMs: 1 }),
      });
      loop.start();
      await clock.advanceTo(FIRST_ROUND_WITHIN_MS);
      await loop.stop();
      expect(loop.stats().checks).toBe(new Set(written.map((o) => o.server)).size);
      return written.map((o) => o.server);
    };
    const first = await probed('1/2');
    const second = await probed('2/2');
    expect(first.every((s) => shardOf(s, 'tcp', 2) === 1)).toBe(true);
    expect(first.length).toBeGreaterThan(5);
    expect(second.length).toBeGreaterThan(5);
    expect([...first, ...second].sort()).toEqual(Array.from({ length: 40 }, (_, i) => `s${i}`).sort());
  });

  it('says the earliest time it still holds back: a probe in flight, then its unwritten observation, then nothing', async () => {
    const clock = new FakeClock(0);
    const written: Observation[] = [];
    let release: (() => void) | undefined;
    let writes: (() => void)[] = [];
    const loop = createProbeLoop({
      config: config(1),
      // A store that takes a batch only when the test lets it.
      store: {
        write: (batch) =>
          new Promise((resolve) =>
            writes.push(() => {
              written.push(...batch);
              resolve({ stored: batch.length, duplicates: 0, conflicts: 0 });
            }),
          ),
      },
      logger: createLogger(),
      clock,
      probe: () => new Promise<ProbeResult>((resolve) => (release = () => resolve({ up: true, latencyMs: 1 }))),
    });
    const startMs = runTimes('s0', 0, 10_000)[0]!;
    loop.start();
    expect(loop.earliestUnwrittenMs()).toBeUndefined();
    await clock.advanceTo(startMs);
    expect(loop.earliestUnwrittenMs()).toBe(startMs); // in flight
    release!();
    await new Promise((r) => setImmediate(r));
    expect(loop.earliestUnwrittenMs()).toBe(startMs); // waiting to be written
    await clock.advanceTo(startMs + 200); // a flush hands it to the store, which has not taken it yet
    expect(writes.length).toBe(1);
    expect(loop.earliestUnwrittenMs()).toBe(startMs);
    expect(await loop.unconfirmed(startMs, startMs + 1)).toEqual({ waiting: 1, parked: 0 });
    for (const write of writes.splice(0)) write();
    await new Promise((r) => setImmediate(r));
    expect(loop.earliestUnwrittenMs()).toBeUndefined();
    expect(written.map((o) => o.timeMs)).toEqual([startMs]);
    const stopping = loop.stop();
    writes = [];
    await stopping;
  });
});
