import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/logging.js';
import type { ProbeResult } from '../../../src/probes/probe.js';
import { createProbeLoop, nextDueMs, phaseOffsetMs } from '../../../src/scheduler/probe-loop.js';
import { createStallRecorder } from '../../../src/scheduler/stall-watch.js';
import type { Observation } from '../../../src/sla/types.js';
import { parseObservationLine } from '../../../src/store/observation-line.js';
import { FakeClock } from '../../support/fake-clock.js';

const config = (servers: number, extra = '') =>
  parseConfig(
    `
probing: { location: waw, interval: 10s, timeout: 2s ${extra} }
customers:
  - id: c
    name: C
    tier: gold
    servers:
${Array.from({ length: servers }, (_, i) => `      - { id: s${i}, name: S${i}, checks: [{ kind: tcp, host: 127.0.0.1, port: 1 }] }`).join('\n')}
`,
    'test.yaml',
  );

describe('schedule maths', () => {
  it('due times sit on an absolute grid shifted by the phase', () => {
    expect(nextDueMs(1_000, 10_000, 3_000)).toBe(3_000);
    expect(nextDueMs(3_000, 10_000, 3_000)).toBe(3_000);
    expect(nextDueMs(3_001, 10_000, 3_000)).toBe(13_000);
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
  it('runs each check once per interval on its phase, and writes every outcome', async () => {
    const clock = new FakeClock(1_000_000);
    const written: Observation[] = [];
    const loop = createProbeLoop({
      config: config(20),
      store: { write: async (batch) => (written.push(...batch), { stored: batch.length, duplicates: 0, conflicts: 0 }) },
      logger: createLogger(),
      clock,
      probe: async () => ({ up: true, latencyMs: 5 }),
    });
    loop.start();
    await clock.advanceTo(1_000_000 + 30_000);
    await loop.stop();
    // Three intervals of 10 s: every check ran 3 times, at its phase each time.
    expect(written).toHaveLength(60);
    for (let i = 0; i < 20; i++) {
      const times = written.filter((o) => o.server === `s${i}`).map((o) => o.timeMs);
      const phase = phaseOffsetMs(`s${i}`, 'tcp', 10_000);
      expect(times).toHaveLength(3);
      expect(times.every((t) => t % 10_000 === phase)).toBe(true);
    }
    expect(written[0]).toMatchObject({ location: 'waw', check: 'tcp', up: true, latencyMs: 5 });
  });

  it('keeps at most `concurrency` probes in flight and measures the lag of the queued ones', async () => {
    const clock = new FakeClock(0);
    let inFlight = 0;
    let maxInFlight = 0;
    const releases: (() => void)[] = [];
    const loop = createProbeLoop({
      config: config(10, ', concurrency: 3'),
      store: { write: async (b) => ({ stored: b.length, duplicates: 0, conflicts: 0 }) },
      logger: createLogger(),
      clock,
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
    await clock.advanceTo(9_999);
    expect(maxInFlight).toBe(3);
    expect(loop.stats().queued).toBe(7);
    while (releases.length) {
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(maxInFlight).toBe(3);
    expect(loop.stats().probesTotal).toBe(10);
    expect(loop.stats().lagP99Ms).toBeGreaterThan(0);
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
    expect(loop.stats().pendingWrites).toBe(10);
    failing = false;
    await loop.stop();
    expect(written).toHaveLength(10);
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
    // 300 probes and 600 flush ticks in a minute; backoff (1, 2, 4, 8, 15, 15... s) allows about 9 attempts.
    expect(attempts).toBeLessThanOrEqual(10);
    expect(loop.stats()).toMatchObject({ pendingWrites: 300, writeProblem: 'SQLITE_FULL: database or disk is full', droppedTotal: 0 });
    failing = false;
    await clock.advanceTo(80_000);
    expect(loop.stats().writeProblem).toBeUndefined();
    expect(loop.stats().pendingWrites).toBeLessThan(50);
    await loop.stop();
    expect(written).toHaveLength(400);
  });

  it('leaves out a probe that timed out while the process stalled; other failures stay evidence', async () => {
    const clock = new FakeClock(0);
    const written: Observation[] = [];
    const asked: number[] = [];
    let stalled = true;
    const loop = createProbeLoop({
      config: config(2),
      store: { write: async (batch) => (written.push(...batch), { stored: batch.length, duplicates: 0, conflicts: 0 }) },
      logger: createLogger(),
      clock,
      stalls: { stalledBetween: (fromMs, toMs) => (asked.push(toMs - fromMs), stalled), stop: () => undefined },
      probe: async (check) => (check.config.kind === 'tcp' ? { up: false, latencyMs: 2_000, error: 'timeout' } : { up: false, latencyMs: 1, error: 'refused' }),
    });
    loop.start();
    await clock.advanceTo(10_000);
    expect(loop.stats().discarded).toEqual({ 'process-stalled': 2, 'local-error': 0 });
    // Asked about the last quarter of the 2 s timeout and after it (the probe itself took no real time here).
    expect(asked.every((windowMs) => windowMs <= -1_500 + 50)).toBe(true);
    stalled = false;
    await clock.advanceTo(20_000);
    await loop.stop();
    // Only the timeouts outside a stall are stored (as downtime evidence).
    expect(written.map((o) => o.error)).toEqual(['timeout', 'timeout']);
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
      const parsed = readFileSync(join(dir, file!), 'utf8').trimEnd().split('\n').map((line) => parseObservationLine(line, new Map([['s0', 1], ['s1', 1], ['s2', 1]]), 'nowhere'));
      expect(parsed).toHaveLength(6);
      expect(parsed.every((p) => p.ok && p.observation.location === 'waw' && p.observation.check === 'tcp' && p.observation.error === 'refused' && p.observation.latencyMs === 7)).toBe(true);
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
      store: { write: async (batch) => (written.push(...batch), { stored: batch.length, duplicates: 0, conflicts: 0 }) },
      logger: createLogger(),
      clock,
      probe: async () => ({ up: true, latencyMs: 1 }),
    });
    loop.start();
    await clock.advanceTo(startMs + 60_000);
    await loop.stop();
    const count = (server: string) => written.filter((o) => o.server === server).length;
    expect(count('ended')).toBe(0);
    expect(count('forever')).toBe(6);
    // Coverage ends at +30 s: the runs before it happen, none after.
    const endingTimes = written.filter((o) => o.server === 'ending').map((o) => o.timeMs);
    expect(endingTimes.length).toBe(endingTimes.filter((t) => t < startMs + 30_000).length);
    expect(endingTimes.length).toBe(3);
  });

  it('leaves out a probe that throws (a bug of ours, not downtime), frees its slot and keeps probing', async () => {
    const clock = new FakeClock(0);
    const written: Observation[] = [];
    const outcomes: string[] = [];
    const loop = createProbeLoop({
      config: config(2, ', concurrency: 1'),
      store: { write: async (batch) => (written.push(...batch), { stored: batch.length, duplicates: 0, conflicts: 0 }) },
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
    // Two servers, two intervals: four probes, none stored as evidence, and the concurrency slot was freed each time.
    expect(written).toHaveLength(0);
    expect(outcomes).toEqual([]);
    expect(loop.stats().discarded['local-error']).toBe(4);
    expect(loop.stats().inFlight).toBe(0);
  });
});
