// Opening a SQLite file of ours: created with its folder on first use, WAL, and migrated to this program's schema.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { at } from './sla/at.js';

export type SqliteDatabase = Database.Database;

/** One schema step: SQL, or a function for a step SQL alone cannot do. Never edit one that shipped. */
export type Migration = string | ((db: SqliteDatabase) => void);

/**
 * Opens `path` and runs the migrations it has not had yet (user_version counts them), each in a transaction.
 * `what` names the file in messages ("the embedded database", "the state database").
 */
export function openMigratedDatabase(path: string, migrations: readonly Migration[], what: string): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: SqliteDatabase;
  try {
    db = new Database(path);
  } catch (error) {
    throw new Error(`cannot open ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    db.pragma('journal_mode = WAL');
    // FULL: a commit survives power loss too, not only a crash of the process (WAL's NORMAL may roll the last
    // ones back); at the probe loop's ten commits a second the fsyncs cost little.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > migrations.length)
      throw new Error(`${what} ${path} has schema version ${version}, newer than this program (${migrations.length})`);
    for (let next = version; next < migrations.length; next++) {
      db.transaction(() => {
        const step = at(migrations, next, 'migration');
        if (typeof step === 'string') db.exec(step);
        else step(db);
        db.pragma(`user_version = ${next + 1}`);
      })();
    }
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * Opens an existing SQLite file of ours read-only: a reader's own connection beside the process that writes it (the
 * compute worker). No migration: the writer that created the file migrated it.
 */
export function openReadOnlyDatabase(path: string, what: string): SqliteDatabase {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    return db;
  } catch (error) {
    throw new Error(`cannot open ${what} ${path} read-only: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * SQLite's `PRAGMA data_version` on `db`: it changes whenever another connection commits to the file, never for
 * this connection's own commits, so `db` must be a reader of its own (see openReadOnlyDatabase).
 */
export function sqliteDataVersion(db: SqliteDatabase): number {
  return db.pragma('data_version', { simple: true }) as number;
}
