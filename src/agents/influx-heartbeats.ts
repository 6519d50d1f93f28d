// Heartbeats in InfluxDB: written by every agent, read by the instance that closes months.
import type { InfluxConnection } from '../store/influx/connection.js';
import { InfluxQLClient, type InfluxSeries } from '../store/influx/influxql.js';
import { createLineWriter } from '../store/influx/line-writer.js';
import { HEARTBEAT_MEASUREMENT, heartbeatLine, latestByAgent, type AgentHeartbeat } from './heartbeat.js';

export interface HeartbeatStore {
  /** Writes one heartbeat; throws with InfluxDB's reason when it is not taken. */
  write(beat: AgentHeartbeat): Promise<void>;
  /** Every agent's latest heartbeat, by agent name. */
  latest(): Promise<Map<string, AgentHeartbeat>>;
  close(): Promise<void>;
}

/** Every series is read from its start at most this often; between, only beats stamped after the last read. */
export const HEARTBEATS_WHOLE_READ_EVERY_MS = 3_600_000;
/** How much earlier than the last read began a later read starts: beats written late, or by a clock behind ours. */
export const HEARTBEATS_LATE_MARGIN_MS = 600_000;

/**
 * Heartbeats in InfluxDB. latest() reads every series whole (a month is ~535,000 beats per agent, ~80 ms of
 * influxd's CPU) only at the first call and once an hour; between, it reads the beats stamped since the last read
 * began (less a margin) and keeps each series' latest. It is called for every month query (the answers' data
 * version), so a whole read each time made influxd's work grow with the month. A beat missed between whole reads
 * (written more than the margin late) can only make an agent look further behind: a close waits, never goes early.
 */
export function influxHeartbeats(connection: InfluxConnection, nowMs: () => number = Date.now): HeartbeatStore {
  const writer = createLineWriter(connection);
  const influxql = new InfluxQLClient(connection);
  /** Each series' latest beat read so far (agent, location, shard): a later read only adds newer beats. */
  const known = new Map<string, AgentHeartbeat>();
  let wholeReadAtMs: number | undefined;
  /** When the latest read that finished began: every beat stamped before it (less the margin) is known. */
  let readThroughMs = 0;
  const seriesKey = (beat: AgentHeartbeat) => JSON.stringify([beat.agent, beat.location, beat.shard]);
  const read = async (sinceMs?: number) => {
    // The last point of each series; an agent that moved shard has several.
    const bound = sinceMs === undefined ? '' : ` WHERE time > ${Math.floor(sinceMs)}ms`;
    const series = await influxql.query(
      `SELECT * FROM "${HEARTBEAT_MEASUREMENT}"${bound} GROUP BY * ORDER BY time DESC LIMIT 1`,
    );
    return series.flatMap(heartbeatsOf);
  };
  return {
    async write(beat) {
      const verdict = await writer.write([heartbeatLine(beat)]);
      if (verdict.kind !== 'ok')
        throw new Error(`InfluxDB did not take the heartbeat: ${'reason' in verdict ? verdict.reason : verdict.kind}`);
    },
    async latest() {
      const startedMs = nowMs();
      const whole = wholeReadAtMs === undefined || startedMs - wholeReadAtMs >= HEARTBEATS_WHOLE_READ_EVERY_MS;
      for (const beat of await read(whole ? undefined : readThroughMs - HEARTBEATS_LATE_MARGIN_MS)) {
        const before = known.get(seriesKey(beat));
        if (!before || beat.atMs >= before.atMs) known.set(seriesKey(beat), beat);
      }
      if (whole) wholeReadAtMs = startedMs;
      readThroughMs = Math.max(readThroughMs, startedMs);
      return latestByAgent([...known.values()]);
    },
    async close() {
      await writer.close();
      await influxql.close();
    },
  };
}

const heartbeatsOf = (series: InfluxSeries): AgentHeartbeat[] =>
  series.values.map((row) => {
    const field = (name: string) => Number(row[series.columns.indexOf(name)] ?? Number.NaN);
    return {
      agent: series.tags?.agent ?? '',
      location: series.tags?.location ?? '',
      shard: series.tags?.shard ?? '',
      forwardedThroughMs: field('forwarded_through_ms'),
      written: field('written'),
      parked: field('parked'),
      startedMs: field('started_ms'),
      atMs: field('time'),
    };
  });
