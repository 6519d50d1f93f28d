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

export function influxHeartbeats(connection: InfluxConnection): HeartbeatStore {
  const writer = createLineWriter(connection);
  const influxql = new InfluxQLClient(connection);
  return {
    async write(beat) {
      const verdict = await writer.write([heartbeatLine(beat)]);
      if (verdict.kind !== 'ok')
        throw new Error(`InfluxDB did not take the heartbeat: ${'reason' in verdict ? verdict.reason : verdict.kind}`);
    },
    async latest() {
      // The last point of each series (agent, location, shard); an agent that moved shard has several.
      const series = await influxql.query(
        `SELECT * FROM "${HEARTBEAT_MEASUREMENT}" GROUP BY * ORDER BY time DESC LIMIT 1`,
      );
      return latestByAgent(series.flatMap(heartbeatsOf));
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
