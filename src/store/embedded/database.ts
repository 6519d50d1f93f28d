// The embedded SQLite database file: opened once per process path, migrated on open. Shared by the embedded
// observation store and by the InfluxDB outbox, which keep their own tables in it.
import { openMigratedDatabase, type Migration, type SqliteDatabase } from '../../sqlite.js';
import { BUCKET_MS } from '../bucketed-runs.js';

export type EmbeddedDatabase = SqliteDatabase;

/** SQL for the start of the hour (UTC) holding `column`: floor division, also before 1970 (% keeps the sign). */
function hourOf(column: string): string {
  return `(${column} - ((${column} % ${BUCKET_MS}) + ${BUCKET_MS}) % ${BUCKET_MS})`;
}

/** Ordered schema migrations; the index + 1 is the schema version after it runs. Never edit one that shipped. */
const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE observations (
     server TEXT NOT NULL,
     location TEXT NOT NULL,
     check_name TEXT NOT NULL,
     time_ms INTEGER NOT NULL,
     up INTEGER NOT NULL CHECK (up IN (0, 1)),
     latency_ms INTEGER,
     error TEXT,
     PRIMARY KEY (server, location, check_name, time_ms)
   ) WITHOUT ROWID;
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
  // The durable outbox in front of InfluxDB: a line leaves only after InfluxDB confirmed its batch.
  `CREATE TABLE influx_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL);
   CREATE TABLE influx_series_last (series TEXT PRIMARY KEY, last_ms INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE influx_rejected (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL, reason TEXT NOT NULL, at_ms INTEGER NOT NULL);`,
  // Month closes: the row is the claim that makes a close happen once across restarts and replicas.
  `CREATE TABLE month_closes (month TEXT PRIMARY KEY, claimed_by TEXT NOT NULL, claimed_at_ms INTEGER NOT NULL, finished_at_ms INTEGER, status TEXT) WITHOUT ROWID;`,
  // Each observation's gap to the previous one of its series (NULL: none known), and a per-series hourly rollup
  // kept by a trigger, so a month close reads ~744 rows per series instead of ~90,000 (see bucketed-runs.ts).
  // Rows stored before this migration get their gaps and rollups here.
  `ALTER TABLE observations ADD COLUMN gap_ms INTEGER;
   UPDATE observations SET gap_ms = previous.gap_ms
     FROM (SELECT server, location, check_name, time_ms,
                  time_ms - LAG(time_ms) OVER (PARTITION BY server, location, check_name ORDER BY time_ms) AS gap_ms
             FROM observations) AS previous
    WHERE observations.server = previous.server AND observations.location = previous.location
      AND observations.check_name = previous.check_name AND observations.time_ms = previous.time_ms;
   CREATE TABLE observation_hours (
     server TEXT NOT NULL,
     location TEXT NOT NULL,
     check_name TEXT NOT NULL,
     hour_ms INTEGER NOT NULL,
     count INTEGER NOT NULL,
     ups INTEGER NOT NULL,
     first_ms INTEGER NOT NULL,
     last_ms INTEGER NOT NULL,
     unknown_gaps INTEGER NOT NULL,
     max_gap_ms INTEGER NOT NULL,
     PRIMARY KEY (server, location, check_name, hour_ms)
   ) WITHOUT ROWID;
   INSERT INTO observation_hours
     SELECT server, location, check_name, ${hourOf('time_ms')}, count(*), sum(up), min(time_ms), max(time_ms),
            count(*) - count(gap_ms), coalesce(max(gap_ms), 0)
       FROM observations GROUP BY server, location, check_name, ${hourOf('time_ms')};
   -- Fires only for rows really inserted (INSERT OR IGNORE skips duplicates), so a repeat counts nothing twice.
   CREATE TRIGGER observation_hours_roll_up AFTER INSERT ON observations BEGIN
     INSERT INTO observation_hours VALUES (NEW.server, NEW.location, NEW.check_name, ${hourOf('NEW.time_ms')}, 1, NEW.up,
                                           NEW.time_ms, NEW.time_ms, NEW.gap_ms IS NULL, coalesce(NEW.gap_ms, 0))
       ON CONFLICT DO UPDATE SET count = count + 1, ups = ups + excluded.ups,
         first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms),
         unknown_gaps = unknown_gaps + excluded.unknown_gaps, max_gap_ms = max(max_gap_ms, excluded.max_gap_ms);
   END;`,
  // Each outbox line's observation time, so a month close can ask whether anything of its month still waits
  // (or was refused) before it reads InfluxDB. Lines queued before this migration get it from their timestamp.
  (db) => {
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    for (const table of ['influx_outbox', 'influx_rejected']) {
      if (!tables.has(table)) continue; // absent only from a file made by hand in an older shape: nothing to add to
      db.exec(`ALTER TABLE ${table} ADD COLUMN time_ms INTEGER`);
      const update = db.prepare(`UPDATE ${table} SET time_ms = ? WHERE id = ?`);
      const page = db.prepare(`SELECT id, line FROM ${table} WHERE id > ? ORDER BY id LIMIT 10000`);
      for (let after = -1; ; ) {
        const rows = page.all(after) as { id: number; line: string }[];
        const last = rows.at(-1);
        if (last === undefined) break;
        for (const row of rows) update.run(lineProtocolTimeMs(row.line) ?? null, row.id);
        after = last.id;
      }
      db.exec(`CREATE INDEX ${table}_time ON ${table} (time_ms)`);
    }
  },
  // When each outbox line was queued (the age of the oldest waiting one is what an alert watches); whether it
  // must be checked against InfluxDB before it is sent (it may repeat a key InfluxDB holds, and InfluxDB could
  // not be asked when it was written: the first value of a key stays, store.ts); and the counts of lines.
  (db) => {
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    if (!tables.has('influx_outbox')) return;
    db.exec(`ALTER TABLE influx_outbox ADD COLUMN queued_ms INTEGER;
             ALTER TABLE influx_outbox ADD COLUMN verify INTEGER NOT NULL DEFAULT 0;
             -- Lines waiting and parked, kept by triggers: health is read every 2 s, and count(*) over an outbox
             -- that a day's outage filled is a scan; the file is shared by processes, so no count in memory.
             CREATE TABLE influx_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
             INSERT INTO influx_counts VALUES ('waiting', (SELECT count(*) FROM influx_outbox)), ('parked', (SELECT count(*) FROM influx_rejected));
             CREATE TRIGGER influx_outbox_counted_in AFTER INSERT ON influx_outbox BEGIN UPDATE influx_counts SET n = n + 1 WHERE name = 'waiting'; END;
             CREATE TRIGGER influx_outbox_counted_out AFTER DELETE ON influx_outbox BEGIN UPDATE influx_counts SET n = n - 1 WHERE name = 'waiting'; END;
             CREATE TRIGGER influx_rejected_counted_in AFTER INSERT ON influx_rejected BEGIN UPDATE influx_counts SET n = n + 1 WHERE name = 'parked'; END;
             CREATE TRIGGER influx_rejected_counted_out AFTER DELETE ON influx_rejected BEGIN UPDATE influx_counts SET n = n - 1 WHERE name = 'parked'; END;`);
  },
  // The counts kept per statement by outbox.ts (the one writer of those tables, in the same transaction) instead
  // of per row by triggers: the triggers were ~40 % of the forwarder's delete of a batch. Counted once more here.
  (db) => {
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    if (!tables.has('influx_counts')) return;
    db.exec(`DROP TRIGGER IF EXISTS influx_outbox_counted_in;
             DROP TRIGGER IF EXISTS influx_outbox_counted_out;
             DROP TRIGGER IF EXISTS influx_rejected_counted_in;
             DROP TRIGGER IF EXISTS influx_rejected_counted_out;
             INSERT OR REPLACE INTO influx_counts VALUES ('waiting', (SELECT count(*) FROM influx_outbox)), ('parked', (SELECT count(*) FROM influx_rejected));`);
  },
  // The outbox keeps the lines of one commit together, as one row (a chunk), not a row per line: inserting, reading
  // and above all deleting a confirmed batch cost per row, ~1 µs a line, which made the forwarder 2-4x slower than
  // a bare /write (test/bench/README.md, Ingest). Waiting lines become chunks of one line, ids and order kept.
  (db) => {
    db.exec(`CREATE TABLE influx_outbox_chunks (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               n INTEGER NOT NULL,
               verify INTEGER NOT NULL,
               first_ms INTEGER,
               last_ms INTEGER,
               queued_ms INTEGER,
               lines BLOB NOT NULL
             );
             CREATE INDEX influx_outbox_chunks_first ON influx_outbox_chunks (first_ms);
             CREATE INDEX influx_outbox_chunks_last ON influx_outbox_chunks (last_ms);`);
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    if (!tables.has('influx_outbox')) return;
    // Ids are never used twice, also across the move (a batch's range delete relies on it).
    const lastId = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'influx_outbox'").pluck().get();
    db.exec(`INSERT INTO influx_outbox_chunks (id, n, verify, first_ms, last_ms, queued_ms, lines)
               SELECT id, 1, verify, time_ms, time_ms, queued_ms, CAST(line AS BLOB) FROM influx_outbox ORDER BY id;
             DROP TABLE influx_outbox;`);
    if (lastId !== undefined) {
      db.prepare("DELETE FROM sqlite_sequence WHERE name = 'influx_outbox_chunks'").run();
      db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('influx_outbox_chunks', ?)").run(lastId);
    }
  },
];

/** The timestamp (ms precision, as the outbox writes) at the end of a line-protocol line; undefined if none. */
export function lineProtocolTimeMs(line: string): number | undefined {
  const last = line.slice(line.lastIndexOf(' ') + 1);
  return /^-?\d+$/.test(last) ? Number(last) : undefined;
}

/** Opens (creating the file and its folder on first use) and migrates the embedded database. */
export function openEmbeddedDatabase(path: string): EmbeddedDatabase {
  return openMigratedDatabase(path, MIGRATIONS, 'the embedded database');
}
