// The state database's schema (state.path): one migration list for every module that keeps records in it, so
// each opens the file at the same schema version. Never edit a migration that shipped; add the next one.
import { openMigratedDatabase, type Migration, type SqliteDatabase } from '../sqlite.js';

export const STATE_MIGRATIONS: readonly Migration[] = [
  // 1: month closes (close-records.ts)
  `CREATE TABLE months (
     month TEXT PRIMARY KEY,
     state TEXT NOT NULL CHECK (state IN ('held', 'needs-review', 'closed', 'restated')),
     revision INTEGER NOT NULL DEFAULT 0,
     reason TEXT,
     draft_hash TEXT,
     detail TEXT,
     updated_at_ms INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE revisions (
     month TEXT NOT NULL,
     revision INTEGER NOT NULL CHECK (revision >= 1),
     kind TEXT NOT NULL,
     credits_json TEXT,
     terms_json TEXT,
     credits_sha256 TEXT NOT NULL,
     terms_sha256 TEXT NOT NULL,
     total_grosze INTEGER NOT NULL,
     dir TEXT NOT NULL,
     manifest_sha256 TEXT,
     closed_at_ms INTEGER NOT NULL,
     closed_by TEXT NOT NULL,
     reason TEXT NOT NULL,
     approval TEXT,
     changes_json TEXT NOT NULL,
     files_written INTEGER NOT NULL DEFAULT 0,
     journal_written INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (month, revision)
   ) WITHOUT ROWID;
   CREATE TABLE journal (
     entry TEXT NOT NULL CHECK (entry IN ('payable', 'opening-balance')),
     month TEXT NOT NULL,
     revision INTEGER NOT NULL,
     credit_id TEXT NOT NULL,
     customer_id TEXT NOT NULL,
     server_id TEXT NOT NULL,
     previous_grosze INTEGER NOT NULL,
     new_grosze INTEGER NOT NULL,
     delta_grosze INTEGER NOT NULL CHECK (delta_grosze = new_grosze - previous_grosze),
     reason TEXT NOT NULL,
     closed_at_ms INTEGER NOT NULL,
     closed_by TEXT NOT NULL,
     PRIMARY KEY (month, revision, credit_id)
   ) WITHOUT ROWID;
   CREATE TABLE drafts (
     hash TEXT PRIMARY KEY,
     month TEXT NOT NULL,
     purpose TEXT NOT NULL,
     base_revision INTEGER NOT NULL,
     credits_json TEXT NOT NULL,
     terms_json TEXT NOT NULL,
     reason TEXT,
     created_at_ms INTEGER NOT NULL,
     created_by TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE claims (
     month TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     host TEXT NOT NULL,
     pid INTEGER NOT NULL,
     claimed_at_ms INTEGER NOT NULL,
     heartbeat_ms INTEGER NOT NULL
   ) WITHOUT ROWID;
   -- Revisions, journal rows and drafts are evidence: the database itself refuses to change or delete them.
   CREATE TRIGGER revisions_append_only BEFORE DELETE ON revisions BEGIN SELECT RAISE(ABORT, 'revisions are append-only'); END;
   CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
   CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
   CREATE TRIGGER revisions_figures_fixed BEFORE UPDATE OF month, revision, kind, credits_json, terms_json, credits_sha256, terms_sha256,
       total_grosze, dir, closed_at_ms, closed_by, reason, approval, changes_json ON revisions
     BEGIN SELECT RAISE(ABORT, 'an issued revision is never rewritten'); END;`,
  // 2: people's records that change what the probes say (operator-records.ts). An incident or announcement is never
  // deleted or edited; withdrawing or cancelling it fills its withdrawal columns once, with who, when and why.
  `CREATE TABLE incidents (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     server_id TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('reported', 'monitoring-fault')),
     from_ms INTEGER NOT NULL,
     to_ms INTEGER NOT NULL CHECK (to_ms > from_ms),
     reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
     ticket TEXT,
     recorded_at_ms INTEGER NOT NULL,
     recorded_by TEXT NOT NULL,
     withdrawn_at_ms INTEGER,
     withdrawn_by TEXT,
     withdrawn_reason TEXT
   );
   CREATE INDEX incidents_by_time ON incidents (from_ms, to_ms);
   CREATE TABLE maintenance_announcements (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     server_id TEXT NOT NULL,
     from_ms INTEGER NOT NULL,
     to_ms INTEGER NOT NULL CHECK (to_ms > from_ms),
     reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
     announced_at_ms INTEGER NOT NULL,
     announced_by TEXT NOT NULL,
     recorded_at_ms INTEGER NOT NULL,
     cancelled_at_ms INTEGER,
     cancelled_by TEXT,
     cancelled_reason TEXT
   );
   CREATE INDEX maintenance_by_time ON maintenance_announcements (from_ms, to_ms);
   -- A month each change touches owes a pass through the close lifecycle; written in the change's transaction, so a
   -- crash before the restatement leaves the debt for the daemon's month-end job. Settled once figures include it.
   CREATE TABLE pending_revisions (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     month TEXT NOT NULL,
     reason TEXT NOT NULL,
     requested_at_ms INTEGER NOT NULL,
     requested_by TEXT NOT NULL,
     settled_at_ms INTEGER
   );
   CREATE INDEX pending_revisions_open ON pending_revisions (month, id) WHERE settled_at_ms IS NULL;
   CREATE TRIGGER incidents_kept BEFORE DELETE ON incidents BEGIN SELECT RAISE(ABORT, 'incidents are never deleted: withdraw one instead'); END;
   CREATE TRIGGER incidents_fixed BEFORE UPDATE OF id, server_id, kind, from_ms, to_ms, reason, ticket, recorded_at_ms, recorded_by ON incidents
     BEGIN SELECT RAISE(ABORT, 'a recorded incident is never rewritten: withdraw it and record a new one'); END;
   CREATE TRIGGER incidents_withdrawn_once BEFORE UPDATE ON incidents WHEN OLD.withdrawn_at_ms IS NOT NULL
     BEGIN SELECT RAISE(ABORT, 'the incident is already withdrawn'); END;
   CREATE TRIGGER maintenance_kept BEFORE DELETE ON maintenance_announcements BEGIN SELECT RAISE(ABORT, 'announcements are never deleted: cancel one instead'); END;
   CREATE TRIGGER maintenance_fixed BEFORE UPDATE OF id, server_id, from_ms, to_ms, reason, announced_at_ms, announced_by, recorded_at_ms ON maintenance_announcements
     BEGIN SELECT RAISE(ABORT, 'an announcement is never rewritten: cancel it and announce again'); END;
   CREATE TRIGGER maintenance_cancelled_once BEFORE UPDATE ON maintenance_announcements WHEN OLD.cancelled_at_ms IS NOT NULL
     BEGIN SELECT RAISE(ABORT, 'the maintenance is already cancelled'); END;`,
  // 3: e-mail of issued revisions (delivery-records.ts). One row per (month, revision, recipient), written before the
  // message is handed to SMTP and again after; every attempt is kept in delivery_attempts, which is append-only.
  `CREATE TABLE deliveries (
     month TEXT NOT NULL,
     revision INTEGER NOT NULL,
     recipient TEXT NOT NULL,
     customer_id TEXT,
     address TEXT,
     language TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'undeliverable')),
     message_id TEXT NOT NULL,
     sends INTEGER NOT NULL DEFAULT 1,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at_ms INTEGER NOT NULL,
     lease_owner TEXT,
     lease_until_ms INTEGER,
     last_error TEXT,
     sent_at_ms INTEGER,
     planned_at_ms INTEGER NOT NULL,
     PRIMARY KEY (month, revision, recipient)
   ) WITHOUT ROWID;
   CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at_ms);
   CREATE TABLE delivery_attempts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     month TEXT NOT NULL,
     revision INTEGER NOT NULL,
     recipient TEXT NOT NULL,
     message_id TEXT NOT NULL,
     started_at_ms INTEGER NOT NULL,
     owner TEXT NOT NULL,
     outcome TEXT,
     detail TEXT,
     ended_at_ms INTEGER
   );
   CREATE TABLE delivery_settings (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TRIGGER delivery_attempts_kept BEFORE DELETE ON delivery_attempts BEGIN SELECT RAISE(ABORT, 'delivery attempts are never deleted'); END;
   CREATE TRIGGER deliveries_kept BEFORE DELETE ON deliveries BEGIN SELECT RAISE(ABORT, 'delivery records are never deleted'); END;`,
];

/** Opens (creating on first use) the state database at `path`, migrated to this program's schema. */
export const openStateDatabase = (path: string): SqliteDatabase =>
  openMigratedDatabase(path, STATE_MIGRATIONS, 'the state database');
