// Random month-to-date histories for the incremental run source's property test: observations of several servers,
// locations and checks that become visible pass by pass (late, out of order, duplicated, some behind an agent that
// announces its backlog late, so the settled mark moves back; some stamped ahead by a clock running early), people's
// records, coverage edges, and the settled marks a fleet of writers would report.
import fc from 'fast-check';
import type { Observation } from '../../src/sla/types.js';

/** October 2026 in Warsaw starts at this instant. */
export const MONTH = '2026-10';
export const MONTH_START_MS = Date.parse('2026-09-30T22:00:00Z');
const MIN = 60_000;
/** Probing every 60 s, staleAfter 3 min (3 intervals); the margin is confirmations x staleAfter. */
export const INTERVAL_MS = 60_000;
const STALE_AFTER_MS = 3 * MIN;
export const SERVERS = ['s-full', 's-since', 's-until'] as const;

const segment = fc.record({
  kind: fc.constantFrom('up', 'up', 'down', 'silent'),
  probes: fc.integer({ min: 1, max: 12 }),
});
const series = fc.record({
  server: fc.constantFrom(...SERVERS),
  // waw is the location this process probes; ams and fra reach it only through the store.
  location: fc.constantFrom('waw', 'ams', 'fra'),
  check: fc.constantFrom('', 'http'),
  startMin: fc.integer({ min: -25, max: 60 }),
  segments: fc.array(segment, { minLength: 1, maxLength: 30 }),
});
const window = fc.record({
  server: fc.constantFrom(...SERVERS),
  fromMin: fc.integer({ min: -30, max: 360 }),
  minutes: fc.integer({ min: 1, max: 120 }),
});

/** The random inputs of one history; the observation-level chances come from `seed`. */
export const scenarioArbitrary = fc.record({
  series: fc.array(series, { minLength: 2, maxLength: 8 }),
  passGapsMin: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 2, maxLength: 8 }),
  firstPassMin: fc.integer({ min: 0, max: 30 }),
  sinceMin: fc.integer({ min: 0, max: 240 }),
  untilMin: fc.integer({ min: 10, max: 300 }),
  advanceStepMin: fc.integer({ min: 0, max: 20 }),
  confirmations: fc.integer({ min: 1, max: 3 }),
  incidents: fc.array(fc.record({ window, kind: fc.constantFrom('reported' as const, 'monitoring-fault' as const) }), {
    maxLength: 3,
  }),
  maintenance: fc.array(window, { maxLength: 2 }),
  seed: fc.integer(),
});
export type ScenarioInput = typeof scenarioArbitrary extends fc.Arbitrary<infer S> ? S : never;

/** One observation of the history: when it becomes visible, and from which pass its writer's mark accounts for it. */
export interface ScheduledObservation {
  observation: Observation;
  /** The first pass that sees it (passes.length: none does). */
  visibleAtPass: number;
  /** The first pass whose settled mark is at or before it while it is not visible yet. */
  announcedAtPass: number;
}

export interface Scenario {
  confirmations: number;
  /** confirmations x staleAfter: how far before the settled mark the incremental source's cut stays. */
  marginMs: number;
  /** The instant of each pass (the refresh's asOf). */
  passesMs: number[];
  observations: ScheduledObservation[];
  /** The settled mark given at each pass. */
  settledMs: number[];
  /** Whether the cache is reset on demand before each pass. */
  resetBefore: boolean[];
  sinceMs: number;
  untilMs: number;
}

/** A small deterministic generator (mulberry32), so one seed gives one history. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Builds the history of `input`. */
export function buildScenario(input: ScenarioInput): Scenario {
  const rnd = random(input.seed);
  const marginMs = input.confirmations * STALE_AFTER_MS;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const passesMs: number[] = [];
  let passMs = MONTH_START_MS + input.firstPassMin * MIN + 7_000;
  for (const gap of [0, ...input.passGapsMin]) {
    passMs += gap * MIN;
    passesMs.push(passMs);
  }
  const lastPassMs = passesMs[passesMs.length - 1] ?? passMs;
  const firstPassAtOrAfter = (timeMs: number) => {
    const index = passesMs.findIndex((p) => p >= timeMs);
    return index < 0 ? passesMs.length : index;
  };
  const observations: ScheduledObservation[] = [];
  /** `aheadMs`: the writer's clock runs ahead, so its observations arrive before the instants they are stamped with. */
  const schedule = (observation: Observation, aheadMs: number) => {
    const chance = rnd();
    // Mostly visible within seconds; some late (a slow writer); some behind a writer that restarted with a
    // backlog and says so only a pass or two before it arrives.
    const delayMs =
      chance < 0.75 ? Math.floor(rnd() * 30_000) : chance < 0.93 ? MIN + Math.floor(rnd() * 90 * MIN) : 10 * MIN;
    const visibleAtPass = firstPassAtOrAfter(
      observation.timeMs - aheadMs + delayMs + (chance >= 0.93 ? rnd() * 120 * MIN : 0),
    );
    const announcedAtPass =
      chance >= 0.93 && visibleAtPass > 0 ? Math.max(0, visibleAtPass - 1 - Math.floor(rnd() * 2)) : 0;
    observations.push({ observation, visibleAtPass, announcedAtPass });
  };
  for (const s of input.series) {
    // Some writers' clocks run ahead by more than the margin: a pass then sees observations stamped after its end.
    const aheadMs = rnd() < 0.2 ? (5 + Math.floor(rnd() * 30)) * MIN : 0;
    let timeMs = MONTH_START_MS + s.startMin * MIN;
    for (const seg of s.segments) {
      for (let i = 0; i < seg.probes && timeMs < lastPassMs; i++, timeMs += INTERVAL_MS) {
        if (seg.kind === 'silent') continue;
        // Probes land a little off their grid slot: gaps just under, at and over staleAfter all happen.
        const probeMs = timeMs + pick([0, 0, 10_000, 20_000, 59_999]);
        if (probeMs >= lastPassMs) continue;
        const up = seg.kind === 'up';
        const observation: Observation = {
          timeMs: probeMs,
          server: s.server,
          location: s.location,
          check: s.check,
          up,
        };
        if (!up) observation.error = 'timeout';
        schedule(observation, aheadMs);
        // A duplicate: the same key and outcome written again (a retried batch, a re-imported file).
        if (rnd() < 0.1) schedule({ ...observation }, aheadMs);
      }
    }
  }
  // The mark each pass sees: the earliest observation not visible yet whose writer accounts for it, at most now,
  // sometimes a little ahead (a writer's clock or mark running early by less than the margin).
  const settledMs = passesMs.map((p, pass) => {
    let markMs = p;
    for (const o of observations)
      if (o.announcedAtPass <= pass && o.visibleAtPass > pass) markMs = Math.min(markMs, o.observation.timeMs);
    return markMs + (rnd() < 0.3 ? Math.floor(rnd() * marginMs) : 0);
  });
  return {
    confirmations: input.confirmations,
    marginMs,
    passesMs,
    observations,
    settledMs,
    resetBefore: passesMs.map(() => rnd() < 0.08),
    sinceMs: MONTH_START_MS + input.sinceMin * MIN,
    untilMs: MONTH_START_MS + input.untilMin * MIN + 60 * MIN,
  };
}

/** The fixture's customers: a server covered all month, one from `sinceMs`, one until `untilMs`. */
export function scenarioYaml(scenario: Scenario): string {
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  return `
probing: { location: waw, interval: 60s, confirmations: ${scenario.confirmations} }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers:
      - { id: s-full, name: Full }
      - { id: s-since, name: Since, since: "${iso(scenario.sinceMs)}" }
  - id: beta
    name: Beta
    tier: silver
    servers: [{ id: s-until, name: Until, until: "${iso(scenario.untilMs)}" }]
`;
}
