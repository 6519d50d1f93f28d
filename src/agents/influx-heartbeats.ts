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

/** Every series is read from its start at most this often; between, only beats stamped since the last read (less the margin). */
export const HEARTBEATS_WHOLE_READ_EVERY_MS = 3_600_000;
/** How much earlier than the last read began a later read starts: beats written late, or by a clock behind ours. */
export const HEARTBEATS_LATE_MARGIN_MS = 600_000;

/**
 * Heartbeats in InfluxDB. latest() reads every series whole (a month is ~535,000 beats per agent, ~80 ms of
 * influxd's CPU) at the first call, once an hour, and when our clock went back; between, it reads the beats stamped
 * since the last read began, less a margin, and keeps each series' latest. It is called for every month query (the
 * worker's data version, at most once a second) and by the settled mark and the close's evidence check, so a whole
 * read each time made influxd's work grow with the month.
 *
 * A beat stamped further back than the margin when it is written (a writer whose clock is more than 10 minutes
 * behind ours, an `import` on such a machine) is read at the next whole read, up to an hour later. Until then its
 * agent looks further behind than it is: a close waits for it rather than going early, the settled mark stays
 * earlier (more is read again), and cached answers are kept up to that hour.
 */
export function influxHeartbeats(connection: InfluxConnection, nowMs: () => number = Date.now): HeartbeatStore {
  const writer = createLineWriter(connection);
  const influxql = new InfluxQLClient(connection);
  /** Each series' latest beat (agent, location, shard): a whole read sets it, a later read adds newer beats. */
  let known = new Map<string, AgentHeartbeat>();
  let wholeReadAtMs: number | undefined;
  /** When the latest read that finished began: the beats stamped before it, less the margin, were read. */
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
      const whole =
        wholeReadAtMs === undefined ||
        startedMs < readThroughMs || // our clock went back: the bound would lie in the future
        startedMs - wholeReadAtMs >= HEARTBEATS_WHOLE_READ_EVERY_MS;
      const beats = await read(whole ? undefined : readThroughMs - HEARTBEATS_LATE_MARGIN_MS);
      if (whole) {
        known = new Map(); // starts afresh, so a series dropped from InfluxDB is forgotten
        wholeReadAtMs = startedMs;
      }
      for (const beat of beats) {
        const before = known.get(seriesKey(beat));
        if (!before || beat.atMs >= before.atMs) known.set(seriesKey(beat), beat);
      }
      readThroughMs = whole ? startedMs : Math.max(readThroughMs, startedMs);
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
