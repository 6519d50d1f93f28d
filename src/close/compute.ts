// The month close as an application service: read runs from the store, run the pure SLA core.
import { customersForMonth } from '../config/terms.js';
import type { AppConfig, ResolvedServer } from '../config/types.js';
import { mapWithLimit } from '../concurrency.js';
import { computeAvailability } from '../sla/availability.js';
import { computeMonthCredits } from '../sla/credits.js';
import { monthToDateWindow, monthWindow } from '../sla/month.js';
import type { Interval, MonthCredits, ServerAvailability } from '../sla/types.js';
import type { ProgressListener } from '../progress.js';
import type { OperatorRecordsReader } from '../state/operator-records.js';
import type { RunSource } from '../store/store.js';
import { availabilityInputs, recordsOf, serverRecords, type ServerRecords } from './server-records.js';

/** Where a month's evidence comes from: the probes' observations, and people's records (incidents, maintenance). */
export interface EvidenceStores {
  store: RunSource;
  operatorRecords: OperatorRecordsReader;
}

/** Servers are read in groups of this many so memory stays flat for large fleets. */
export const SERVERS_PER_READ = 200;
/** Groups read at once: a server-side store (InfluxDB) then aggregates on more than one core. */
export const READS_IN_FLIGHT = 2;

/**
 * How far before and after a window observations still decide what happens inside it: a failure run needs
 * `confirmations` probes, each within staleAfter of the last, to be judged the same at a window edge.
 */
export function runLookbackMs(config: AppConfig): number {
  return config.availability.confirmations * config.availability.staleAfterMs;
}

/** Every observation that decides a month: its window widened by the look-back on both sides. */
export function monthReadRange(config: AppConfig, month: string): Interval {
  return readRange(config, monthWindow(month, config.timeZone));
}

const readRange = (config: AppConfig, window: Interval): Interval => ({
  fromMs: window.fromMs - runLookbackMs(config),
  toMs: window.toMs + runLookbackMs(config),
});

/**
 * Availability of every configured server over a window (a month, or month to date). `records`: people's records
 * already read for the window or a wider one (a caller that also snapshots them reads them once); default: read now.
 * `onProgress` hears how many servers are done.
 */
export async function computeFleetAvailability(
  config: AppConfig,
  sources: EvidenceStores,
  window: Interval,
  records: ReadonlyMap<string, ServerRecords> = serverRecords(config, sources.operatorRecords, window),
  onProgress?: ProgressListener,
): Promise<Map<string, ServerAvailability>> {
  return computeServersAvailability(config, sources, window, [...config.servers.keys()], records, onProgress);
}

/** Availability of the named configured servers over a window, reading only their observations. */
export async function computeServersAvailability(
  config: AppConfig,
  sources: EvidenceStores,
  window: Interval,
  serverIds: readonly string[],
  records: ReadonlyMap<string, ServerRecords> = serverRecords(config, sources.operatorRecords, window),
  onProgress?: ProgressListener,
): Promise<Map<string, ServerAvailability>> {
  const { store } = sources;
  const range = readRange(config, window);
  const servers = serverIds.map((id) => {
    const server = config.servers.get(id);
    if (!server) throw new Error(`no configured server "${id}"`);
    return server;
  });
  const groups: ResolvedServer[][] = [];
  for (let i = 0; i < servers.length; i += SERVERS_PER_READ) groups.push(servers.slice(i, i + SERVERS_PER_READ));
  let serversDone = 0;
  onProgress?.({ phase: 'reading observations', done: serversDone, total: servers.length });
  const perGroup = await mapWithLimit(groups, READS_IN_FLIGHT, async (group) => {
    const runs = await store.readRuns({
      servers: group.map((s) => s.id),
      fromMs: range.fromMs,
      toMs: range.toMs,
      staleAfterMs: config.availability.staleAfterMs,
    });
    const availabilities = group.map(
      (server) =>
        [
          server.id,
          computeAvailability({
            window,
            sinceMs: server.sinceMs,
            untilMs: server.untilMs,
            ...availabilityInputs(recordsOf(records, server.id)),
            runs: runs.get(server.id) ?? [],
            rules: config.availability,
          }),
        ] as const,
    );
    serversDone += group.length;
    onProgress?.({ phase: 'reading observations', done: serversDone, total: servers.length });
    return availabilities;
  });
  // In configuration order, whatever order the reads finished in.
  const availability = new Map<string, ServerAvailability>();
  for (const group of perGroup) for (const [id, a] of group) availability.set(id, a);
  return availability;
}

/** The credits of every customer for a month ('YYYY-MM') in the configured time zone. */
export async function computeCredits(
  config: AppConfig,
  sources: EvidenceStores,
  month: string,
  records?: ReadonlyMap<string, ServerRecords>,
  onProgress?: ProgressListener,
): Promise<MonthCredits> {
  const window = monthWindow(month, config.timeZone);
  const availability = await computeFleetAvailability(config, sources, window, records, onProgress);
  onProgress?.({ phase: 'computing credits' });
  return computeMonthCredits({
    window,
    creditBase: config.sla.creditBase,
    maxCreditPercentHundredths: config.sla.maxCreditPercentHundredths,
    customers: customersForMonth(config, month),
    availability,
  });
}

/**
 * A month still running, up to `asOfMs`: each server's availability from the month's start to then, and what the
 * month would credit if it ended at that uptime (the fee base is each server's whole-month coverage). Time not yet
 * elapsed is not counted. For the month-to-date view and for drafts of a running month.
 */
export async function computeMonthToDateCredits(
  config: AppConfig,
  sources: EvidenceStores,
  month: string,
  asOfMs: number,
  records?: ReadonlyMap<string, ServerRecords>,
  onProgress?: ProgressListener,
): Promise<{ availability: Map<string, ServerAvailability>; credits: MonthCredits }> {
  const window = monthWindow(month, config.timeZone);
  const toDate = monthToDateWindow(month, config.timeZone, asOfMs);
  const toDateWindow = { fromMs: toDate.fromMs, toMs: toDate.toMs };
  const availability = await computeFleetAvailability(config, sources, toDateWindow, records, onProgress);
  onProgress?.({ phase: 'computing credits' });
  const wholeMonth = new Map<string, ServerAvailability>();
  for (const [id, monthToDate] of availability) {
    const server = config.servers.get(id);
    if (!server) throw new Error(`server "${id}" has figures but is not in the configuration`);
    const coveredMs = Math.max(
      0,
      Math.min(server.untilMs ?? window.toMs, window.toMs) - Math.max(server.sinceMs ?? window.fromMs, window.fromMs),
    );
    wholeMonth.set(id, { ...monthToDate, coveredMs });
  }
  const credits = computeMonthCredits({
    window,
    creditBase: config.sla.creditBase,
    maxCreditPercentHundredths: config.sla.maxCreditPercentHundredths,
    customers: customersForMonth(config, month),
    availability: wholeMonth,
  });
  return { availability, credits };
}
