// The people's records a month is judged by, per server: maintenance windows from the configuration file and from
// announcements (each in time for the contract's notice, or late), and the incidents not withdrawn. One place
// for both the computation and the terms snapshot, so what a revision says it used is what it used.
import type { AppConfig } from '../config/types.js';
import { announcedInTime } from '../sla/maintenance.js';
import type { Interval, IncidentWindow, LateMaintenance } from '../sla/types.js';
import type { IncidentRecord, OperatorRecordsReader } from '../state/operator-records.js';

/** A maintenance window as a month is judged by it. */
export interface MaintenanceEntry extends Interval {
  reason: string;
  /** When the customer was told; undefined for a file window marked `announced: true`. */
  announcedAtMs?: number;
  /** The announcement's id; undefined for a window from the configuration file. */
  announcementId?: number;
  /** Announced with less notice than sla.maintenanceNotice: its time is not excluded. */
  late: boolean;
}

export interface ServerRecords {
  /** Sorted by start. */
  maintenance: MaintenanceEntry[];
  /** Not withdrawn, sorted by start then id. */
  incidents: IncidentRecord[];
}

const NONE: ServerRecords = { maintenance: [], incidents: [] };

/** Every configured server's records touching `range` (servers without any are left out: see recordsOf). */
export function serverRecords(
  config: AppConfig,
  reader: OperatorRecordsReader,
  range: Interval,
): Map<string, ServerRecords> {
  const out = new Map<string, ServerRecords>();
  const of = (serverId: string) => {
    let records = out.get(serverId);
    if (!records) {
      records = { maintenance: [], incidents: [] };
      out.set(serverId, records);
    }
    return records;
  };
  const touches = (i: Interval) => i.toMs > range.fromMs && i.fromMs < range.toMs;
  const notice = config.sla.maintenanceNoticeMs;
  for (const server of config.servers.values()) {
    for (const window of server.maintenance.filter(touches)) {
      of(server.id).maintenance.push({
        fromMs: window.fromMs,
        toMs: window.toMs,
        reason: window.reason,
        ...(window.announcedAtMs !== undefined ? { announcedAtMs: window.announcedAtMs } : {}),
        late: !announcedInTime(window, notice),
      });
    }
  }
  for (const announced of reader.maintenance(range)) {
    if (announced.cancelled || !config.servers.has(announced.serverId)) continue;
    of(announced.serverId).maintenance.push({
      fromMs: announced.fromMs,
      toMs: announced.toMs,
      reason: announced.reason,
      announcedAtMs: announced.announcedAtMs,
      announcementId: announced.id,
      late: !announcedInTime(announced, notice),
    });
  }
  for (const incident of reader.incidents(range)) {
    if (incident.withdrawn || !config.servers.has(incident.serverId)) continue;
    of(incident.serverId).incidents.push(incident);
  }
  for (const records of out.values()) records.maintenance.sort((a, b) => a.fromMs - b.fromMs || a.toMs - b.toMs);
  return out;
}

/** One server's records from the map (none when it has none). */
export const recordsOf = (all: ReadonlyMap<string, ServerRecords>, serverId: string): ServerRecords =>
  all.get(serverId) ?? NONE;

/** The availability inputs the records make: excluded maintenance, late maintenance, incident windows. */
export function availabilityInputs(records: ServerRecords): {
  maintenance: Interval[];
  lateMaintenance: LateMaintenance[];
  incidents: IncidentWindow[];
} {
  return {
    maintenance: records.maintenance.filter((m) => !m.late),
    lateMaintenance: records.maintenance
      .filter((m) => m.late)
      .map((m) => ({
        fromMs: m.fromMs,
        toMs: m.toMs,
        reason: m.reason,
        ...(m.announcedAtMs !== undefined ? { announcedAtMs: m.announcedAtMs } : {}),
      })),
    incidents: records.incidents.map((i) => ({
      id: i.id,
      kind: i.kind,
      fromMs: i.fromMs,
      toMs: i.toMs,
      reason: i.reason,
      ...(i.ticket !== undefined ? { ticket: i.ticket } : {}),
    })),
  };
}
