// The InfluxDB store against a real influxd 1.6.7: the shared contract, exact runs, and nothing lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/sla/types.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { countedRunReader } from '../support/counted-reads.js';
import { expectSameRuns } from '../support/same-runs.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { countInInflux, openInfluxStore, testConnection } from '../support/influx-suite.js';
import { startInfluxd, type Influxd } from '../support/influxd.js';
import { describeObservationStoreContract } from '../support/store-contract.js';

let influxd: Influxd;
let proxy: FaultProxy;
let databaseCounter = 0;
beforeAll(async () => {
  influxd = await startInfluxd();
  proxy = await startFaultProxy(influxd.url);
});
afterAll(async () => {
  await proxy?.close();
  await influxd?.stop();
});

/** A fresh database per store so tests do not see each other's points. */
async function openStore(dir: string, database?: string, batchSize = 1_000) {
  const db = database ?? `t${++databaseCounter}`;
  if (!database) await influxd.query(`CREATE DATABASE "${db}"`);
  return {
    store: openInfluxStore({ url: influxd.url, database: db, batchSize, outboxPath: join(dir, 'outbox.db') }),
    db,
  };
}

describeObservationStoreContract('influxdb 1.6 with outbox', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uc-influx-'));
  const db = `t${++databaseCounter}`;
  await influxd.query(`CREATE DATABASE "${db}"`);
  // Through the fault proxy, so that a test can have InfluxDB refuse writes for a while.
  const open = () => openInfluxStore({ url: proxy.url, database: db, outboxPath: join(dir, 'outbox.db') });
  const under = {
    store: open(),
    async reopen() {
      await under.store.close();
      under.store = open();
      return under.store;
    },
    countStored: () => countInInflux(influxd, db),
    remote: {
      block: () => proxy.setMode({ kind: 'status', status: 503 }),
      unblock: () => proxy.setMode({ kind: 'pass' }),
    },
    async cleanup() {
      await under.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return under;
});

describe('InfluxDB store reads', () => {
  it('gives exactly the embedded store runs for a day with outages, gaps and out-of-order writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uc-influx-runs-'));
    const { store } = await openStore(dir);
    const embedded = EmbeddedObservationStore.open(join(dir, 'embedded.db'));
    try {
      const day = Date.parse('2026-10-03T00:00:00Z');
      const observations: Observation[] = [];
      for (let t = day; t < day + 86_400_000; t += 30_000) {
        const minute = (t - day) / 60_000;
        if (minute >= 300 && minute < 340) continue; // a 40-minute silence
        if (minute >= 610 && minute < 611.5) continue; // a 90 s gap: exactly staleAfter
        const down = (minute >= 120 && minute < 125) || minute === 800 || (minute >= 1_000 && minute < 1_000.5);
        observations.push({ timeMs: t, server: 's1', location: 'waw', check: 'http', up: !down });
        observations.push({
          timeMs: t + 7_000,
          server: 's1',
          location: 'fra',
          check: '',
          up: minute < 700 || minute > 720,
        });
      }
      // Written in shuffled chunks, so some arrive out of order.
      const chunks: Observation[][] = [];
      for (let i = 0; i < observations.length; i += 997) chunks.push(observations.slice(i, i + 997));
      chunks.reverse();
      for (const chunk of chunks) {
        await store.write(chunk);
        await embedded.write(chunk);
      }
      expect(await store.drain(30_000)).toBe(true);
      const query = { servers: ['s1'], fromMs: day + 1_234, toMs: day + 86_400_000 - 5_000, staleAfterMs: 90_000 };
      const fromInflux = await store.readRuns(query);
      const fromEmbedded = await embedded.readRuns(query);
      expect(fromInflux.get('s1')!.length).toBeGreaterThan(5);
      expectSameRuns(fromInflux, fromEmbedded);

      // Written in order, the clean hours come back aggregated: the same runs again.
      const { store: ordered, db: orderedDb } = await openStore(mkdtempSync(join(tmpdir(), 'uc-influx-ordered-')));
      await ordered.write(observations.slice().sort((a, b) => a.timeMs - b.timeMs));
      expect(await ordered.drain(30_000)).toBe(true);
      expectSameRuns(await ordered.readRuns(query), fromEmbedded);
      await ordered.close();
      // The same reads, counted: of 48 series-hours, the clean ones between two clean neighbours (20 here) came
      // back as aggregates, so only the other 28 hours' rows were read one by one.
      const counted = countedRunReader(testConnection({ url: influxd.url, database: orderedDb }));
      expectSameRuns(await counted.reader.readRuns(query), fromEmbedded);
      await counted.close();
      // The hourly aggregates, and the points counted in the parts of the two hours the range cuts.
      expect(counted.counts.aggregateQueries).toBe(3);
      expect(counted.counts.aggregateRows).toBe(48 + 2 * 2); // and a count of each series in each cut part
      expect(counted.counts.rawRows).toBeGreaterThan(0);
      expect(counted.counts.rawRows).toBeLessThan((observations.length * 28) / 48);
    } finally {
      await store.close();
      await embedded.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('InfluxDB store reads of two series of one run key', () => {
  // A point without the check tag (a line another writer sent) and one with the empty check's tag are two series in
  // InfluxDB and one (location, check) in the runs: their rows interleave in time, so neither series' rows can be
  // joined alone. A reader that joined each series' rows as read made one up run across the down point here.
  it('gives the runs of their rows in time order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uc-influx-shared-key-'));
    const { store, db } = await openStore(dir);
    try {
      const t0 = Date.parse('2026-10-03T10:00:00Z');
      const lines = [
        ...[0, 20_000, 40_000, 60_000].map((d) => `uptime_observation,location=waw,server=s2 up=1i ${t0 + d}`),
        `uptime_observation,check=-,location=waw,server=s2 up=0i ${t0 + 30_000}`,
      ];
      const response = await fetch(`${influxd.url}/write?db=${db}&precision=ms`, {
        method: 'POST',
        body: lines.join('\n'),
      });
      expect(response.status).toBe(204);
      const run = (up: boolean, firstMs: number, lastMs: number, count: number) => ({
        location: 'waw',
        check: '',
        up,
        firstMs: t0 + firstMs,
        lastMs: t0 + lastMs,
        count,
      });
      // The range leaves the first point out and cuts its hour, so both reads go row by row (points without marks).
      const range = { fromMs: t0 + 1, toMs: t0 + 5 * 60_000, staleAfterMs: 90_000 };
      const expected = [run(true, 20_000, 20_000, 1), run(false, 30_000, 30_000, 1), run(true, 40_000, 60_000, 2)];
      expect((await store.readEveryServer(range)).get('s2')).toEqual(expected);
      expect((await store.readRuns({ ...range, servers: ['s2'] })).get('s2')).toEqual(expected);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nothing lost', () => {
  it('InfluxDB killed and the daemon restarted mid-stream: every observation arrives exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uc-influx-outage-'));
    const db = 'outage';
    await influxd.query(`CREATE DATABASE "${db}"`);
    let { store } = await openStore(dir, db, 200);
    const written: number[] = [];
    const writeSome = async (count: number) => {
      const batch: Observation[] = [];
      for (let i = 0; i < count; i++) {
        const timeMs = Date.parse('2026-10-01T00:00:00Z') + written.length * 1_000;
        written.push(timeMs);
        batch.push({
          timeMs,
          server: 'oci-1',
          location: 'waw',
          check: 'http',
          up: written.length % 7 !== 0,
          latencyMs: 5,
        });
      }
      await store.write(batch);
    };
    try {
      await writeSome(500);
      await influxd.kill(); // InfluxDB dies while observations keep coming
      await writeSome(500);
      await new Promise((r) => setTimeout(r, 1_500)); // the forwarder fails and backs off
      expect(await store.backlog()).toBeGreaterThan(0);
      await store.close(); // the daemon stops during the outage: the backlog stays in the outbox file
      ({ store } = await openStore(dir, db, 200)); // restarted while InfluxDB is still down
      await writeSome(500);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await store.backlog()).toBeGreaterThanOrEqual(1_000);
      await influxd.restart();
      await writeSome(500);
      expect(await store.drain(60_000)).toBe(true);
      const counted = await influxd.query(
        `SELECT count("up") FROM "uptime_observation"`.replace('"uptime_observation"', `"${db}".."uptime_observation"`),
      );
      expect(counted[0]!.values[0]![1]).toBe(2_000);
      const rows = await store.readObservations('oci-1', 0, Date.parse('2027-01-01T00:00:00Z'));
      expect(rows.map((r) => r.timeMs)).toEqual(written);
      expect(rows.filter((r) => !r.up)).toHaveLength(Math.floor(2_000 / 7));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
