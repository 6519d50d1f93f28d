// The forwarder's batches in flight against a real influxd 1.6.7: killed mid-drain and restarted, or refusing one
// line in the middle of a backlog, every observation arrives once, counted and summed by InfluxDB itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/sla/types.js';
import { openEmbeddedDatabase } from '../../src/store/embedded/database.js';
import { ENDLESS_GAP_MS } from '../../src/store/influx/gap-marks.js';
import { observationLine } from '../../src/store/influx/line-protocol.js';
import { InfluxOutbox } from '../../src/store/influx/outbox.js';
import { countInInflux, influxSuite, openInfluxStore } from '../support/influx-suite.js';
import { until } from '../support/until.js';

const influx = influxSuite();
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** `servers` servers, one observation each every second over the last `seconds` s; latency numbers them. */
function backlog(servers: number, seconds: number): Observation[] {
  const fromMs = Date.now() - 1_800_000;
  const out: Observation[] = [];
  for (let s = 0; s < seconds; s++)
    for (let n = 0; n < servers; n++)
      out.push({
        timeMs: fromMs + s * 1_000,
        server: `s${n}`,
        location: 'waw',
        check: 'http',
        up: true,
        latencyMs: out.length % 1_000,
      });
  return out;
}

async function storedIn(database: string): Promise<{ count: number; latencySum: number }> {
  const [series] = await influx.influxd.query(
    `SELECT count("up"), sum("latency_ms") FROM "${database}"."autogen"."uptime_observation"`,
  );
  return { count: Number(series?.values[0]?.[1] ?? 0), latencySum: Number(series?.values[0]?.[2] ?? 0) };
}

const latencySum = (observations: readonly Observation[]) => observations.reduce((sum, o) => sum + o.latencyMs!, 0);

describe('forwarding batches in flight to a real influxd', () => {
  it('influxd killed mid-drain and restarted: every observation arrives exactly once, none parked', async () => {
    const database = await influx.database('kill');
    const dir = mkdtempSync(join(tmpdir(), 'uc-forwarding-'));
    dirs.push(dir);
    const observations = backlog(200, 1_000);
    // Queued while InfluxDB is down, so the drain starts with the whole backlog waiting.
    await influx.influxd.kill();
    const store = openInfluxStore({ url: influx.influxd.url, database, outboxPath: join(dir, 'outbox.db') });
    try {
      for (let i = 0; i < observations.length; i += 20_000) await store.write(observations.slice(i, i + 20_000));
      await influx.influxd.restart();
      // The forwarder is backing off; killed again once part of the backlog is confirmed, batches in flight.
      await until('part of the backlog confirmed', () => store.health().waiting < observations.length * 0.8, 30_000);
      expect(store.health().waiting).toBeGreaterThan(0);
      await influx.influxd.kill();
      await new Promise((r) => setTimeout(r, 300));
      await influx.influxd.restart();
      expect(await store.drain(60_000)).toBe(true);
      expect(store.health().parked).toBe(0);
      expect(await storedIn(database)).toEqual({
        count: observations.length,
        latencySum: latencySum(observations),
      });
    } finally {
      await store.close();
    }
  }, 120_000);

  it('a line refused by name in the middle of a backlog: parked alone, every other line stored once', async () => {
    const database = await influx.database('refuse');
    const dir = mkdtempSync(join(tmpdir(), 'uc-forwarding-'));
    dirs.push(dir);
    const outboxPath = join(dir, 'outbox.db');
    const observations = backlog(50, 200);
    const lines = observations.map((o) => observationLine('uptime_observation', o, ENDLESS_GAP_MS));
    const bad = 'uptime_observation,check=http,location=waw,server=s0 up=1i not-a-time';
    lines.splice(4_321, 0, bad); // in the fifth batch of 1,000, with batches in flight on either side
    const outbox = new InfluxOutbox(openEmbeddedDatabase(outboxPath));
    outbox.enqueue(
      lines.map((line) => ({ line, timeMs: 0, verify: false })),
      new Map(),
      Date.now(),
    );
    outbox.close();
    const store = openInfluxStore({ url: influx.influxd.url, database, outboxPath });
    try {
      await until('the outbox to empty', () => store.health().waiting === 0, 30_000);
      expect(store.queue.parkedRows(10).map((r) => [r.line, r.reason.startsWith('unable to parse')])).toEqual([
        [bad, true],
      ]);
      expect(await storedIn(database)).toEqual({
        count: observations.length,
        latencySum: latencySum(observations),
      });
      expect(await countInInflux(influx.influxd, database)).toBe(observations.length);
    } finally {
      await store.close();
    }
  }, 60_000);
});
