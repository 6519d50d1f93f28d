// What the records say about recent months, for the metrics, the `months` command and GET /api/v1/months.
import { monthContaining, monthWindow, previousMonth } from '../sla/month.js';
import type { UnderMonitoredServer } from '../sla/evidence.js';
import type { CloseRecords, MonthRecord, MonthState } from '../state/close-records.js';

/** One month's close state. */
export interface MonthStatus {
  month: string;
  state: MonthState;
  revision: number;
  endMs: number;
  reason?: string;
  draftHash?: string;
  /** Servers that hold the month for review. */
  underMonitored: { customer: string; server: string; monitoredPercent: string; monitoredRatio: number }[];
  /** The latest issued revision's total and when and by whom it was issued. */
  issued?: { totalGrosze: number; closedAtMs: number; closedBy: string; dir: string };
  /** A revision is recorded but its files or journal rows are not all written yet. */
  unfinished?: boolean;
}

/** The months with a record among the last `months` months before now (newest first). */
export function recentMonthStatuses(
  records: CloseRecords,
  timeZone: string,
  nowMs: number,
  months = 13,
): MonthStatus[] {
  let oldest = monthContaining(nowMs, timeZone);
  for (let i = 1; i < months; i++) oldest = previousMonth(oldest);
  const unfinished = new Set(records.unfinishedMonths());
  return records
    .months()
    .filter((m) => m.month >= oldest)
    .map((m) => statusOf(records, m, timeZone, unfinished));
}

/** One month's status, undefined when it has no record. */
export function monthStatus(records: CloseRecords, month: string, timeZone: string): MonthStatus | undefined {
  const record = records.month(month);
  return record && statusOf(records, record, timeZone, new Set(records.unfinishedMonths()));
}

function statusOf(
  records: CloseRecords,
  m: MonthRecord,
  timeZone: string,
  unfinished: ReadonlySet<string>,
): MonthStatus {
  const servers = ((m.detail as { servers?: UnderMonitoredServer[] } | undefined)?.servers ?? []).filter(
    (s) => s.eligibleMs > 0,
  );
  const status: MonthStatus = {
    month: m.month,
    state: m.state,
    revision: m.revision,
    endMs: monthWindow(m.month, timeZone).toMs,
    underMonitored:
      m.state === 'needs-review'
        ? servers.map((s) => ({
            customer: s.customer,
            server: s.server,
            monitoredPercent: s.monitoredPercent,
            monitoredRatio: (s.eligibleMs - s.unmonitoredMs) / s.eligibleMs,
          }))
        : [],
  };
  if (m.reason !== undefined) status.reason = m.reason;
  if (m.draftHash !== undefined) status.draftHash = m.draftHash;
  const latest = m.revision > 0 ? records.latestSummary(m.month) : undefined;
  if (latest)
    status.issued = {
      totalGrosze: latest.totalGrosze,
      closedAtMs: latest.closedAtMs,
      closedBy: latest.closedBy,
      dir: latest.dir,
    };
  if (unfinished.has(m.month)) status.unfinished = true;
  return status;
}
