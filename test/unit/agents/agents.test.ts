// The pure parts of several agents on one InfluxDB: which agent probes a check, the forwarded-through mark, the
// heartbeat's line, and the close's verdict on expected agents.
import { describe, expect, it } from 'vitest';
import {
  type AgentHeartbeat,
  forwardedThroughMs,
  heartbeatLine,
  latestByAgent,
} from '../../../src/agents/heartbeat.js';
import { agentEvidence, agentShortfall } from '../../../src/close/agent-evidence.js';
import { inShard, shardOf } from '../../../src/scheduler/shard.js';

const beat = (over: Partial<AgentHeartbeat> = {}): AgentHeartbeat => ({
  agent: 'fra-1-of-2',
  location: 'fra',
  shard: '1/2',
  forwardedThroughMs: Date.UTC(2026, 10, 1, 0, 10),
  written: 1_234,
  parked: 0,
  startedMs: Date.UTC(2026, 9, 30),
  atMs: Date.UTC(2026, 10, 1, 0, 10, 3),
  ...over,
});

describe('shards', () => {
  it('each check falls in exactly one of the shares, the same on every call, spread evenly', () => {
    const checks = Array.from({ length: 4_000 }, (_, i) => [`srv-${i}`, i % 3 === 0 ? 'tcp' : 'http'] as const);
    for (const count of [1, 2, 3, 4, 7]) {
      const perShare = new Array(count).fill(0);
      for (const [server, check] of checks) {
        const owners = Array.from({ length: count }, (_, k) => k + 1).filter((index) =>
          inShard(server, check, { index, count }),
        );
        expect(owners).toEqual([shardOf(server, check, count)]);
        perShare[shardOf(server, check, count) - 1]++;
      }
      // 4,000 checks: every share within 15 % of its part.
      for (const n of perShare) expect(Math.abs(n - 4_000 / count)).toBeLessThan((4_000 / count) * 0.15);
    }
  });
  it('is pinned: a change of the hash would move checks between running agents', () => {
    // Values of the first release of sharding: agents of different versions must split a location the same way.
    expect([
      shardOf('web-1', 'http', 4),
      shardOf('web-2', 'http', 4),
      shardOf('db-1', 'tcp', 4),
      shardOf('db-1', 'tcp', 7),
    ]).toEqual([3, 4, 2, 4]);
    expect(shardOf('web-1', 'http', 1)).toBe(1);
  });
});

describe('the forwarded-through mark', () => {
  it('is now unless something earlier is held back, then the earliest held time', () => {
    expect(forwardedThroughMs(1_000)).toBe(1_000);
    expect(forwardedThroughMs(1_000, undefined, undefined)).toBe(1_000);
    expect(forwardedThroughMs(1_000, 700, undefined, 900)).toBe(700);
    // A clock that stepped back leaves no mark in the future.
    expect(forwardedThroughMs(1_000, 2_000)).toBe(1_000);
  });
});

describe('heartbeats', () => {
  it('are one line of line protocol in milliseconds with integer fields', () => {
    expect(heartbeatLine(beat())).toBe(
      `uptime_credits_agents,agent=fra-1-of-2,location=fra,shard=1/2 forwarded_through_ms=${Date.UTC(2026, 10, 1, 0, 10)}i,written=1234i,parked=0i,started_ms=${Date.UTC(2026, 9, 30)}i ${Date.UTC(2026, 10, 1, 0, 10, 3)}`,
    );
  });
  it('the latest per agent wins, whatever series (an agent that moved shard) it is in', () => {
    const latest = latestByAgent([
      beat({ shard: '1/2', atMs: 5 }),
      beat({ shard: '1/3', atMs: 9 }),
      beat({ agent: 'waw', atMs: 1 }),
    ]);
    expect([...latest.keys()].sort()).toEqual(['fra-1-of-2', 'waw']);
    expect(latest.get('fra-1-of-2')?.shard).toBe('1/3');
  });
});

describe('expected agents as close evidence', () => {
  const monthEndPlusLookAheadMs = Date.UTC(2026, 10, 1, 0, 4, 30);
  it('covers the range when the agent is forwarded through its end, and names what is missing otherwise', () => {
    expect(agentShortfall('fra-1-of-2', beat(), monthEndPlusLookAheadMs)).toBeUndefined();
    expect(
      agentShortfall('fra-1-of-2', beat({ forwardedThroughMs: monthEndPlusLookAheadMs }), monthEndPlusLookAheadMs),
    ).toBeUndefined();
    expect(
      agentShortfall(
        'fra-1-of-2',
        beat({ forwardedThroughMs: Date.UTC(2026, 9, 31, 22), parked: 3 }),
        monthEndPlusLookAheadMs,
      ),
    ).toBe(
      'agent fra-1-of-2 (fra, shard 1/2) is forwarded through 2026-10-31T22:00:00.000Z only, needs 2026-11-01T00:04:30.000Z; its last heartbeat was at 2026-11-01T00:10:03.000Z; it has 3 lines refused by InfluxDB and parked in its outbox',
    );
    expect(agentShortfall('ams', undefined, monthEndPlusLookAheadMs)).toBe(
      'agent ams has written no heartbeat to InfluxDB (is it running, with this agent name?)',
    );
  });
  it('one source for all agents: one waiting per agent behind, every one named', async () => {
    const beats = new Map([
      ['fra-1-of-2', beat()],
      ['fra-2-of-2', beat({ agent: 'fra-2-of-2', shard: '2/2', forwardedThroughMs: Date.UTC(2026, 9, 31, 23, 59) })],
    ]);
    const source = agentEvidence(['fra-1-of-2', 'fra-2-of-2', 'ams'], async () => beats);
    const found = await source.unconfirmed(Date.UTC(2026, 9, 1), monthEndPlusLookAheadMs);
    expect(found.waiting).toBe(2);
    expect(found.parked).toBe(0);
    expect(found.detail).toContain(
      'agent fra-2-of-2 (fra, shard 2/2) is forwarded through 2026-10-31T23:59:00.000Z only',
    );
    expect(found.detail).toContain('agent ams has written no heartbeat');
    expect(found.detail).not.toContain('fra-1-of-2');
    expect(await agentEvidence(['fra-1-of-2'], async () => beats).unconfirmed(0, monthEndPlusLookAheadMs)).toEqual({
      waiting: 0,
      parked: 0,
    });
    const unreadable = agentEvidence(['fra-1-of-2'], async () => {
      throw new Error('ECONNREFUSED');
    });
    expect(await unreadable.unconfirmed(0, monthEndPlusLookAheadMs)).toEqual({
      waiting: 1,
      parked: 0,
      detail: "the agents' heartbeats cannot be read: ECONNREFUSED",
    });
  });
});
