// People's records that change what the probes say, kept in the state database: incidents (outages customers
// reported, and our own monitoring's faults) and announced maintenance windows, with the revisions each change asks
// of the months it touches. Only this module reads and writes their tables (schema: schema.ts). Nothing is deleted
// or edited: withdrawing an incident or cancelling a window records who, when and why beside it, once.
import type { IncidentKind } from '../sla/types.js';
import { openReadOnlyDatabase, sqliteDataVersion, type SqliteDatabase } from '../sqlite.js';
import { openStateDatabase } from './schema.js';

/** Who took a record back, when and why. */
export interface Revocation {
  atMs: number;
  by: string;
  reason: string;
}

export interface IncidentRecord {
  id: number;
  serverId: string;
  kind: IncidentKind;
  fromMs: number;
  toMs: number;
  reason: string;
  /** The customer's ticket, when the incident came from one. */
  ticket?: string;
  recordedAtMs: number;
  recordedBy: string;
  withdrawn?: Revocation;
}

export interface MaintenanceRecord {
  id: number;
  serverId: string;
  fromMs: number;
  toMs: number;
  reason: string;
  /** When the customer was told: when it was recorded, unless an earlier announcement made elsewhere was recorded. */
  announcedAtMs: number;
  announcedBy: string;
  /** When it entered the records (an announcedAt before this was made by other means, e.g. a mail). */
  recordedAtMs: number;
  cancelled?: Revocation;
}

export type NewIncident = Omit<IncidentRecord, 'id' | 'withdrawn'>;
export type NewMaintenance = Omit<MaintenanceRecord, 'id' | 'cancelled'>;

/** A request the records refuse: `not-found` (no such id) or `conflict` (already withdrawn or cancelled). */
export class RecordError extends Error {
  constructor(
    readonly code: 'not-found' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'RecordError';
  }
}

/** A time range and, optionally, the servers asked about. */
export interface RecordQuery {
  fromMs?: number;
  toMs?: number;
  servers?: readonly string[];
}

/** What the month computations read: records touching a range, withdrawn and cancelled ones included. */
export interface OperatorRecordsReader {
  incidents(query?: RecordQuery): IncidentRecord[];
  maintenance(query?: RecordQuery): MaintenanceRecord[];
}

/** The months a change touches, and why they are revised; from the record as stored (its id known). */
export type RevisionRequest<R> = (record: R) => { months: readonly string[]; reason: string; by: string; atMs: number };

/**
 * The months that owe a pass through the close lifecycle because people's records changed. Each change's request is
 * written in the change's own transaction; a close or restatement that read the records after it settles it.
 */
export interface PendingRevisions {
  /** The month's open requests: the latest id (read it before the records), and their reasons in order. */
  pending(month: string): { upToId: number; reasons: string[] } | undefined;
  /** Settles the month's requests up to `upToId` (those the figures now include). */
  settle(month: string, upToId: number, nowMs: number): void;
  /** Months with open requests, oldest first. */
  pendingMonths(): string[];
}

export interface OperatorRecords extends OperatorRecordsReader, PendingRevisions {
  readonly description: string;
  addIncident(incident: NewIncident, revise: RevisionRequest<IncidentRecord>): IncidentRecord;
  withdrawIncident(id: number, revocation: Revocation, revise: RevisionRequest<IncidentRecord>): IncidentRecord;
  incident(id: number): IncidentRecord | undefined;
  announceMaintenance(window: NewMaintenance, revise: RevisionRequest<MaintenanceRecord>): MaintenanceRecord;
  cancelMaintenance(id: number, revocation: Revocation, revise: RevisionRequest<MaintenanceRecord>): MaintenanceRecord;
  maintenanceWindow(id: number): MaintenanceRecord | undefined;
  close(): void;
}

/** Records for computations that have none (benchmarks, and tests of the probes alone). */
export const NO_OPERATOR_RECORDS: OperatorRecordsReader = { incidents: () => [], maintenance: () => [] };

/** No requests, for closers that serve no record changes (benchmarks, tests of the close alone). */
export const NO_PENDING_REVISIONS: PendingRevisions = {
  pending: () => undefined,
  settle: () => undefined,
  pendingMonths: () => [],
};

interface IncidentRow {
  id: number;
  server_id: string;
  kind: IncidentKind;
  from_ms: number;
  to_ms: number;
  reason: string;
  ticket: string | null;
  recorded_at_ms: number;
  recorded_by: string;
  withdrawn_at_ms: number | null;
  withdrawn_by: string | null;
  withdrawn_reason: string | null;
}

interface MaintenanceRow {
  id: number;
  server_id: string;
  from_ms: number;
  to_ms: number;
  reason: string;
  announced_at_ms: number;
  announced_by: string;
  recorded_at_ms: number;
  cancelled_at_ms: number | null;
  cancelled_by: string | null;
  cancelled_reason: string | null;
}

const revocation = (
  atMs: number | null,
  by: string | null,
  reason: string | null,
): { atMs: number; by: string; reason: string } | undefined =>
  atMs === null ? undefined : { atMs, by: by ?? '', reason: reason ?? '' };

const toIncident = (row: IncidentRow): IncidentRecord => {
  const withdrawn = revocation(row.withdrawn_at_ms, row.withdrawn_by, row.withdrawn_reason);
  return {
    id: row.id,
    serverId: row.server_id,
    kind: row.kind,
    fromMs: row.from_ms,
    toMs: row.to_ms,
    reason: row.reason,
    ...(row.ticket !== null ? { ticket: row.ticket } : {}),
    recordedAtMs: row.recorded_at_ms,
    recordedBy: row.recorded_by,
    ...(withdrawn ? { withdrawn } : {}),
  };
};

const toMaintenance = (row: MaintenanceRow): MaintenanceRecord => {
  const cancelled = revocation(row.cancelled_at_ms, row.cancelled_by, row.cancelled_reason);
  return {
    id: row.id,
    serverId: row.server_id,
    fromMs: row.from_ms,
    toMs: row.to_ms,
    reason: row.reason,
    announcedAtMs: row.announced_at_ms,
    announcedBy: row.announced_by,
    recordedAtMs: row.recorded_at_ms,
    ...(cancelled ? { cancelled } : {}),
  };
};

/** Rows of `table` touching the query's range, for its servers, by start then id. */
function queryRows<R extends { server_id: string }>(db: SqliteDatabase, table: string, query: RecordQuery = {}): R[] {
  const rows = db
    .prepare(`SELECT * FROM ${table} WHERE to_ms > ? AND from_ms < ? ORDER BY from_ms, id`)
    .all(query.fromMs ?? Number.MIN_SAFE_INTEGER, query.toMs ?? Number.MAX_SAFE_INTEGER) as R[];
  if (!query.servers) return rows;
  const wanted = new Set(query.servers);
  return rows.filter((row) => wanted.has(row.server_id));
}

/** A record read back inside the transaction that wrote it: missing only if that write did not happen. */
function writtenRecord<R>(record: R | undefined, what: string): R {
  if (record === undefined) throw new Error(`${what} is not in the state database right after it was written`);
  return record;
}

/** OperatorRecords in the state database file (state.path), shared with the month-close records. */
export class SqliteOperatorRecords implements OperatorRecords {
  readonly description: string;

  private constructor(
    private readonly db: SqliteDatabase,
    path: string,
  ) {
    this.description = `state database ${path}`;
  }

  /** Opens (creating on first use) the state database at `path`. */
  static open(path: string): SqliteOperatorRecords {
    return new SqliteOperatorRecords(openStateDatabase(path), path);
  }

  /** Opens the state database at `path` read-only: a computation's own reader (the daemon writes it). */
  static openReadOnly(path: string): SqliteOperatorRecords {
    return new SqliteOperatorRecords(openReadOnlyDatabase(path, 'the state database'), path);
  }

  /** Changes whenever another connection commits to the state database (see sqliteDataVersion). */
  dataVersion(): number {
    return sqliteDataVersion(this.db);
  }

  addIncident(incident: NewIncident, revise: RevisionRequest<IncidentRecord>): IncidentRecord {
    return this.db
      .transaction(() => {
        const { lastInsertRowid } = this.db
          .prepare(
            'INSERT INTO incidents (server_id, kind, from_ms, to_ms, reason, ticket, recorded_at_ms, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          )
          .run(
            incident.serverId,
            incident.kind,
            incident.fromMs,
            incident.toMs,
            incident.reason,
            incident.ticket ?? null,
            incident.recordedAtMs,
            incident.recordedBy,
          );
        return this.requestRevisions(
          writtenRecord(this.incident(Number(lastInsertRowid)), `incident ${lastInsertRowid}`),
          revise,
        );
      })
      .immediate();
  }

  withdrawIncident(id: number, how: Revocation, revise: RevisionRequest<IncidentRecord>): IncidentRecord {
    return this.db
      .transaction(() => {
        const found = this.incident(id);
        if (!found) throw new RecordError('not-found', `no incident ${id}`);
        if (found.withdrawn)
          throw new RecordError(
            'conflict',
            `incident ${id} was already withdrawn on ${new Date(found.withdrawn.atMs).toISOString()} by ${found.withdrawn.by}: ${found.withdrawn.reason}`,
          );
        this.db
          .prepare('UPDATE incidents SET withdrawn_at_ms = ?, withdrawn_by = ?, withdrawn_reason = ? WHERE id = ?')
          .run(how.atMs, how.by, how.reason, id);
        return this.requestRevisions(writtenRecord(this.incident(id), `incident ${id}`), revise);
      })
      .immediate();
  }

  /** Writes the change's revision requests (inside the change's transaction) and returns the record. */
  private requestRevisions<R>(record: R, revise: RevisionRequest<R>): R {
    const request = revise(record);
    const insert = this.db.prepare(
      'INSERT INTO pending_revisions (month, reason, requested_at_ms, requested_by) VALUES (?, ?, ?, ?)',
    );
    for (const month of request.months) insert.run(month, request.reason, request.atMs, request.by);
    return record;
  }

  pending(month: string): { upToId: number; reasons: string[] } | undefined {
    const rows = this.db
      .prepare('SELECT id, reason FROM pending_revisions WHERE month = ? AND settled_at_ms IS NULL ORDER BY id')
      .all(month) as { id: number; reason: string }[];
    const last = rows.at(-1);
    return last === undefined ? undefined : { upToId: last.id, reasons: rows.map((r) => r.reason) };
  }

  settle(month: string, upToId: number, nowMs: number): void {
    this.db
      .prepare('UPDATE pending_revisions SET settled_at_ms = ? WHERE month = ? AND id <= ? AND settled_at_ms IS NULL')
      .run(nowMs, month, upToId);
  }

  pendingMonths(): string[] {
    return this.db
      .prepare('SELECT DISTINCT month FROM pending_revisions WHERE settled_at_ms IS NULL ORDER BY month')
      .pluck()
      .all() as string[];
  }

  incident(id: number): IncidentRecord | undefined {
    const row = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as IncidentRow | undefined;
    return row && toIncident(row);
  }

  incidents(query?: RecordQuery): IncidentRecord[] {
    return queryRows<IncidentRow>(this.db, 'incidents', query).map(toIncident);
  }

  announceMaintenance(window: NewMaintenance, revise: RevisionRequest<MaintenanceRecord>): MaintenanceRecord {
    return this.db
      .transaction(() => {
        const { lastInsertRowid } = this.db
          .prepare(
            'INSERT INTO maintenance_announcements (server_id, from_ms, to_ms, reason, announced_at_ms, announced_by, recorded_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
          )
          .run(
            window.serverId,
            window.fromMs,
            window.toMs,
            window.reason,
            window.announcedAtMs,
            window.announcedBy,
            window.recordedAtMs,
          );
        return this.requestRevisions(
          writtenRecord(this.maintenanceWindow(Number(lastInsertRowid)), `maintenance ${lastInsertRowid}`),
          revise,
        );
      })
      .immediate();
  }

  cancelMaintenance(id: number, how: Revocation, revise: RevisionRequest<MaintenanceRecord>): MaintenanceRecord {
    return this.db
      .transaction(() => {
        const found = this.maintenanceWindow(id);
        if (!found) throw new RecordError('not-found', `no announced maintenance ${id}`);
        if (found.cancelled)
          throw new RecordError(
            'conflict',
            `maintenance ${id} was already cancelled on ${new Date(found.cancelled.atMs).toISOString()} by ${found.cancelled.by}: ${found.cancelled.reason}`,
          );
        this.db
          .prepare(
            'UPDATE maintenance_announcements SET cancelled_at_ms = ?, cancelled_by = ?, cancelled_reason = ? WHERE id = ?',
          )
          .run(how.atMs, how.by, how.reason, id);
        return this.requestRevisions(writtenRecord(this.maintenanceWindow(id), `maintenance ${id}`), revise);
      })
      .immediate();
  }

  maintenanceWindow(id: number): MaintenanceRecord | undefined {
    const row = this.db.prepare('SELECT * FROM maintenance_announcements WHERE id = ?').get(id) as
      | MaintenanceRow
      | undefined;
    return row && toMaintenance(row);
  }

  maintenance(query?: RecordQuery): MaintenanceRecord[] {
    return queryRows<MaintenanceRow>(this.db, 'maintenance_announcements', query).map(toMaintenance);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
