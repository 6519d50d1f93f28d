// A generated month of observations: every server probed every 30 s, mostly up, with outages and gaps placed
// deterministically so the close has real work (confirmed downtime, unmonitored time, credits) to do.
import type { Observation } from '../../src/sla/types.js';
import { serverId } from './fleet.js';

const STEP_MS = 30_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Where server i is down or unobserved, relative to the month's start. */
function shapeOf(i: number, fromMs: number) {
  const outageStartMs = fromMs + (i % 28) * DAY_MS + ((i * 7) % 24) * HOUR_MS;
  const outages = [{ fromMs: outageStartMs, toMs: outageStartMs + ((i % 5) + 1) * 120_000 }];
  // Every tenth server also has a 5-hour outage (uptime about 99.33 %), which earns a credit in every tier.
  if (i % 10 === 0)
    outages.push({ fromMs: outageStartMs + 2 * DAY_MS, toMs: outageStartMs + 2 * DAY_MS + 5 * HOUR_MS });
  const gapFromMs = i % 25 === 3 ? fromMs + 14 * DAY_MS + 5 * HOUR_MS : Infinity;
  return { outages, gapFromMs, gapToMs: gapFromMs + 2 * HOUR_MS, phaseMs: (i * 7_919) % STEP_MS };
}

/** Observations in [fromMs, toMs) for `servers` servers, an hour of the whole fleet per yielded chunk. */
export function* monthObservations(servers: number, fromMs: number, toMs: number): Generator<Observation[]> {
  const shapes = Array.from({ length: servers }, (_, i) => shapeOf(i, fromMs));
  const ids = Array.from({ length: servers }, (_, i) => serverId(i));
  for (let hourMs = fromMs; hourMs < toMs; hourMs += HOUR_MS) {
    const chunk: Observation[] = [];
    const endMs = Math.min(toMs, hourMs + HOUR_MS);
    for (let i = 0; i < servers; i++) {
      const shape = shapes[i]!;
      for (let t = hourMs + shape.phaseMs; t < endMs; t += STEP_MS) {
        if (t >= shape.gapFromMs && t < shape.gapToMs) continue;
        const up = !shape.outages.some((o) => t >= o.fromMs && t < o.toMs);
        const observation: Observation = {
          timeMs: t,
          server: ids[i]!,
          location: 'bench',
          check: 'http',
          up,
          latencyMs: up ? 2 + (Math.floor(t / STEP_MS) % 17) : 5_000,
        };
        if (!up) observation.error = 'timeout';
        chunk.push(observation);
      }
    }
    yield chunk;
  }
}
