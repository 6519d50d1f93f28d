// Generates observations for tests: regular probes with chosen down and silent stretches.
import type { Interval, Observation } from '../../src/sla/types.js';

export interface SeriesSpec {
  server: string;
  location?: string;
  check?: string;
  fromMs: number;
  toMs: number;
  everyMs: number;
  /** Probes inside these intervals fail. */
  down?: Interval[];
  /** No probes inside these intervals. */
  silent?: Interval[];
}

const inside = (t: number, intervals: Interval[] = []) => intervals.some((i) => t >= i.fromMs && t < i.toMs);

/** One observation per probe, in time order. */
export function observationsOf(spec: SeriesSpec): Observation[] {
  const out: Observation[] = [];
  for (let t = spec.fromMs; t < spec.toMs; t += spec.everyMs) {
    if (inside(t, spec.silent)) continue;
    const up = !inside(t, spec.down);
    const observation: Observation = {
      timeMs: t,
      server: spec.server,
      location: spec.location ?? 'waw',
      check: spec.check ?? '',
      up,
    };
    if (!up) observation.error = 'timeout';
    out.push(observation);
  }
  return out;
}

/** NDJSON lines, one per probe, in the import format. */
export function observationLines(spec: SeriesSpec): string[] {
  return observationsOf(spec).map((o) => {
    const line: Record<string, unknown> = {
      time: new Date(o.timeMs).toISOString(),
      server: o.server,
      location: o.location,
      up: o.up,
    };
    if (o.check) line.check = o.check;
    if (o.error) line.error = o.error;
    return JSON.stringify(line);
  });
}
