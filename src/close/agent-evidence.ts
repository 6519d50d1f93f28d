// The other agents' evidence: each expected agent's heartbeat says up to when everything it probed is in InfluxDB.
// A month closes only when every expected agent is forwarded through the month's read range; otherwise the close
// waits (sla.evidenceWait) and then holds, naming the agents behind.
import type { AgentHeartbeat } from '../agents/heartbeat.js';
import type { EvidenceSource, Unconfirmed } from './evidence.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** What keeps one agent from covering [.., toMs): undefined when it covers it. */
export function agentShortfall(agent: string, beat: AgentHeartbeat | undefined, toMs: number): string | undefined {
  if (!beat) return `agent ${agent} has written no heartbeat to InfluxDB (is it running, with this agent name?)`;
  if (beat.forwardedThroughMs >= toMs) return undefined;
  const parked = beat.parked > 0 ? `; it has ${beat.parked} lines refused by InfluxDB and parked in its outbox` : '';
  return `agent ${agent} (${beat.location}, shard ${beat.shard}) is forwarded through ${iso(beat.forwardedThroughMs)} only, needs ${iso(toMs)}; its last heartbeat was at ${iso(beat.atMs)}${parked}`;
}

/** One evidence source for all expected agents: one read of the heartbeats per check. */
export function agentEvidence(
  agents: readonly string[],
  latestHeartbeats: () => Promise<ReadonlyMap<string, AgentHeartbeat>>,
): EvidenceSource {
  return {
    name: 'the expected agents',
    async unconfirmed(_fromMs, toMs): Promise<Unconfirmed> {
      let beats: ReadonlyMap<string, AgentHeartbeat>;
      try {
        beats = await latestHeartbeats();
      } catch (error) {
        return { waiting: 1, parked: 0, detail: `the agents' heartbeats cannot be read: ${(error as Error).message}` };
      }
      const behind = agents
        .map((agent) => agentShortfall(agent, beats.get(agent), toMs))
        .filter((s): s is string => s !== undefined);
      // Their lines are not counted here (they are in other machines' outboxes): one per agent behind.
      return behind.length === 0
        ? { waiting: 0, parked: 0 }
        : { waiting: behind.length, parked: 0, detail: behind.join('; ') };
    },
  };
}
