// Generates observation files for tests: regular probes with chosen down and silent stretches.
import type { Interval } from '../../src/sla/types.js';

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

/** NDJSON lines, one per probe, in the import format. */
export function observationLines(spec: SeriesSpec): string[] {
  const lines: string[] = [];
  for (let t = spec.fromMs; t < spec.toMs; t += spec.everyMs) {
    if (inside(t, spec.silent)) continue;
    const up = !inside(t, spec.down);
    const line: Record<string, unknown> = { time: new Date(t).toISOString(), server: spec.server, location: spec.location ?? 'waw', up };
    if (spec.check) line.check = spec.check;
    if (!up) line.error = 'timeout';
    lines.push(JSON.stringify(line));
  }
  return lines;
}
