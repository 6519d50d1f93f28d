// The InfluxDB write path under every fault a proxy can inject in front of a real influxd, counted end to end:
// observations written = rows in InfluxDB + parked, and parked only for lines InfluxDB really refused by name.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/sla/types.js';
import type { OutboxedInfluxStore } from '../../src/store/influx/influx-store.js';
import type { FaultMode } from '../support/fault-proxy.js';
import { countInInflux, influxSuite, openInfluxStore } from '../support/influx-suite.js';
import { capturedLog } from '../support/captured-log.js';
import { until } from '../support/until.js';

const influx = influxSuite({ proxy: true });

/** A store writing through the proxy to a fresh database, with its log lines kept for counting. */
async function openStore(options: { batchSize?: number; timeoutMs?: number } = {}) {
  const database = await influx.database('f');
  const dir = mkdtempSync(join(tmpdir(), 'uc-faults-'));
  const { logger, lines: logs } = capturedLog();
  const store = openInfluxStore({
    url: influx.proxy.url,
    database,
    outboxPath: join(dir, 'outbox.db'),
    measurement: 'obs',
    batchSize: options.batchSize ?? 500,
    timeoutMs: options.timeoutMs ?? 2_000,
    logger,
  });
  return {
    store,
    logs,
    errorLogs: () => logs.filter((l) => l.level >= 50),
    rowsInInflux: () => countInInflux(influx.influxd, database, 'obs'),
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Observations of `servers` servers, one per second each, from `fromS`, for `seconds` seconds. */
function stream(
  fromS: number,
  seconds: number,
  servers = 10,
  extra: (o: Observation) => Partial<Observation> = () => ({}),
): Observation[] {
  const out: Observation[] = [];
  const base = Date.now() - 600_000;
  for (let s = fromS; s < fromS + seconds; s++) {
    for (let n = 0; n < servers; n++) {
      const o: Observation = {
        timeMs: base + s * 1_000,
        server: `s${n}`,
        location: 'waw',
        check: 'http',
        up: true,
        latencyMs: 5,
      };
      out.push({ ...o, ...extra(o) });
    }
  }
  return out;
}

/** Writes `observations` in small batches over about `spreadMs`, as the probe loop does. */
async function writeSpread(store: OutboxedInfluxStore, observations: Observation[], spreadMs: number): Promise<void> {
  const batches = Math.max(1, Math.ceil(spreadMs / 100));
  const size = Math.ceil(observations.length / batches);
  for (let i = 0; i < observations.length; i += size) {
    await store.write(observations.slice(i, i + size));
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function withFault<T>(mode: FaultMode, work: () => Promise<T>): Promise<T> {
  influx.proxy.setMode(mode);
  try {
    return await work();
  } finally {
    influx.proxy.setMode({ kind: 'pass' });
  }
}

describe('InfluxDB faults: nothing lost, nothing parked that InfluxDB did not refuse by name', () => {
  it('a 400 naming no line for 3 s: every observation arrives afterwards, none parked, errors logged once and counted', async () => {
    const t = await openStore();
    try {
      const observations = stream(0, 60);
      await withFault({ kind: 'status', status: 400 }, async () => {
        await writeSpread(t.store, observations, 3_000);
        expect(t.store.health()).toMatchObject({ parked: 0, remoteProblem: expect.stringContaining('HTTP 400') });
        expect(t.store.health().waiting).toBeGreaterThan(0);
      });
      expect(await t.store.drain(30_000)).toBe(true);
      expect(await t.rowsInInflux()).toBe(observations.length);
      const health = t.store.health();
      expect(health).toMatchObject({ waiting: 0, parked: 0 });
      expect(health.remoteProblem).toBeUndefined();
      expect(health.remoteWriteErrorsTotal).toBeGreaterThan(0);
      // Backoff, not a request per line: a handful of attempts, and one error line for the whole outage.
      expect(health.remoteWriteErrorsTotal).toBeLessThan(10);
      expect(t.errorLogs().map((l) => l.msg)).toEqual([
        'InfluxDB does not take writes; observations stay in the outbox and are retried',
      ]);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('400 for some lines: exactly those are parked (one log line per batch), the rest stored; --retry sends them once fixed', async () => {
    const t = await openStore();
    try {
      const observations = stream(0, 30);
      const refused = (line: string) => line.includes('server=s3 ');
      await withFault({ kind: 'refuse-lines', refuse: refused }, async () => {
        await t.store.write(observations);
        expect(await t.store.drain(30_000)).toBe(true);
      });
      expect(t.store.health().parked).toBe(30);
      expect(await t.rowsInInflux()).toBe(observations.length - 30);
      expect(
        t.store.queue
          .parkedRows(100)
          .every((r) => r.line.includes('server=s3 ') && r.reason === 'unable to parse: bad timestamp'),
      ).toBe(true);
      expect(t.errorLogs().length).toBeLessThanOrEqual(2); // per refused batch, never per line
      expect(t.store.queue.retryParked(Date.now())).toBe(30);
      expect(await t.store.drain(30_000)).toBe(true);
      expect(t.store.health().parked).toBe(0);
      expect(await t.rowsInInflux()).toBe(observations.length);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('413 over 20 KB: batches are halved until they fit, every observation arrives', async () => {
    const t = await openStore({ batchSize: 2_000 });
    try {
      const observations = stream(0, 200); // 2,000 lines of ~100 bytes: a first batch of ~200 KB
      const requestsBefore = influx.proxy.stats.writeRequests;
      await withFault({ kind: 'max-body', bytes: 20_000 }, async () => {
        await t.store.write(observations);
        expect(await t.store.drain(30_000)).toBe(true);
      });
      expect(await t.rowsInInflux()).toBe(observations.length);
      expect(t.store.health().parked).toBe(0);
      expect(influx.proxy.stats.writeRequests - requestsBefore).toBeLessThan(40);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('413 even for a single line: nothing parked (our lines are small: the limit is at fault), all arrive once it is raised', async () => {
    const t = await openStore({ batchSize: 10 });
    try {
      const observations = stream(0, 5, 4); // 20 lines of ~90 bytes
      await withFault({ kind: 'max-body', bytes: 50 }, async () => {
        await t.store.write(observations);
        await new Promise((r) => setTimeout(r, 2_000));
        expect(t.store.health()).toMatchObject({
          waiting: 20,
          parked: 0,
          remoteProblem: expect.stringContaining('even a single line is too large'),
        });
      });
      expect(await t.store.drain(30_000)).toBe(true);
      expect(await t.rowsInInflux()).toBe(observations.length);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('5xx, 429 with Retry-After, a hang and a connection cut mid-body: all retried until they arrive', async () => {
    const t = await openStore({ timeoutMs: 1_000 });
    try {
      let written = 0;
      for (const mode of [
        { kind: 'status', status: 503 },
        { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
        { kind: 'hang' },
        { kind: 'cut' },
      ] as FaultMode[]) {
        const observations = stream(written / 10, 20);
        written += observations.length;
        await withFault(mode, async () => {
          await writeSpread(t.store, observations, 1_500);
          expect(t.store.health().remoteProblem).toBeDefined();
        });
        expect(await t.store.drain(30_000)).toBe(true);
      }
      expect(await t.rowsInInflux()).toBe(written);
      expect(t.store.health().parked).toBe(0);
    } finally {
      await t.close();
    }
  }, 90_000);

  it('InfluxDB stopped, then started: the backlog goes in once it answers, without waiting out the backoff', async () => {
    // Straight to influxd (not the proxy): a stopped InfluxDB refuses the connection, as a restarting one does.
    const database = await influx.database('back');
    const dir = mkdtempSync(join(tmpdir(), 'uc-back-'));
    const store = openInfluxStore({
      url: influx.influxd.url,
      database,
      outboxPath: join(dir, 'outbox.db'),
      measurement: 'obs',
      // As grown over a long outage; the drain below waits far less than this.
      forwarderBackoff: { firstMs: 120_000, maxMs: 120_000 },
    });
    try {
      await influx.influxd.kill();
      try {
        await store.write(stream(0, 5, 4));
        await until('a failed write', () => store.health().remoteWriteErrorsTotal >= 1, 10_000, 20);
        expect(store.health().remoteProblem).toMatch(/ECONNREFUSED/);
      } finally {
        await influx.influxd.restart();
      }
      expect(await store.drain(30_000)).toBe(true);
      expect(await countInInflux(influx.influxd, database, 'obs')).toBe(20);
      expect(store.health().remoteWriteErrorsTotal).toBe(1);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('a conflicting repeat written while InfluxDB is down is checked before it is sent: the stored value stays', async () => {
    const t = await openStore();
    try {
      const first = stream(0, 3, 1);
      await t.store.write(first);
      expect(await t.store.drain(10_000)).toBe(true);
      await influx.influxd.kill();
      try {
        // InfluxDB cannot be asked now: the repeat is queued to be checked before sending.
        const repeat = first.map((o) => ({ ...o, up: false, error: 'timeout' }));
        expect(await t.store.write(repeat)).toEqual({ stored: 3, duplicates: 0, conflicts: 0 });
        expect(t.store.health().waiting).toBe(3);
      } finally {
        await influx.influxd.restart();
      }
      expect(await t.store.drain(30_000)).toBe(true);
      const stored = await t.store.readObservations('s0', 0, Date.now());
      expect(stored.map((o) => o.up)).toEqual([true, true, true]);
      expect(t.logs.filter((l) => l.msg.includes('different outcome'))).toHaveLength(3);
    } finally {
      await t.close();
    }
  }, 90_000);
});
