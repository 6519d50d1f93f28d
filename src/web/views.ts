// What the web pages show, gathered from the daemon's parts: the fleet now (the API's server views and the SLA
// snapshot's budgets and projections) and the months from the close records with each revision's files.
import { MANIFEST, manifestFileNames, revisionSubdir } from '../close/revision-files.js';
import type { ServerView } from '../http/server.js';
import type { SlaSnapshot } from '../scheduler/sla-refresh.js';
import { formatMicroPercent } from '../sla/money.js';
import type { CloseRecords } from '../state/close-records.js';
import type { MonthCredits } from '../sla/types.js';
import type { FleetServerView, FleetView, MonthListItem } from './pages.js';

/** The overview's figures: each server's state now, month to date, next bracket's budget and projected credit. */
export function fleetView(
  servers: readonly ServerView[],
  snapshot: SlaSnapshot | undefined,
  month: string,
  customerNames: ReadonlyMap<string, string>,
): FleetView {
  const sla = new Map(snapshot?.servers.map((s) => [s.server, s]) ?? []);
  return {
    month: snapshot?.month ?? month,
    ...(snapshot ? { asOfMs: snapshot.asOfMs } : {}),
    servers: servers.map((server): FleetServerView => {
      const view = sla.get(server.id);
      const base: FleetServerView = {
        id: server.id,
        name: server.name,
        customerId: server.customer,
        customerName: customerNames.get(server.customer) ?? server.customer,
        tier: server.tier,
        state: server.state,
      };
      if (!view) return base;
      // The next bracket: of those not yet crossed, the one with the least downtime left before it applies.
      const open = view.outlook.budgets
        .filter((b) => b.remainingMs >= 0)
        .sort((a, b) => a.remainingMs - b.remainingMs)[0];
      const a = view.monthToDate;
      return {
        ...base,
        monthToDate: {
          uptimePercent: snapshot?.projectedByServer.get(server.id)?.uptimePercent ?? null,
          downtimeMs: a.downtimeMs,
          unmonitoredMs: a.unmonitoredMs,
          nextBracket: open
            ? {
                belowPercent: formatMicroPercent(open.belowMicroPercent),
                creditPercentHundredths: open.creditPercentHundredths,
                remainingMs: open.remainingMs,
              }
            : null,
          projectedCreditPercentHundredths: view.projectedCreditPercentHundredths,
          projectedCreditGrosze: view.projectedCreditGrosze,
        },
      };
    }),
  };
}

/** Every month with a record, newest first, with each issued revision and its files (relative to the month's folder). */
export function monthList(records: CloseRecords, reportsDir: string): MonthListItem[] {
  return records.months().map((m) => ({
    month: m.month,
    state: m.state,
    revision: m.revision,
    revisions: records.revisionSummaries(m.month).map((r) => {
      const subdir = revisionSubdir(r.revision);
      const prefix = subdir === '' ? '' : `${subdir}/`;
      const listed = manifestFileNames(reportsDir, m.month, r.revision);
      const files = listed ? [...listed, MANIFEST] : [];
      return {
        revision: r.revision,
        kind: r.kind,
        closedAtMs: r.closedAtMs,
        reason: r.reason,
        totalGrosze: r.totalGrosze,
        files: files.map((f) => `${prefix}${f}`),
      };
    }),
  }));
}

/** The latest issued revision's figures of a month. */
export function latestFigures(
  records: CloseRecords,
  month: string,
): { revision: number; credits: MonthCredits } | undefined {
  const latest = records.latestRevision(month);
  return latest?.credits ? { revision: latest.revision, credits: latest.credits } : undefined;
}
