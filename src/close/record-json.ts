// Incidents, announced maintenance and what their changes did to months, as JSON (the CLI's --json and the API).
import { formatGrosze } from '../sla/money.js';
import { announcedInTime } from '../sla/maintenance.js';
import type { IncidentRecord, MaintenanceRecord, Revocation } from '../state/operator-records.js';
import { iso } from './json.js';
import type { RevisionFollowUp } from './month-closer.js';

const revocationJson = (r: Revocation | undefined) => (r ? { at: iso(r.atMs), by: r.by, reason: r.reason } : null);

export function incidentJson(incident: IncidentRecord) {
  return {
    id: incident.id,
    server: incident.serverId,
    kind: incident.kind,
    from: iso(incident.fromMs),
    to: iso(incident.toMs),
    durationMs: incident.toMs - incident.fromMs,
    reason: incident.reason,
    ticket: incident.ticket ?? null,
    recordedAt: iso(incident.recordedAtMs),
    recordedBy: incident.recordedBy,
    withdrawn: revocationJson(incident.withdrawn),
  };
}

/** `late`: announced with less notice than `noticeMs`, so not excluded from eligible time. */
export function maintenanceJson(window: MaintenanceRecord, noticeMs: number) {
  return {
    id: window.id,
    server: window.serverId,
    from: iso(window.fromMs),
    to: iso(window.toMs),
    durationMs: window.toMs - window.fromMs,
    reason: window.reason,
    announcedAt: iso(window.announcedAtMs),
    announcedBy: window.announcedBy,
    recordedAt: iso(window.recordedAtMs),
    late: !announcedInTime(window, noticeMs),
    cancelled: revocationJson(window.cancelled),
  };
}

/** One month's follow-up: the action taken and the close outcome, money as decimal strings. */
export function followUpJson(followUp: RevisionFollowUp) {
  if (followUp.action === 'none') return followUp;
  const { outcome } = followUp;
  return {
    action: followUp.action,
    ...outcome,
    ...('totalGrosze' in outcome ? { total: formatGrosze(outcome.totalGrosze) } : {}),
  };
}
