// One server's month as a timeline: what each probing location saw on its own (its runs judged with the same
// confirmations and staleness, as if it were the only location), and what the SLA counts (every location with the
// quorum, and people's records). For the web pages; the figures of a close come from compute.ts.
import type { AppConfig } from '../config/types.js';
import { computeAvailability } from '../sla/availability.js';
import type { Interval, ServerAvailability } from '../sla/types.js';
import type { EvidenceStores } from './compute.js';
import { runLookbackMs } from './compute.js';
import { availabilityInputs, recordsOf, serverRecords } from './server-records.js';

export interface TimelineRow {
  /** A location, or undefined for the row the SLA counts. */
  location?: string;
  availability: ServerAvailability;
}

export interface ServerTimeline {
  window: Interval;
  /** The part of the window the server is covered (since/until): outside it nothing is promised, nor drawn as up. */
  covered: Interval;
  /** The SLA's row first, then each location's, by name. */
  rows: TimelineRow[];
}

/** The timeline of `serverId` over `window` (a month, or a month to date). */
export async function serverTimeline(
  config: AppConfig,
  sources: EvidenceStores,
  serverId: string,
  window: Interval,
): Promise<ServerTimeline> {
  const server = config.servers.get(serverId);
  if (!server) throw new Error(`no server "${serverId}"`);
  const lookback = runLookbackMs(config);
  const runs =
    (
      await sources.store.readRuns({
        servers: [serverId],
        fromMs: window.fromMs - lookback,
        toMs: window.toMs + lookback,
        staleAfterMs: config.availability.staleAfterMs,
      })
    ).get(serverId) ?? [];
  const inputs = availabilityInputs(recordsOf(serverRecords(config, sources.operatorRecords, window), serverId));
  const base = {
    window,
    sinceMs: server.sinceMs,
    untilMs: server.untilMs,
    maintenance: inputs.maintenance,
    lateMaintenance: inputs.lateMaintenance,
  };
  const rows: TimelineRow[] = [
    { availability: computeAvailability({ ...base, incidents: inputs.incidents, runs, rules: config.availability }) },
  ];
  const locations = [...new Set(runs.map((r) => r.location))].sort();
  for (const location of locations) {
    rows.push({
      location,
      availability: computeAvailability({
        ...base,
        runs: runs.filter((r) => r.location === location),
        rules: { ...config.availability, quorum: 1 },
      }),
    });
  }
  const covered = {
    fromMs: Math.max(window.fromMs, server.sinceMs ?? window.fromMs),
    toMs: Math.min(window.toMs, server.untilMs ?? window.toMs),
  };
  return { window, covered, rows };
}
