// The settled mark the month-to-date cache advances by (store/incremental-runs.ts): every observation probed before
// it is readable in the store, by this process and by every other writer. This process's part is its own
// forwarded-through mark (probes in flight, the write buffer, the outbox); the other agents' parts are their last
// heartbeats. The lead may replace this with a fleet-wide mark of its own.
import { HEARTBEAT_EVERY_MS, type AgentHeartbeat } from '../agents/heartbeat.js';

/** A heartbeat older than this is an agent that stopped: left out, and a restart with a backlog moves the mark back. */
export const SILENT_AGENT_AFTER_MS = 10 * 60_000;

export interface SettledMarkDeps {
  /** This process's forwarded-through mark (now when it holds nothing back). */
  ownForwardedThroughMs: () => number;
  nowMs: () => number;
  /** Every agent's latest heartbeat (InfluxDB); absent when no other process writes (the embedded store). */
  heartbeats?: () => Promise<ReadonlyMap<string, AgentHeartbeat>>;
  /**
   * Agents whose marks always count, even silent (config `agents`): until one has written a heartbeat nothing is
   * settled. Other agents count while their heartbeats are fresh.
   */
  expectedAgents: readonly string[];
  /**
   * How long a read of the heartbeats is used again (default HEARTBEAT_EVERY_MS, how often they change): a refresh
   * reads its servers in groups, each asking the mark.
   */
  heartbeatsMaxAgeMs?: number;
}

/**
 * The conservative settled mark: the minimum of this process's mark and the counted agents' marks. When the
 * heartbeats cannot be read, the agents' part read last stays (a mark only moves back when an agent restarts).
 */
export function createSettledMark(deps: SettledMarkDeps): () => Promise<number> {
  // Before the first read nothing is settled: the month to date is then read whole, as without the cache.
  let agentsMarkMs = Number.NEGATIVE_INFINITY;
  let readAtMs = Number.NEGATIVE_INFINITY;
  const maxAgeMs = deps.heartbeatsMaxAgeMs ?? HEARTBEAT_EVERY_MS;
  return async () => {
    const ownMs = deps.ownForwardedThroughMs();
    if (!deps.heartbeats) return ownMs;
    const nowMs = deps.nowMs();
    if (nowMs - readAtMs < maxAgeMs) return Math.min(ownMs, agentsMarkMs);
    try {
      agentsMarkMs = agentsMark(await deps.heartbeats(), deps.expectedAgents, nowMs);
      readAtMs = nowMs;
    } catch {
      // Kept from the last read: the store's reads fail too while InfluxDB cannot be reached.
    }
    return Math.min(ownMs, agentsMarkMs);
  };
}

/** The earliest forwarded-through mark among the agents that count (see SettledMarkDeps.expectedAgents). */
export function agentsMark(
  beats: ReadonlyMap<string, AgentHeartbeat>,
  expectedAgents: readonly string[],
  nowMs: number,
): number {
  let markMs = Number.POSITIVE_INFINITY;
  for (const agent of expectedAgents) markMs = Math.min(markMs, beats.get(agent)?.forwardedThroughMs ?? -Infinity);
  for (const beat of beats.values())
    if (nowMs - beat.atMs < SILENT_AGENT_AFTER_MS) markMs = Math.min(markMs, beat.forwardedThroughMs);
  return markMs;
}
