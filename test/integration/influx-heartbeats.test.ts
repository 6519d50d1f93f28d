// Agents' heartbeats in a real influxd: latest() reads every series whole at first and once an hour, and between
// only the beats stamped since its last read began (less a margin), keeping each series' latest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentHeartbeat } from '../../src/agents/heartbeat.js';
import {
  HEARTBEATS_LATE_MARGIN_MS,
  HEARTBEATS_WHOLE_READ_EVERY_MS,
  influxHeartbeats,
  type HeartbeatStore,
} from '../../src/agents/influx-heartbeats.js';
import { influxSuite, testConnection } from '../support/influx-suite.js';

const T = Date.UTC(2026, 10, 20, 12);
const DAY_MS = 86_400_000;

const beat = (agent: string, shard: string, atMs: number, written: number): AgentHeartbeat => ({
  agent,
  location: agent,
  shard,
  forwardedThroughMs: atMs - 1_000,
  written,
  parked: 0,
  startedMs: T - 2 * DAY_MS,
  atMs,
});

const seen = async (store: HeartbeatStore) =>
  Object.fromEntries([...(await store.latest())].map(([agent, b]) => [agent, `${b.shard} ${b.written}`]));

describe('heartbeats in InfluxDB', () => {
  const influx = influxSuite();
  let nowMs = T;
  let writer: HeartbeatStore;
  let reader: HeartbeatStore;
  let database: string;

  beforeAll(async () => {
    database = await influx.database('beats');
    const connection = testConnection({ url: influx.influxd.url, database });
    writer = influxHeartbeats(connection);
    reader = influxHeartbeats(connection, () => nowMs);
  });
  afterAll(async () => {
    await writer?.close();
    await reader?.close();
  });

  it('reads every series whole at first and each hour, and between only what was stamped since the last read', async () => {
    // waw moved from shard 1/1 (stopped two days ago) to 2/2; ams beats every few seconds.
    for (let i = 0; i < 50; i++) await writer.write(beat('waw', '1/1', T - 2 * DAY_MS - i * 5_000, 1_000 - i));
    await writer.write(beat('waw', '2/2', T - 60_000, 7));
    await writer.write(beat('ams', '1/1', T - 60_000, 40));
    expect(await seen(reader)).toEqual({ waw: '2/2 7', ams: '1/1 40' });

    // Stamped after the last read began: the next read has them.
    nowMs = T + 10_000;
    await writer.write(beat('ams', '1/1', T + 5_000, 41));
    await writer.write(beat('waw', '2/2', T + 5_000, 8));
    expect(await seen(reader)).toEqual({ waw: '2/2 8', ams: '1/1 41' });

    // Within the margin before the last read began: still read (a beat written late, or by a clock behind ours).
    nowMs = T + 20_000;
    await writer.write(beat('fra', '1/1', T + 10_000 - HEARTBEATS_LATE_MARGIN_MS + 1_000, 3));
    expect((await seen(reader)).fra).toBe('1/1 3');

    // Stamped further back than the margin: not read until the next whole read, an hour after the last.
    nowMs = T + 30_000;
    await writer.write(beat('lon', '1/1', T - DAY_MS, 5));
    expect((await seen(reader)).lon).toBeUndefined();
    nowMs = T + HEARTBEATS_WHOLE_READ_EVERY_MS;
    expect(await seen(reader)).toEqual({ waw: '2/2 8', ams: '1/1 41', fra: '1/1 3', lon: '1/1 5' });

    // Our clock went back: the bound would lie ahead of every new beat, so the read is whole.
    nowMs = T + 60_000;
    await writer.write(beat('osl', '1/1', T - DAY_MS, 2));
    expect((await seen(reader)).osl).toBe('1/1 2');

    // A whole read starts afresh: a series dropped from InfluxDB is forgotten.
    const drop = `DROP SERIES FROM "uptime_credits_agents" WHERE "agent" = 'osl'`;
    const dropped = await fetch(`${influx.influxd.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ db: database, q: drop }),
    });
    expect(await dropped.text()).not.toContain('error');
    nowMs = T + 60_000 + HEARTBEATS_WHOLE_READ_EVERY_MS;
    expect((await seen(reader)).osl).toBeUndefined();

    // A new reader (another process, the CLI) reads whole at its first call.
    const fresh = influxHeartbeats(testConnection({ url: influx.influxd.url, database }));
    try {
      expect(await seen(fresh)).toEqual(await seen(reader));
    } finally {
      await fresh.close();
    }
  });
});
