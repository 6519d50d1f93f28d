// An agent's heartbeat: who it is, which share of which location it probes, and how far its observations have
// reached InfluxDB. The instance that closes months reads every expected agent's last heartbeat before it closes.
import type { Shard } from '../scheduler/shard.js';

/** The InfluxDB measurement of heartbeats, beside the observations' measurement in the same database. */
export const HEARTBEAT_MEASUREMENT = 'uptime_credits_agents';

/**
 * Heartbeats are written this often. On InfluxDB they are the store's data version (compute-worker.ts), so this is
 * how often a month's cached answers can change while agents write: a credits answer of the running month, asked
 * without pause, is computed once a heartbeat, and each such computation reads the last minutes of every series.
 * At 10,000 servers with 4 clients asking, 10 s rather than 5 took daemon + influxd from 1.00 to 0.69 cores, influxd
 * from 0.44 to 0.23 (test/bench/README.md); answers lag new data by 10 s at most.
 */
export const HEARTBEAT_EVERY_MS = 10_000;

/**
 * A read of the heartbeats serves the compute worker's data version (its cache of answers) for this long: they
 * change every HEARTBEAT_EVERY_MS, and API clients asking back to back for a cached answer made one InfluxDB query
 * each (45 a second in the daemon bench).
 */
export const HEARTBEATS_READ_FOR_MS = 1_000;

export interface AgentHeartbeat {
  agent: string;
  location: string;
  /** "index/count", as in probing.shard. */
  shard: string;
  /**
   * Every observation this agent probed with a time before this is confirmed in InfluxDB (readable); what it holds
   * back (probes in flight, writes buffered, the outbox, parked lines) is at or after it.
   */
  forwardedThroughMs: number;
  /** Lines InfluxDB confirmed from this agent since it started (moves whenever it adds data). */
  written: number;
  /** Lines InfluxDB refused by name, parked in this agent's outbox (they hold its mark back until retried). */
  parked: number;
  /** When this agent's process started: a restart begins a new count. */
  startedMs: number;
  /** When the heartbeat was written. */
  atMs: number;
}

/** The agent name `uptime-credits import` writes its heartbeat under (it probes nothing; its mark says what it added). */
export const IMPORT_AGENT = 'import';

export const shardText = (shard: Shard) => `${shard.index}/${shard.count}`;

/**
 * The forwarded-through mark: now, unless something probed earlier is still held back (the earliest held time).
 * Each argument is the earliest time one holder has (undefined: holds nothing).
 */
export function forwardedThroughMs(nowMs: number, ...earliestHeld: (number | undefined)[]): number {
  return Math.min(nowMs, ...earliestHeld.filter((t): t is number => t !== undefined));
}

/** One heartbeat as a line of line protocol (millisecond precision). Names are identifiers: nothing to escape. */
export function heartbeatLine(beat: AgentHeartbeat): string {
  return (
    `${HEARTBEAT_MEASUREMENT},agent=${beat.agent},location=${beat.location},shard=${beat.shard} ` +
    `forwarded_through_ms=${beat.forwardedThroughMs}i,written=${beat.written}i,parked=${beat.parked}i,` +
    `started_ms=${beat.startedMs}i ${beat.atMs}`
  );
}

/** Each agent's latest heartbeat from rows of (time, agent, location, shard, fields); later rows win. */
export function latestByAgent(rows: readonly AgentHeartbeat[]): Map<string, AgentHeartbeat> {
  const latest = new Map<string, AgentHeartbeat>();
  for (const row of rows) {
    const known = latest.get(row.agent);
    if (!known || row.atMs > known.atMs) latest.set(row.agent, row);
  }
  return latest;
}
