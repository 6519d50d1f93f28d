// People's records change what a month's evidence says: an incident recorded or withdrawn, maintenance announced
// or cancelled. Each change is recorded together with a revision request for every month it touches (one
// transaction), then each month goes through the close lifecycle, so nothing issued changes silently: an issued
// month is restated (with the changes as its reason; held for approval when it lowers a credit), a month waiting for
// review gets a new draft that replaces the held one, and a month not closed yet closes with it. A request that
// cannot be served now (another process closing the month, evidence on its way, a crash) stays, and the daemon's
// month-end job serves it.
import type { AppConfig } from '../config/types.js';
import { isAbortOf } from '../concurrency.js';
import { systemClock, type Clock } from '../clock.js';
import { announcedInTime } from '../sla/maintenance.js';
import { monthContaining, nextMonth } from '../sla/month.js';
import type {
  IncidentRecord,
  MaintenanceRecord,
  NewIncident,
  NewMaintenance,
  OperatorRecords,
} from '../state/operator-records.js';
import { iso } from './json.js';
import type { MonthCloser, RevisionFollowUp } from './month-closer.js';

/** The longest window a record may span. */
const LONGEST_RECORD_MS = 400 * 86_400_000;

/** A request the records cannot take as given (unknown server, an empty reason, a window that ends before it starts). */
export class RecordInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordInputError';
  }
}

export interface RecordChange<R> {
  record: R;
  /** What became of each month the change touches, oldest first. */
  months: RevisionFollowUp[];
}

/** An incident as asked for: the record without who and when (the keeper adds them). */
export type IncidentInput = Omit<NewIncident, 'recordedAtMs' | 'recordedBy'>;

/** A window as asked for; `announcedAtMs` is an announcement made earlier by other means (default now, never later). */
export type MaintenanceInput = Omit<NewMaintenance, 'announcedAtMs' | 'announcedBy' | 'recordedAtMs'> & {
  announcedAtMs?: number;
};

export interface RecordKeeper {
  addIncident(input: IncidentInput, by: string): Promise<RecordChange<IncidentRecord>>;
  withdrawIncident(id: number, reason: string, by: string): Promise<RecordChange<IncidentRecord>>;
  /** `late`: announced with less notice than sla.maintenanceNotice, so its time will count as eligible. */
  announceMaintenance(
    input: MaintenanceInput,
    by: string,
  ): Promise<RecordChange<MaintenanceRecord> & { late: boolean }>;
  cancelMaintenance(id: number, reason: string, by: string): Promise<RecordChange<MaintenanceRecord>>;
}

/** The months ('YYYY-MM') a window [fromMs, toMs) touches, in the configured time zone. */
export function monthsTouched(config: AppConfig, fromMs: number, toMs: number): string[] {
  const last = monthContaining(toMs - 1, config.timeZone);
  const months: string[] = [];
  for (let month = monthContaining(fromMs, config.timeZone); ; month = nextMonth(month)) {
    months.push(month);
    if (month === last) return months;
  }
}

/** Why a month's follow-up was not done: the daemon stopped first. */
const CUT_SHORT = 'the daemon stopped before the revision was done: it is owed, and taken up at the next start';

export function createRecordKeeper(deps: {
  config: AppConfig;
  operatorRecords: OperatorRecords;
  closer: MonthCloser;
  clock?: Clock;
  /**
   * Aborted when the daemon stops: a follow-up still waiting for evidence or computing ends at once. The change is
   * recorded by then, and so is the revision it owes, which the close instance takes up at its next start.
   */
  signal?: AbortSignal;
}): RecordKeeper {
  const { config, operatorRecords, closer, signal } = deps;
  const clock = deps.clock ?? systemClock;

  const checkWindow = (input: { serverId: string; fromMs: number; toMs: number; reason: string }) => {
    if (!config.servers.has(input.serverId))
      throw new RecordInputError(`server "${input.serverId}" is not in the configuration (${config.sourcePath})`);
    if (!Number.isSafeInteger(input.fromMs) || !Number.isSafeInteger(input.toMs))
      throw new RecordInputError('from and to must be times');
    if (input.toMs <= input.fromMs)
      throw new RecordInputError(`"to" (${iso(input.toMs)}) must be after "from" (${iso(input.fromMs)})`);
    if (input.toMs - input.fromMs > LONGEST_RECORD_MS) throw new RecordInputError('a window may span at most 400 days');
    if (input.reason.trim() === '')
      throw new RecordInputError('a reason is required (it is shown in the reports and kept in the records)');
  };
  const checkReason = (reason: string, what: string) => {
    if (reason.trim() === '') throw new RecordInputError(`${what} needs a reason (it is kept in the records)`);
  };

  /** The revision request of a change: every month its window touches, with the change as the reason. */
  const request =
    <R extends { fromMs: number; toMs: number }>(by: string, reasonOf: (record: R) => string) =>
    (record: R) => ({
      months: monthsTouched(config, record.fromMs, record.toMs),
      reason: reasonOf(record),
      by,
      atMs: clock.now(),
    });

  /** Takes every month of the window through the close lifecycle, oldest first. */
  const followUp = async (record: { fromMs: number; toMs: number }, by: string): Promise<RevisionFollowUp[]> => {
    const out: RevisionFollowUp[] = [];
    for (const month of monthsTouched(config, record.fromMs, record.toMs)) {
      if (signal?.aborted) {
        out.push({ month, action: 'none', why: CUT_SHORT });
        continue;
      }
      try {
        out.push(await closer.revise(month, { by, ...(signal ? { signal } : {}) }));
      } catch (error) {
        // Cut short by the stop: the record stands and its revision is owed; answering an error would invite the
        // caller to record the change twice.
        if (!isAbortOf(signal, error)) throw error;
        out.push({ month, action: 'none', why: CUT_SHORT });
      }
    }
    return out;
  };

  const describeIncident = (i: IncidentRecord) =>
    i.kind === 'reported'
      ? `reported outage of ${i.serverId}${i.ticket ? ` (ticket ${i.ticket})` : ''}`
      : `monitoring fault on ${i.serverId}${i.ticket ? ` (ticket ${i.ticket})` : ''}`;

  return {
    async addIncident(input, by) {
      checkWindow(input);
      if (input.kind !== 'reported' && input.kind !== 'monitoring-fault')
        throw new RecordInputError(`kind must be reported or monitoring-fault, not "${String(input.kind)}"`);
      // Money follows the record: an end guessed into the future would count downtime that has not happened.
      if (input.toMs > clock.now())
        throw new RecordInputError(
          `an incident is something that happened: "to" (${iso(input.toMs)}) is in the future; record it up to now and add the rest once it is over`,
        );
      const record = operatorRecords.addIncident(
        {
          ...input,
          ...(input.ticket?.trim() ? { ticket: input.ticket.trim() } : {}),
          reason: input.reason.trim(),
          recordedAtMs: clock.now(),
          recordedBy: by,
        },
        request(
          by,
          (r: IncidentRecord) =>
            `incident ${r.id} recorded: ${describeIncident(r)}, ${iso(r.fromMs)} to ${iso(r.toMs)}: ${r.reason}`,
        ),
      );
      return { record, months: await followUp(record, by) };
    },
    async withdrawIncident(id, reason, by) {
      checkReason(reason, 'withdrawing an incident');
      const record = operatorRecords.withdrawIncident(
        id,
        { atMs: clock.now(), by, reason: reason.trim() },
        request(by, (r: IncidentRecord) => `incident ${r.id} withdrawn (${describeIncident(r)}): ${reason.trim()}`),
      );
      return { record, months: await followUp(record, by) };
    },
    async announceMaintenance(input, by) {
      checkWindow(input);
      const now = clock.now();
      const announcedAtMs = input.announcedAtMs ?? now;
      if (announcedAtMs > now)
        throw new RecordInputError(
          `announcedAt (${iso(announcedAtMs)}) is in the future; an announcement is recorded once it is made`,
        );
      const record = operatorRecords.announceMaintenance(
        {
          serverId: input.serverId,
          fromMs: input.fromMs,
          toMs: input.toMs,
          reason: input.reason.trim(),
          announcedAtMs,
          announcedBy: by,
          recordedAtMs: now,
        },
        request(
          by,
          (r: MaintenanceRecord) =>
            `maintenance ${r.id} of ${r.serverId} announced, ${iso(r.fromMs)} to ${iso(r.toMs)}: ${r.reason}`,
        ),
      );
      return {
        record,
        months: await followUp(record, by),
        late: !announcedInTime(record, config.sla.maintenanceNoticeMs),
      };
    },
    async cancelMaintenance(id, reason, by) {
      checkReason(reason, 'cancelling maintenance');
      const record = operatorRecords.cancelMaintenance(
        id,
        { atMs: clock.now(), by, reason: reason.trim() },
        request(by, (r: MaintenanceRecord) => `maintenance ${r.id} of ${r.serverId} cancelled: ${reason.trim()}`),
      );
      return { record, months: await followUp(record, by) };
    },
  };
}
