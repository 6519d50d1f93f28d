// The e-mail deliveries of issued revisions, kept in the state database (schema: schema.ts, migration 3). Only this
// module reads and writes their tables.
//
// One row per (month, revision, recipient). A sender claims a row (state `sending`, a lease, an attempt row) before
// it hands the message to SMTP and records the outcome after, so a restart never sends a message again unless it
// crashed between the SMTP server's acceptance and that record: then the lease runs out and the message goes once
// more, with the same Message-ID (at-least-once, deduplicable). Rows are never deleted; attempts only appended.
import type { SqliteDatabase } from '../sqlite.js';
import { openStateDatabase } from './schema.js';

export type DeliveryState = 'pending' | 'sending' | 'sent' | 'failed' | 'undeliverable';
export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'sending', 'sent', 'failed', 'undeliverable'];

/** Finance's recipient key; a customer's is `customer:<id>`. */
export const FINANCE_RECIPIENT = 'finance';
export const customerRecipient = (customerId: string) => `customer:${customerId}`;

export interface DeliveryKey {
  month: string;
  revision: number;
  /** `finance` or `customer:<id>`. */
  recipient: string;
}

export interface DeliveryRecord extends DeliveryKey {
  customerId?: string;
  /** The address it goes to; none when the customer has no e-mail (undeliverable). */
  address?: string;
  language: 'pl' | 'en';
  state: DeliveryState;
  messageId: string;
  /** 1 for the first sending; each resend by hand adds one (and gets its own Message-ID). */
  sends: number;
  attempts: number;
  nextAttemptAtMs: number;
  leaseOwner?: string;
  leaseUntilMs?: number;
  lastError?: string;
  sentAtMs?: number;
  plannedAtMs: number;
}

export interface NewDelivery extends DeliveryKey {
  customerId?: string;
  address?: string;
  language: 'pl' | 'en';
  messageId: string;
  /** `undeliverable` when there is no address: listed, never sent. */
  state: 'pending' | 'undeliverable';
  /** Why it is undeliverable. */
  reason?: string;
}

export interface DeliveryFilter {
  month?: string;
  customerId?: string;
}

/** What became of one attempt. */
export type AttemptOutcome =
  | { state: 'sent'; atMs: number; detail: string }
  | { state: 'pending'; atMs: number; nextAttemptAtMs: number; error: string }
  | { state: 'failed'; atMs: number; error: string };

export interface DeliveryRecords {
  /**
   * The instant automatic delivery began: revisions issued before it are not e-mailed unless asked (`deliver`), so
   * turning delivery on does not mail every month of the past. Recorded on the first call.
   */
  automaticSince(nowMs: number): number;
  /** Records planned deliveries (a row that exists already is left as it is); returns how many were new. */
  plan(deliveries: readonly NewDelivery[], nowMs: number): number;
  isPlanned(month: string, revision: number): boolean;
  /** Deliveries of one month (or all), in month, revision, recipient order. */
  list(filter?: DeliveryFilter): DeliveryRecord[];
  /**
   * Claims up to `limit` deliveries due now (pending and due, or sending under a lease that ran out) for `owner`:
   * each becomes `sending` with a lease until nowMs + leaseMs, and an attempt row.
   */
  claimDue(owner: string, nowMs: number, leaseMs: number, limit: number, filter?: DeliveryFilter): DeliveryRecord[];
  /** Makes pending deliveries due now, whatever their retry time (a person asked to send now); returns how many. */
  makeDue(nowMs: number, filter?: DeliveryFilter): number;
  /** Records an attempt's outcome; false when the lease was lost meanwhile (another sender took the row over). */
  finish(key: DeliveryKey, owner: string, outcome: AttemptOutcome): boolean;
  /** Gives an undeliverable delivery the address the configuration now has: it becomes pending. */
  readdress(key: DeliveryKey, address: string, nowMs: number): boolean;
  /** Makes a sent or failed delivery pending again under a new Message-ID (a resend asked by a person). */
  resend(key: DeliveryKey, messageId: string, address: string, nowMs: number): void;
  /** How many deliveries are in each state. */
  counts(): Record<DeliveryState, number>;
  close(): void;
}

interface DeliveryRow {
  month: string;
  revision: number;
  recipient: string;
  customer_id: string | null;
  address: string | null;
  language: 'pl' | 'en';
  state: DeliveryState;
  message_id: string;
  sends: number;
  attempts: number;
  next_attempt_at_ms: number;
  lease_owner: string | null;
  lease_until_ms: number | null;
  last_error: string | null;
  sent_at_ms: number | null;
  planned_at_ms: number;
}

const fromRow = (row: DeliveryRow): DeliveryRecord => ({
  month: row.month,
  revision: row.revision,
  recipient: row.recipient,
  ...(row.customer_id !== null ? { customerId: row.customer_id } : {}),
  ...(row.address !== null ? { address: row.address } : {}),
  language: row.language,
  state: row.state,
  messageId: row.message_id,
  sends: row.sends,
  attempts: row.attempts,
  nextAttemptAtMs: row.next_attempt_at_ms,
  ...(row.lease_owner !== null ? { leaseOwner: row.lease_owner } : {}),
  ...(row.lease_until_ms !== null ? { leaseUntilMs: row.lease_until_ms } : {}),
  ...(row.last_error !== null ? { lastError: row.last_error } : {}),
  ...(row.sent_at_ms !== null ? { sentAtMs: row.sent_at_ms } : {}),
  plannedAtMs: row.planned_at_ms,
});

const AUTOMATIC_SINCE = 'automatic_since_ms';

export class SqliteDeliveryRecords implements DeliveryRecords {
  private constructor(private readonly db: SqliteDatabase) {}

  static open(path: string): SqliteDeliveryRecords {
    return new SqliteDeliveryRecords(openStateDatabase(path));
  }

  automaticSince(nowMs: number): number {
    this.db
      .prepare('INSERT OR IGNORE INTO delivery_settings (key, value) VALUES (?, ?)')
      .run(AUTOMATIC_SINCE, String(nowMs));
    const row = this.db.prepare('SELECT value FROM delivery_settings WHERE key = ?').get(AUTOMATIC_SINCE) as {
      value: string;
    };
    return Number(row.value);
  }

  plan(deliveries: readonly NewDelivery[], nowMs: number): number {
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO deliveries (month, revision, recipient, customer_id, address, language, state, message_id, next_attempt_at_ms, last_error, planned_at_ms)
       VALUES (@month, @revision, @recipient, @customerId, @address, @language, @state, @messageId, @nowMs, @reason, @nowMs)`,
    );
    return this.db.transaction(() => {
      let added = 0;
      for (const d of deliveries) {
        added += insert.run({
          month: d.month,
          revision: d.revision,
          recipient: d.recipient,
          customerId: d.customerId ?? null,
          address: d.address ?? null,
          language: d.language,
          state: d.state,
          messageId: d.messageId,
          reason: d.reason ?? null,
          nowMs,
        }).changes;
      }
      return added;
    })();
  }

  isPlanned(month: string, revision: number): boolean {
    return (
      this.db.prepare('SELECT 1 FROM deliveries WHERE month = ? AND revision = ? LIMIT 1').get(month, revision) !==
      undefined
    );
  }

  list(filter: DeliveryFilter = {}): DeliveryRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM deliveries WHERE (@month IS NULL OR month = @month) AND (@customerId IS NULL OR customer_id = @customerId)
         ORDER BY month, revision, recipient = 'finance', recipient`,
      )
      .all({ month: filter.month ?? null, customerId: filter.customerId ?? null }) as DeliveryRow[];
    return rows.map(fromRow);
  }

  makeDue(nowMs: number, filter: DeliveryFilter = {}): number {
    return this.db
      .prepare(
        `UPDATE deliveries SET next_attempt_at_ms = @nowMs WHERE state = 'pending' AND next_attempt_at_ms > @nowMs AND (@month IS NULL OR month = @month) AND (@customerId IS NULL OR customer_id = @customerId)`,
      )
      .run({ nowMs, month: filter.month ?? null, customerId: filter.customerId ?? null }).changes;
  }

  claimDue(
    owner: string,
    nowMs: number,
    leaseMs: number,
    limit: number,
    filter: DeliveryFilter = {},
  ): DeliveryRecord[] {
    const select = this.db.prepare(
      `SELECT * FROM deliveries
       WHERE ((state = 'pending' AND next_attempt_at_ms <= @nowMs) OR (state = 'sending' AND lease_until_ms < @nowMs))
         AND (@month IS NULL OR month = @month) AND (@customerId IS NULL OR customer_id = @customerId)
       ORDER BY month, revision, recipient LIMIT @limit`,
    );
    const take = this.db.prepare(
      `UPDATE deliveries SET state = 'sending', lease_owner = @owner, lease_until_ms = @leaseUntilMs, attempts = attempts + 1
       WHERE month = @month AND revision = @revision AND recipient = @recipient
         AND ((state = 'pending' AND next_attempt_at_ms <= @nowMs) OR (state = 'sending' AND lease_until_ms < @nowMs))`,
    );
    const attempt = this.db.prepare(
      `INSERT INTO delivery_attempts (month, revision, recipient, message_id, started_at_ms, owner) VALUES (@month, @revision, @recipient, @messageId, @nowMs, @owner)`,
    );
    return this.db
      .transaction(() => {
        const rows = select.all({
          nowMs,
          limit,
          month: filter.month ?? null,
          customerId: filter.customerId ?? null,
        }) as DeliveryRow[];
        return rows.map((row) => {
          const leaseUntilMs = nowMs + leaseMs;
          take.run({ owner, leaseUntilMs, nowMs, month: row.month, revision: row.revision, recipient: row.recipient });
          attempt.run({
            month: row.month,
            revision: row.revision,
            recipient: row.recipient,
            messageId: row.message_id,
            nowMs,
            owner,
          });
          return fromRow({
            ...row,
            state: 'sending',
            lease_owner: owner,
            lease_until_ms: leaseUntilMs,
            attempts: row.attempts + 1,
          });
        });
        // IMMEDIATE: the write lock is taken before the read, so a daemon and a `deliver` claiming at once wait for each
        // other (busy_timeout) instead of one failing to upgrade its read lock.
      })
      .immediate();
  }

  finish(key: DeliveryKey, owner: string, outcome: AttemptOutcome): boolean {
    return this.db.transaction(() => {
      const params = { ...key, owner, atMs: outcome.atMs };
      let changed: number;
      if (outcome.state === 'sent') {
        changed = this.db
          .prepare(
            `UPDATE deliveries SET state = 'sent', sent_at_ms = @atMs, last_error = NULL, lease_owner = NULL, lease_until_ms = NULL
             WHERE month = @month AND revision = @revision AND recipient = @recipient AND state = 'sending' AND lease_owner = @owner`,
          )
          .run(params).changes;
      } else {
        changed = this.db
          .prepare(
            `UPDATE deliveries SET state = @state, last_error = @error, next_attempt_at_ms = @next, lease_owner = NULL, lease_until_ms = NULL
             WHERE month = @month AND revision = @revision AND recipient = @recipient AND state = 'sending' AND lease_owner = @owner`,
          )
          .run({
            ...params,
            state: outcome.state,
            error: outcome.error,
            next: outcome.state === 'pending' ? outcome.nextAttemptAtMs : outcome.atMs,
          }).changes;
      }
      this.db
        .prepare(
          `UPDATE delivery_attempts SET outcome = @outcome, detail = @detail, ended_at_ms = @atMs
           WHERE id = (SELECT max(id) FROM delivery_attempts WHERE month = @month AND revision = @revision AND recipient = @recipient AND owner = @owner AND ended_at_ms IS NULL)`,
        )
        .run({
          ...params,
          outcome: changed === 0 ? `${outcome.state} (lease lost)` : outcome.state,
          detail: outcome.state === 'sent' ? outcome.detail : outcome.error,
        });
      return changed > 0;
    })();
  }

  readdress(key: DeliveryKey, address: string, nowMs: number): boolean {
    return (
      this.db
        .prepare(
          `UPDATE deliveries SET state = 'pending', address = @address, next_attempt_at_ms = @nowMs, last_error = NULL WHERE month = @month AND revision = @revision AND recipient = @recipient AND state = 'undeliverable'`,
        )
        .run({ ...key, address, nowMs }).changes > 0
    );
  }

  resend(key: DeliveryKey, messageId: string, address: string, nowMs: number): void {
    const changed = this.db
      .prepare(
        `UPDATE deliveries SET state = 'pending', sends = sends + 1, message_id = @messageId, address = @address, next_attempt_at_ms = @nowMs, attempts = 0, last_error = NULL
         WHERE month = @month AND revision = @revision AND recipient = @recipient AND state IN ('sent', 'failed')`,
      )
      .run({ ...key, messageId, address, nowMs }).changes;
    if (changed === 0)
      throw new Error(
        `the delivery of ${key.month} revision ${key.revision} to ${key.recipient} is not sent or failed, so there is nothing to resend`,
      );
  }

  counts(): Record<DeliveryState, number> {
    const counts = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>;
    for (const row of this.db.prepare('SELECT state, count(*) AS n FROM deliveries GROUP BY state').all() as {
      state: DeliveryState;
      n: number;
    }[])
      counts[row.state] = row.n;
    return counts;
  }

  close(): void {
    this.db.close();
  }
}
