// Availability of one server in one window (sla-terms.md rules 2-4), from observation runs.
//
// Per (location, check): an observation is fresh for staleAfter after its time, until a newer one arrives.
// A run of failures confirms as down only with at least `confirmations` observations, each less than
// staleAfter after the previous (a stale gap breaks a run: the daemon saw nothing in between). A confirmed
// run is down from its first failure until the next successful probe, or, when none follows within
// staleAfter, until its last failure goes stale. Unconfirmed failures count as up while fresh.
// Per location, a server is down when any of its checks is down, up when any is up, else unknown.
// Across locations it is down while at least `quorum` (default: a strict majority) of the locations with fresh
// data see it down; with no fresh location it is unmonitored, which counts as available (rule 4).
// Everything is measured only inside eligible time: the window, cut to coverage, minus maintenance.
// People's records come last (see IncidentKind): reported outages are united with the probes' downtime, and
// monitoring-fault windows cut the probes' downtime and freshness out; a report wins over a fault.
// Callers pass runs from confirmations x staleAfter before the window to the same after it, so that a run
// crossing the window's edge is judged exactly as it would be in the middle of a month.
import { at } from './at.js';
import { containsInstant, intersectIntervals, mergeIntervals, subtractIntervals, totalMs } from './intervals.js';
import type {
  AvailabilityRules,
  IncidentEffect,
  IncidentWindow,
  Interval,
  LateMaintenance,
  ObservationRun,
  ServerAvailability,
} from './types.js';

export interface AvailabilityInput {
  window: Interval;
  /** Coverage start (inclusive), epoch ms. */
  sinceMs?: number;
  /** Coverage end (exclusive), epoch ms. */
  untilMs?: number;
  /** Maintenance excluded from eligible time (announced in time). */
  maintenance: readonly Interval[];
  /** Maintenance announced too late: counted as eligible, only reported (clipped to coverage). */
  lateMaintenance?: readonly LateMaintenance[];
  runs: readonly ObservationRun[];
  rules: AvailabilityRules;
  /** Reported outages and monitoring faults of this server (any that touch the window). */
  incidents?: readonly IncidentWindow[];
}

type SegmentState = 'up' | 'down';

interface Segment {
  track: number;
  location: number;
  state: SegmentState;
  fromMs: number;
  toMs: number;
}

/**
 * Whether what begins at `firstMs` with outcome `up` (an observation, or a run) continues `run` of the same series: the
 * same outcome, less than staleAfter after the run's last observation.
 */
export const continuesRun = (run: ObservationRun, up: boolean, firstMs: number, staleAfterMs: number) =>
  run.up === up && firstMs - run.lastMs < staleAfterMs;

/** Sorts runs per (location, check) and merges neighbours of equal outcome that are closer than staleAfter. */
export function normalizeRuns(runs: readonly ObservationRun[], staleAfterMs: number): ObservationRun[][] {
  const byTrack = new Map<string, ObservationRun[]>();
  for (const run of runs) {
    const key = `${run.location}\u0000${run.check}`;
    let list = byTrack.get(key);
    if (!list) {
      list = [];
      byTrack.set(key, list);
    }
    list.push(run);
  }
  const tracks: ObservationRun[][] = [];
  for (const [, list] of [...byTrack.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const sorted = list.slice().sort((a, b) => a.firstMs - b.firstMs || a.lastMs - b.lastMs);
    const merged: ObservationRun[] = [];
    for (const run of sorted) {
      const last = merged[merged.length - 1];
      if (last && continuesRun(last, run.up, run.firstMs, staleAfterMs)) {
        if (run.lastMs > last.lastMs) last.lastMs = run.lastMs;
        last.count += run.count;
      } else if (last && run.firstMs <= last.lastMs) {
        // Two outcomes at the same instant (a duplicate with another result): keep the earlier-sorted one.
      } else {
        merged.push({ ...run });
      }
    }
    tracks.push(merged);
  }
  return tracks;
}

/** Up/down segments of one (location, check) track; time not covered by a segment is unknown (stale). */
function trackSegments(
  runs: readonly ObservationRun[],
  rules: AvailabilityRules,
  track: number,
  location: number,
): Segment[] {
  const segments: Segment[] = [];
  for (let i = 0; i < runs.length; i++) {
    const run = at(runs, i, 'run');
    const next = runs[i + 1];
    const freshUntil = next ? Math.min(run.lastMs + rules.staleAfterMs, next.firstMs) : run.lastMs + rules.staleAfterMs;
    const state: SegmentState = !run.up && run.count >= rules.confirmations ? 'down' : 'up';
    const last = segments[segments.length - 1];
    if (last && last.state === state && last.toMs === run.firstMs) last.toMs = freshUntil;
    else segments.push({ track, location, state, fromMs: run.firstMs, toMs: freshUntil });
  }
  return segments;
}

/** Server-level down intervals and fresh (monitored) intervals, before eligibility is applied. */
function combineTracks(
  tracks: readonly ObservationRun[][],
  rules: AvailabilityRules,
): { down: Interval[]; fresh: Interval[] } {
  const locationIndex = new Map<string, number>();
  const segments: Segment[] = [];
  tracks.forEach((runs, track) => {
    const first = runs[0];
    if (!first) return;
    let location = locationIndex.get(first.location);
    if (location === undefined) {
      location = locationIndex.size;
      locationIndex.set(first.location, location);
    }
    segments.push(...trackSegments(runs, rules, track, location));
  });

  // Sweep over segment starts and ends; at each instant recount what changed.
  const events: { timeMs: number; segment: Segment; delta: 1 | -1 }[] = [];
  for (const segment of segments) {
    events.push({ timeMs: segment.fromMs, segment, delta: 1 });
    events.push({ timeMs: segment.toMs, segment, delta: -1 });
  }
  events.sort((a, b) => a.timeMs - b.timeMs);

  const locations = locationIndex.size;
  const upChecks = new Int32Array(locations);
  const downChecks = new Int32Array(locations);
  let freshLocations = 0;
  let downLocations = 0;
  const down: Interval[] = [];
  const fresh: Interval[] = [];
  let openDownFrom: number | undefined;
  let openFreshFrom: number | undefined;

  for (let i = 0; i < events.length; ) {
    const timeMs = at(events, i, 'event').timeMs;
    for (; i < events.length && at(events, i, 'event').timeMs === timeMs; i++) {
      const { segment, delta } = at(events, i, 'event');
      const l = segment.location;
      let ups = at(upChecks, l, 'location');
      let downs = at(downChecks, l, 'location');
      const wasFresh = ups + downs > 0;
      const wasDown = downs > 0;
      if (segment.state === 'down') {
        downs += delta;
        downChecks[l] = downs;
      } else {
        ups += delta;
        upChecks[l] = ups;
      }
      const isFresh = ups + downs > 0;
      const isDown = downs > 0;
      freshLocations += Number(isFresh) - Number(wasFresh);
      downLocations += Number(isDown) - Number(wasDown);
    }
    const quorum = rules.quorum ?? Math.floor(freshLocations / 2) + 1;
    const serverDown = freshLocations > 0 && downLocations >= quorum;
    const serverFresh = freshLocations > 0;
    if (serverDown && openDownFrom === undefined) openDownFrom = timeMs;
    if (!serverDown && openDownFrom !== undefined) {
      down.push({ fromMs: openDownFrom, toMs: timeMs });
      openDownFrom = undefined;
    }
    if (serverFresh && openFreshFrom === undefined) openFreshFrom = timeMs;
    if (!serverFresh && openFreshFrom !== undefined) {
      fresh.push({ fromMs: openFreshFrom, toMs: timeMs });
      openFreshFrom = undefined;
    }
  }
  return { down, fresh };
}

/** Eligible time of a server in a window: coverage minus maintenance (rule 2), with its parts. */
export function eligibleIntervals(input: Pick<AvailabilityInput, 'window' | 'sinceMs' | 'untilMs' | 'maintenance'>): {
  covered: Interval[];
  maintenance: Interval[];
  eligible: Interval[];
} {
  const fromMs = Math.max(input.window.fromMs, input.sinceMs ?? -Infinity);
  const toMs = Math.min(input.window.toMs, input.untilMs ?? Infinity);
  const covered = toMs > fromMs ? [{ fromMs, toMs }] : [];
  const maintenance = intersectIntervals(mergeIntervals(input.maintenance), covered);
  return { covered, maintenance, eligible: subtractIntervals(covered, maintenance) };
}

/** Computes eligible time, downtime, unmonitored time and the outages of one server in one window. */
export function computeAvailability(input: AvailabilityInput): ServerAvailability {
  const { rules } = input;
  if (!Number.isInteger(rules.confirmations) || rules.confirmations < 1)
    throw new Error('confirmations must be a whole number >= 1');
  if (!Number.isInteger(rules.staleAfterMs) || rules.staleAfterMs < 1)
    throw new Error('staleAfterMs must be a whole number >= 1');
  const { covered, maintenance, eligible } = eligibleIntervals(input);
  const probes = combineTracks(normalizeRuns(input.runs, rules.staleAfterMs), rules);
  const window = [input.window];
  const incidents = (input.incidents ?? []).filter((i) => intersectIntervals([i], window).length > 0);
  const reported = mergeIntervals(incidents.filter((i) => i.kind === 'reported'));
  const faults = mergeIntervals(incidents.filter((i) => i.kind === 'monitoring-fault'));
  const probeDownKept = subtractIntervals(probes.down, faults);
  const down = mergeIntervals([...probeDownKept, ...reported]);
  // A reported outage is known time (down), so it is never also unmonitored.
  const known = mergeIntervals([...subtractIntervals(probes.fresh, faults), ...reported]);
  const outages = intersectIntervals(down, eligible);
  const unmonitored = subtractIntervals(eligible, known);
  // Listed where it was counted: inside coverage, and not also inside a window announced in time.
  const late = (input.lateMaintenance ?? []).flatMap((window) =>
    subtractIntervals(intersectIntervals([window], covered), maintenance).map((part) => ({ ...window, ...part })),
  );
  return {
    coveredMs: totalMs(covered),
    maintenanceMs: totalMs(maintenance),
    eligibleMs: totalMs(eligible),
    downtimeMs: totalMs(outages),
    unmonitoredMs: totalMs(unmonitored),
    outages,
    unmonitored,
    maintenance,
    downAtEnd: containsInstant(down, input.window.toMs - 1),
    ...(incidents.length > 0
      ? {
          incidentEffects: {
            reportedDowntimeMs: totalMs(intersectIntervals(subtractIntervals(reported, probeDownKept), eligible)),
            excludedDowntimeMs: totalMs(
              intersectIntervals(subtractIntervals(intersectIntervals(probes.down, faults), reported), eligible),
            ),
            incidents: incidents
              .map((incident): IncidentEffect => {
                const own = intersectIntervals([incident], window);
                // One part: only incidents that touch the window are kept above.
                const part = at(own, 0, `incident ${incident.id} inside the window`);
                const changed =
                  incident.kind === 'reported'
                    ? subtractIntervals(own, probeDownKept)
                    : subtractIntervals(intersectIntervals(probes.down, own), reported);
                return {
                  ...incident,
                  fromMs: part.fromMs,
                  toMs: part.toMs,
                  effectMs: totalMs(intersectIntervals(changed, eligible)),
                };
              })
              .sort((a, b) => a.fromMs - b.fromMs || a.id - b.id),
          },
        }
      : {}),
    ...(late.length > 0 ? { lateMaintenance: late } : {}),
  };
}
