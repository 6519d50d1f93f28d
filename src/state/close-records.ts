// The month-close records: what was issued to customers and finance, and what is held. The source of truth for
// money; the files under reports/ are renders of it. Only this module reads and writes the month-close tables
// (their schema: schema.ts).
//
// A month is `held` (not issued: evidence incomplete or the close failed; retried), `needs-review` (a draft waits
// for `approve`), `closed` (revision 1 issued) or `restated` (a later revision issued). Revisions and journal rows
// are only ever added, never changed; a revision's files and journal append are marked done once written.
import type { MonthCredits } from '../sla/types.js';
import type { TermsSnapshot } from '../close/terms-snapshot.js';
import type { SqliteDatabase } from '../sqlite.js';
import { openStateDatabase } from './schema.js';

export type MonthState = 'held' | 'needs-review' | 'closed' | 'restated';
export const MONTH_STATES: readonly MonthState[] = ['held', 'needs-review', 'closed', 'restated'];

/** How a revision came to be. */
export type RevisionKind = 'close' | 'restatement' | 'approval' | 'adopted';

export interface MonthRecord {
  month: string;
  state: MonthState;
  /** The latest issued revision; 0 while none is. */
  revision: number;
  /** Why the month is held or needs review (none once issued). */
  reason?: string;
  /** The draft waiting for approval (needs-review). */
  draftHash?: string;
  /** Machine-readable detail of the hold, e.g. the servers below the monitored minimum. */
  detail?: unknown;
  updatedAtMs: number;
}

export interface RevisionRecord {
  month: string;
  revision: number;
  kind: RevisionKind;
  /** The figures issued; null only for a revision adopted from files written before the state database existed. */
  credits: MonthCredits | null;
  terms: TermsSnapshot | null;
  creditsSha256: string;
  termsSha256: string;
  totalGrosze: number;
  /** The folder its files live in. */
  dir: string;
  /** SHA-256 of its manifest.json once written. */
  manifestSha256?: string;
  closedAtMs: number;
  closedBy: string;
  /** Why, as the customers concerned read it (`monthly close`, the restatement's reason). */
  reason: string;
  /** The reviewer's note when the revision was issued by `approve` (internal: journal and records only). */
  approval?: string;
  /** What changed against the revision it replaces: credits, totals, customers' figures, terms. */
  changes: string[];
  filesWritten: boolean;
  journalWritten: boolean;
}

/**
 * One credit's change in one revision: what finance pays (positive delta) or claws back (negative). An
 * `opening-balance` row records a credit issued (and settled) before the journal existed: not to be paid again.
 */
export interface JournalRow {
  entry: 'payable' | 'opening-balance';
  month: string;
  revision: number;
  creditId: string;
  customerId: string;
  serverId: string;
  previousGrosze: number;
  newGrosze: number;
  deltaGrosze: number;
  reason: string;
  closedAtMs: number;
  closedBy: string;
}

/** A draft held for a person's approval: exactly these figures are issued when approved. */
export interface HeldDraft {
  hash: string;
  month: string;
  purpose: 'close' | 'restatement';
  /** The revision it would follow (0 for a first close). */
  baseRevision: number;
  credits: MonthCredits;
  terms: TermsSnapshot;
  /** The restatement's reason, given when it was asked for. */
  reason?: string;
  createdAtMs: number;
  createdBy: string;
}

/** Who is closing a month right now. */
export interface Claim {
  month: string;
  owner: string;
  host: string;
  pid: number;
  claimedAtMs: number;
  heartbeatMs: number;
}

/** What lists show of a revision: no figures, no terms. */
export type RevisionSummary = Pick<
  RevisionRecord,
  'revision' | 'kind' | 'totalGrosze' | 'closedAtMs' | 'closedBy' | 'dir'
>;

export type NewRevision = Omit<RevisionRecord, 'filesWritten' | 'journalWritten' | 'manifestSha256'>;

/** The records of month closes; one implementation on the state database (SQLite). */
export interface CloseRecords {
  readonly description: string;
  month(month: string): MonthRecord | undefined;
  /** Every month with a record, newest first. */
  months(): MonthRecord[];
  revisions(month: string): RevisionRecord[];
  latestRevision(month: string): RevisionRecord | undefined;
  /** Journal rows of one month (or all), in month, revision, credit id order. */
  journal(month?: string): JournalRow[];
  /** Revisions whose files or journal append are not yet done (a crash between the record and the files). */
  unfinishedRevisions(): RevisionRecord[];
  /** The months with such a revision (a light query, without the figures). */
  unfinishedMonths(): string[];
  /** The latest revision's summary without its figures (a light query for status and metrics). */
  latestSummary(month: string): RevisionSummary | undefined;
  /** Every revision's summary without its figures, in revision order (a light query for lists). */
  revisionSummaries(month: string): (RevisionSummary & Pick<RevisionRecord, 'reason'>)[];
  /**
   * Records an issued revision, its journal rows and the month's new state in one transaction. Throws when the
   * revision exists already or does not follow the latest one: a revision is issued once.
   */
  issueRevision(revision: NewRevision, rows: readonly JournalRow[]): void;
  markFilesWritten(month: string, revision: number, manifestSha256: string): void;
  markJournalWritten(month: string, revision: number): void;
  /** Records a month as held or waiting for review (keeping its latest issued revision), with its draft if any. */
  hold(
    month: string,
    state: 'held' | 'needs-review',
    reason: string,
    nowMs: number,
    detail?: unknown,
    draft?: HeldDraft,
  ): void;
  /** Ends a review that is no longer needed (its figures equal the issued revision's): the month shows as issued. */
  releaseReview(month: string, nowMs: number): void;
  /** A held draft by its hash, or by a unique prefix of at least 12 characters. */
  draft(month: string, hashOrPrefix: string): HeldDraft | undefined;
  /** Takes the month's claim unless a live claim of someone else holds it; `isStale` judges another's claim. */
  tryClaim(claim: Claim, isStale: (existing: Claim) => boolean): { taken: true } | { taken: false; holder: Claim };
  heartbeat(month: string, owner: string, nowMs: number): void;
  releaseClaim(month: string, owner: string): void;
  close(): void;
}

interface MonthRow {
  month: string;
  state: MonthState;
  revision: number;
  reason: string | null;
  draft_hash: string | null;
  detail: string | null;
  updated_at_ms: number;
}

interface RevisionRow {
  month: string;
  revision: number;
  kind: RevisionKind;
  credits_json: string | null;
  terms_json: string | null;
  credits_sha256: string;
  terms_sha256: string;
  total_grosze: number;
  dir: string;
  manifest_sha256: string | null;
  closed_at_ms: number;
  closed_by: string;
  reason: string;
  approval: string | null;
  changes_json: string;
  files_written: number;
  journal_written: number;
}

interface JournalDbRow {
  entry: 'payable' | 'opening-balance';
  month: string;
  revision: number;
  credit_id: string;
  customer_id: string;
  server_id: string;
  previous_grosze: number;
  new_grosze: number;
  delta_grosze: number;
  reason: string;
  closed_at_ms: number;
  closed_by: string;
}

interface DraftRow {
  hash: string;
  month: string;
  purpose: 'close' | 'restatement';
  base_revision: number;
  credits_json: string;
  terms_json: string;
  reason: string | null;
  created_at_ms: number;
  created_by: string;
}

interface ClaimRow {
  month: string;
  owner: string;
  host: string;
  pid: number;
  claimed_at_ms: number;
  heartbeat_ms: number;
}

const toMonth = (row: MonthRow): MonthRecord => {
  const record: MonthRecord = {
    month: row.month,
    state: row.state,
    revision: row.revision,
    updatedAtMs: row.updated_at_ms,
  };
  if (row.reason !== null) record.reason = row.reason;
  if (row.draft_hash !== null) record.draftHash = row.draft_hash;
  if (row.detail !== null) record.detail = JSON.parse(row.detail) as unknown;
  return record;
};

const toRevision = (row: RevisionRow): RevisionRecord => {
  const record: RevisionRecord = {
    month: row.month,
    revision: row.revision,
    kind: row.kind,
    credits: row.credits_json === null ? null : (JSON.parse(row.credits_json) as MonthCredits),
    terms: row.terms_json === null ? null : (JSON.parse(row.terms_json) as TermsSnapshot),
    creditsSha256: row.credits_sha256,
    termsSha256: row.terms_sha256,
    totalGrosze: row.total_grosze,
    dir: row.dir,
    closedAtMs: row.closed_at_ms,
    closedBy: row.closed_by,
    reason: row.reason,
    changes: JSON.parse(row.changes_json) as string[],
    filesWritten: row.files_written === 1,
    journalWritten: row.journal_written === 1,
  };
  if (row.manifest_sha256 !== null) record.manifestSha256 = row.manifest_sha256;
  if (row.approval !== null) record.approval = row.approval;
  return record;
};

const toJournal = (row: JournalDbRow): JournalRow => ({
  entry: row.entry,
  month: row.month,
  revision: row.revision,
  creditId: row.credit_id,
  customerId: row.customer_id,
  serverId: row.server_id,
  previousGrosze: row.previous_grosze,
  newGrosze: row.new_grosze,
  deltaGrosze: row.delta_grosze,
  reason: row.reason,
  closedAtMs: row.closed_at_ms,
  closedBy: row.closed_by,
});

const toDraft = (row: DraftRow): HeldDraft => {
  const draft: HeldDraft = {
    hash: row.hash,
    month: row.month,
    purpose: row.purpose,
    baseRevision: row.base_revision,
    credits: JSON.parse(row.credits_json) as MonthCredits,
    terms: JSON.parse(row.terms_json) as TermsSnapshot,
    createdAtMs: row.created_at_ms,
    createdBy: row.created_by,
  };
  if (row.reason !== null) draft.reason = row.reason;
  return draft;
};

const toClaim = (row: ClaimRow): Claim => ({
  month: row.month,
  owner: row.owner,
  host: row.host,
  pid: row.pid,
  claimedAtMs: row.claimed_at_ms,
  heartbeatMs: row.heartbeat_ms,
});

/** CloseRecords in the state database file (state.path), shared by every process that closes months. */
export class SqliteCloseRecords implements CloseRecords {
  readonly description: string;
  private readonly sql;

  private constructor(
    private readonly db: SqliteDatabase,
    path: string,
  ) {
    this.description = `state database ${path}`;
    this.sql = {
      month: db.prepare('SELECT * FROM months WHERE month = ?'),
      months: db.prepare('SELECT * FROM months ORDER BY month DESC'),
      revisions: db.prepare('SELECT * FROM revisions WHERE month = ? ORDER BY revision'),
      latest: db.prepare('SELECT * FROM revisions WHERE month = ? ORDER BY revision DESC LIMIT 1'),
      unfinished: db.prepare(
        'SELECT * FROM revisions WHERE files_written = 0 OR journal_written = 0 ORDER BY month, revision',
      ),
      unfinishedMonths: db
        .prepare('SELECT DISTINCT month FROM revisions WHERE files_written = 0 OR journal_written = 0 ORDER BY month')
        .pluck(),
      latestSummary: db.prepare(
        'SELECT revision, kind, total_grosze AS totalGrosze, closed_at_ms AS closedAtMs, closed_by AS closedBy, dir FROM revisions WHERE month = ? ORDER BY revision DESC LIMIT 1',
      ),
      revisionSummaries: db.prepare(
        'SELECT revision, kind, total_grosze AS totalGrosze, closed_at_ms AS closedAtMs, closed_by AS closedBy, dir, reason FROM revisions WHERE month = ? ORDER BY revision',
      ),
      journalOf: db.prepare('SELECT * FROM journal WHERE month = ? ORDER BY revision, credit_id'),
      journalAll: db.prepare('SELECT * FROM journal ORDER BY month, revision, credit_id'),
      insertRevision: db.prepare(
        `INSERT INTO revisions (month, revision, kind, credits_json, terms_json, credits_sha256, terms_sha256, total_grosze, dir,
                                closed_at_ms, closed_by, reason, approval, changes_json)
         VALUES (@month, @revision, @kind, @creditsJson, @termsJson, @creditsSha256, @termsSha256, @totalGrosze, @dir, @closedAtMs, @closedBy, @reason,
                 @approval, @changesJson)`,
      ),
      insertJournal: db.prepare(
        `INSERT INTO journal (entry, month, revision, credit_id, customer_id, server_id, previous_grosze, new_grosze, delta_grosze, reason, closed_at_ms, closed_by)
         VALUES (@entry, @month, @revision, @creditId, @customerId, @serverId, @previousGrosze, @newGrosze, @deltaGrosze, @reason, @closedAtMs, @closedBy)`,
      ),
      setMonth: db.prepare(
        `INSERT INTO months (month, state, revision, reason, draft_hash, detail, updated_at_ms) VALUES (@month, @state, @revision, @reason, @draftHash, @detail, @now)
         ON CONFLICT(month) DO UPDATE SET state = excluded.state, revision = excluded.revision, reason = excluded.reason,
           draft_hash = excluded.draft_hash, detail = excluded.detail, updated_at_ms = excluded.updated_at_ms`,
      ),
      filesWritten: db.prepare(
        'UPDATE revisions SET files_written = 1, manifest_sha256 = ? WHERE month = ? AND revision = ?',
      ),
      journalWritten: db.prepare('UPDATE revisions SET journal_written = 1 WHERE month = ? AND revision = ?'),
      insertDraft: db.prepare(
        `INSERT OR IGNORE INTO drafts (hash, month, purpose, base_revision, credits_json, terms_json, reason, created_at_ms, created_by)
         VALUES (@hash, @month, @purpose, @baseRevision, @creditsJson, @termsJson, @reason, @createdAtMs, @createdBy)`,
      ),
      draftsLike: db.prepare("SELECT * FROM drafts WHERE month = ? AND hash LIKE ? || '%' ORDER BY created_at_ms"),
      claim: db.prepare('SELECT * FROM claims WHERE month = ?'),
      putClaim: db.prepare(
        `INSERT INTO claims (month, owner, host, pid, claimed_at_ms, heartbeat_ms) VALUES (@month, @owner, @host, @pid, @claimedAtMs, @heartbeatMs)
         ON CONFLICT(month) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid,
           claimed_at_ms = excluded.claimed_at_ms, heartbeat_ms = excluded.heartbeat_ms`,
      ),
      heartbeat: db.prepare('UPDATE claims SET heartbeat_ms = ? WHERE month = ? AND owner = ?'),
      release: db.prepare('DELETE FROM claims WHERE month = ? AND owner = ?'),
    };
  }

  /** Opens (creating on first use) the state database at `path`. */
  static open(path: string): SqliteCloseRecords {
    return new SqliteCloseRecords(openStateDatabase(path), path);
  }

  month(month: string): MonthRecord | undefined {
    const row = this.sql.month.get(month) as MonthRow | undefined;
    return row && toMonth(row);
  }

  months(): MonthRecord[] {
    return (this.sql.months.all() as MonthRow[]).map(toMonth);
  }

  revisions(month: string): RevisionRecord[] {
    return (this.sql.revisions.all(month) as RevisionRow[]).map(toRevision);
  }

  latestRevision(month: string): RevisionRecord | undefined {
    const row = this.sql.latest.get(month) as RevisionRow | undefined;
    return row && toRevision(row);
  }

  journal(month?: string): JournalRow[] {
    const rows = (month === undefined ? this.sql.journalAll.all() : this.sql.journalOf.all(month)) as JournalDbRow[];
    return rows.map(toJournal);
  }

  unfinishedRevisions(): RevisionRecord[] {
    return (this.sql.unfinished.all() as RevisionRow[]).map(toRevision);
  }

  unfinishedMonths(): string[] {
    return this.sql.unfinishedMonths.all() as string[];
  }

  latestSummary(month: string) {
    return this.sql.latestSummary.get(month) as ReturnType<CloseRecords['latestSummary']>;
  }

  revisionSummaries(month: string) {
    return this.sql.revisionSummaries.all(month) as ReturnType<CloseRecords['revisionSummaries']>;
  }

  issueRevision(revision: NewRevision, rows: readonly JournalRow[]): void {
    // IMMEDIATE: the check of the latest revision and the insert happen under one write lock, across processes.
    this.db
      .transaction(() => {
        const latest = (this.sql.latest.get(revision.month) as RevisionRow | undefined)?.revision ?? 0;
        if (revision.revision !== latest + 1) {
          throw new Error(
            `${revision.month}: revision ${revision.revision} cannot follow revision ${latest}; another process issued it first`,
          );
        }
        this.sql.insertRevision.run({
          ...revision,
          approval: revision.approval ?? null,
          changesJson: JSON.stringify(revision.changes),
          creditsJson: revision.credits === null ? null : JSON.stringify(revision.credits),
          termsJson: revision.terms === null ? null : JSON.stringify(revision.terms),
        });
        for (const row of rows) this.sql.insertJournal.run(row);
        this.sql.setMonth.run({
          month: revision.month,
          state: revision.revision === 1 ? 'closed' : 'restated',
          revision: revision.revision,
          reason: null,
          draftHash: null,
          detail: null,
          now: revision.closedAtMs,
        });
      })
      .immediate();
  }

  markFilesWritten(month: string, revision: number, manifestSha256: string): void {
    this.sql.filesWritten.run(manifestSha256, month, revision);
  }

  markJournalWritten(month: string, revision: number): void {
    this.sql.journalWritten.run(month, revision);
  }

  hold(
    month: string,
    state: 'held' | 'needs-review',
    reason: string,
    nowMs: number,
    detail?: unknown,
    draft?: HeldDraft,
  ): void {
    this.db
      .transaction(() => {
        const revision = (this.sql.latest.get(month) as RevisionRow | undefined)?.revision ?? 0;
        if (draft) {
          this.sql.insertDraft.run({
            ...draft,
            reason: draft.reason ?? null,
            creditsJson: JSON.stringify(draft.credits),
            termsJson: JSON.stringify(draft.terms),
          });
        }
        // A month with an issued revision stays 'closed'/'restated' while merely held (a retry of nothing new);
        // a restatement waiting for approval shows as needs-review.
        const shownState = state === 'held' && revision > 0 ? (revision === 1 ? 'closed' : 'restated') : state;
        this.sql.setMonth.run({
          month,
          state: shownState,
          revision,
          reason,
          draftHash: draft?.hash ?? null,
          detail: detail === undefined ? null : JSON.stringify(detail),
          now: nowMs,
        });
      })
      .immediate();
  }

  releaseReview(month: string, nowMs: number): void {
    const record = this.month(month);
    if (record?.state !== 'needs-review' || record.revision === 0) return;
    this.sql.setMonth.run({
      month,
      state: record.revision === 1 ? 'closed' : 'restated',
      revision: record.revision,
      reason: null,
      draftHash: null,
      detail: null,
      now: nowMs,
    });
  }

  draft(month: string, hashOrPrefix: string): HeldDraft | undefined {
    if (!/^[0-9a-f]{12,64}$/.test(hashOrPrefix)) return undefined;
    const rows = this.sql.draftsLike.all(month, hashOrPrefix) as DraftRow[];
    const [row] = rows;
    return rows.length === 1 && row !== undefined ? toDraft(row) : undefined;
  }

  tryClaim(claim: Claim, isStale: (existing: Claim) => boolean): { taken: true } | { taken: false; holder: Claim } {
    return this.db
      .transaction((): { taken: true } | { taken: false; holder: Claim } => {
        const row = this.sql.claim.get(claim.month) as ClaimRow | undefined;
        if (row && row.owner !== claim.owner && !isStale(toClaim(row))) return { taken: false, holder: toClaim(row) };
        this.sql.putClaim.run(claim);
        return { taken: true };
      })
      .immediate();
  }

  heartbeat(month: string, owner: string, nowMs: number): void {
    this.sql.heartbeat.run(nowMs, month, owner);
  }

  releaseClaim(month: string, owner: string): void {
    this.sql.release.run(month, owner);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
