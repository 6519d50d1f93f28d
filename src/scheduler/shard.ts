// Which agent probes a check when several agents share a location: a stable hash of server and check, so every
// agent of the location computes the same split from the same configuration, and a restart keeps it.
import { createHash } from 'node:crypto';

export interface Shard {
  /** 1-based: the index-th of count shares. */
  index: number;
  count: number;
}

/** The 1-based share of `count` that a check belongs to. */
export function shardOf(serverId: string, checkName: string, count: number): number {
  // Its own hash input, so the split is independent of the phase offset (probe-loop.ts phaseOffsetMs).
  const digest = createHash('sha256').update(`shard\u0000${serverId}\u0000${checkName}`).digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

/** Whether this agent's share includes the check. */
export function inShard(serverId: string, checkName: string, shard: Shard): boolean {
  return shard.count === 1 || shardOf(serverId, checkName, shard.count) === shard.index;
}
