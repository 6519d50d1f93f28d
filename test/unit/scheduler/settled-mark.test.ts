import { describe, expect, it } from 'vitest';
import { HEARTBEAT_EVERY_MS, type AgentHeartbeat } from '../../../src/agents/heartbeat.js';
import { agentsMark, createSettledMark, SILENT_AGENT_AFTER_MS } from '../../../src/scheduler/settled-mark.js';

const NOW = Date.parse('2026-10-10T12:00:00Z');
const beat = (agent: string, forwardedThroughMs: number, atMs = NOW - 5_000): AgentHeartbeat => ({
  agent,
  location: agent,
  shard: '1/1',
  forwardedThroughMs,
  written: 1,
  parked: 0,
  startedMs: NOW - 3_600_000,
  atMs,
});
const beats = (...list: AgentHeartbeat[]) => new Map(list.map((b) => [b.agent, b]));

describe('agentsMark', () => {
  it('is the earliest mark of the expected agents and of the agents heard from lately', () => {
    expect(agentsMark(beats(beat('waw', NOW - 7_000), beat('ams', NOW - 60_000)), ['waw'], NOW)).toBe(NOW - 60_000);
    // An agent silent for longer than SILENT_AGENT_AFTER_MS stopped: its old mark does not hold the others back.
    const silent = beat('fra', NOW - 86_400_000, NOW - SILENT_AGENT_AFTER_MS);
    expect(agentsMark(beats(beat('waw', NOW - 7_000), silent), [], NOW)).toBe(NOW - 7_000);
    // Unless it is expected: then its mark counts however old.
    expect(agentsMark(beats(beat('waw', NOW - 7_000), silent), ['fra'], NOW)).toBe(NOW - 86_400_000);
    // An expected agent that never wrote a heartbeat: nothing is settled.
    expect(agentsMark(beats(beat('waw', NOW - 7_000)), ['waw', 'fra'], NOW)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('createSettledMark', () => {
  it("is this process's own mark without heartbeats, else the minimum with the agents'; an unreadable read keeps the last", async () => {
    let own = NOW - 1_000;
    expect(await createSettledMark({ ownForwardedThroughMs: () => own, nowMs: () => NOW, expectedAgents: [] })()).toBe(
      NOW - 1_000,
    );
    let answer: Map<string, AgentHeartbeat> | Error = new Error('InfluxDB is not reachable');
    let nowMs = NOW;
    let reads = 0;
    const mark = createSettledMark({
      ownForwardedThroughMs: () => own,
      nowMs: () => nowMs,
      expectedAgents: ['ams'],
      heartbeats: async () => {
        reads++;
        if (answer instanceof Error) throw answer;
        return answer;
      },
    });
    expect(await mark()).toBe(Number.NEGATIVE_INFINITY); // never read: nothing settled
    answer = beats(beat('ams', NOW - 30_000));
    expect(await mark()).toBe(NOW - 30_000);
    own = NOW - 90_000;
    expect(await mark()).toBe(NOW - 90_000);
    // Read again only when the last read is a heartbeat interval old.
    expect(reads).toBe(2);
    answer = beats(beat('ams', NOW - 20_000));
    own = NOW;
    nowMs = NOW + HEARTBEAT_EVERY_MS - 1;
    expect(await mark()).toBe(NOW - 30_000);
    nowMs = NOW + HEARTBEAT_EVERY_MS;
    expect(await mark()).toBe(NOW - 20_000);
    expect(reads).toBe(3);
    answer = new Error('InfluxDB is not reachable');
    nowMs = NOW + 2 * HEARTBEAT_EVERY_MS;
    expect(await mark()).toBe(NOW - 20_000);
  });
});
