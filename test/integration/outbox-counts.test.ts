// The outbox's counts of waiting and parked lines (influx_counts, read by health every 2 s) are kept per statement
// by outbox.ts, not per row by triggers: they must equal count(*) after any mix of writes, by two processes sharing
// the file too, and a file made with the old triggers must come out of its migration without them, counted exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase } from '../../src/store/embedded/database.js';
import { InfluxOutbox, type OutboxRow } from '../../src/store/influx/outbox.js';

const dir = mkdtempSync(join(tmpdir(), 'uc-outbox-counts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lineOf = (k: number) => `m,server=s${k % 7} up=1i ${1_000 + k}`;

/** What the counts must say: count(*) of each table, read on a connection of its own. */
function counted(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return {
      waiting: db.prepare('SELECT coalesce(sum(n), 0) FROM influx_outbox_chunks').pluck().get() as number,
      parked: db.prepare('SELECT count(*) FROM influx_rejected').pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

const countsOf = (outbox: InfluxOutbox) => ({ waiting: outbox.waitingCount(), parked: outbox.parkedCount() });

describe('outbox counts', () => {
  it('a file made with the per-row triggers (schema 6) loses them on opening and is counted once, exactly', () => {
    const path = join(dir, 'schema-6.db');
    // Schema 6's outbox tables, triggers as that migration made them (database.ts, the sixth migration).
    const old = new Database(path);
    old.exec(`CREATE TABLE influx_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL, time_ms INTEGER,
                queued_ms INTEGER, verify INTEGER NOT NULL DEFAULT 0);
              CREATE TABLE influx_series_last (series TEXT PRIMARY KEY, last_ms INTEGER NOT NULL) WITHOUT ROWID;
              CREATE TABLE influx_rejected (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL, reason TEXT NOT NULL,
                at_ms INTEGER NOT NULL, time_ms INTEGER);
              CREATE TABLE influx_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
              INSERT INTO influx_counts VALUES ('waiting', 0), ('parked', 0);
              CREATE TRIGGER influx_outbox_counted_in AFTER INSERT ON influx_outbox BEGIN UPDATE influx_counts SET n = n + 1 WHERE name = 'waiting'; END;
              CREATE TRIGGER influx_outbox_counted_out AFTER DELETE ON influx_outbox BEGIN UPDATE influx_counts SET n = n - 1 WHERE name = 'waiting'; END;
              CREATE TRIGGER influx_rejected_counted_in AFTER INSERT ON influx_rejected BEGIN UPDATE influx_counts SET n = n + 1 WHERE name = 'parked'; END;
              CREATE TRIGGER influx_rejected_counted_out AFTER DELETE ON influx_rejected BEGIN UPDATE influx_counts SET n = n - 1 WHERE name = 'parked'; END;`);
    const insert = old.prepare('INSERT INTO influx_outbox (line, time_ms, queued_ms, verify) VALUES (?, ?, 0, ?)');
    for (let k = 0; k < 50; k++) insert.run(lineOf(k), 1_000 + k, k === 30 ? 1 : 0);
    old.prepare("INSERT INTO influx_rejected (line, reason, at_ms, time_ms) VALUES ('m up=1i 5', 'bad', 0, 5)").run();
    // The top id goes too: the id sequence (50) is then above every waiting id (49).
    old.exec('DELETE FROM influx_outbox WHERE id <= 10 OR id = 50');
    expect(old.prepare('SELECT n FROM influx_counts ORDER BY name').pluck().all()).toEqual([1, 39]);
    // Counts that went wrong some time (a file edited by hand, a bug): the migration counts again.
    old.exec("UPDATE influx_counts SET n = n + 3 WHERE name = 'waiting'");
    old.pragma('user_version = 6');
    old.close();

    const outbox = new InfluxOutbox(openEmbeddedDatabase(path));
    expect(countsOf(outbox)).toEqual({ waiting: 39, parked: 1 });
    const check = new Database(path, { readonly: true });
    expect(
      check.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'influx%'").all(),
    ).toEqual([]);
    // Schema 8 keeps the lines of a commit in one chunk: each line that waited is a chunk of its own, id kept.
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'influx_outbox'").all()).toEqual([]);
    expect(outbox.next(100).map((r) => [r.id, r.line, r.verify])).toEqual(
      Array.from({ length: 39 }, (_, i) => [i + 11, lineOf(i + 10), i + 10 === 30]),
    );
    expect(outbox.unconfirmedIn(1_010, 1_020)).toEqual({ waiting: 10, parked: 0 });
    expect([outbox.earliestWaitingMs(), outbox.latestWaitingMs(), outbox.waitingAt(1_020)]).toEqual([
      1_010,
      1_048,
      [lineOf(20)],
    ]);
    check.close();
    // No trigger left to count a second time: each write moves the counts once.
    outbox.enqueue([{ line: lineOf(60), timeMs: 1_060, verify: false }], new Map(), 0);
    expect(outbox.next(100).at(-1)?.id).toBe(51); // after the last id the old table gave, not reusing one
    outbox.confirmRun(11, 20);
    outbox.park([{ id: 21, line: lineOf(20), reason: 'refused' }], 0);
    expect(countsOf(outbox)).toEqual({ waiting: 29, parked: 2 });
    expect(countsOf(outbox)).toEqual(counted(path));
    expect(outbox.retryParked(0)).toBe(2);
    expect(countsOf(outbox)).toEqual({ waiting: 31, parked: 0 });
    outbox.close();
  });

  // Two processes on one file: either may write, and one may act on rows the other already moved (a confirm or a
  // park of lines gone, as when `outbox --retry` or `import` runs beside the daemon).
  const action = fc.record({
    by: fc.integer({ min: 0, max: 1 }),
    kind: fc.constantFrom('enqueue', 'confirmRun', 'confirm', 'park', 'retry'),
    n: fc.integer({ min: 0, max: 12 }),
    picks: fc.array(fc.nat(), { maxLength: 8 }),
    verify: fc.boolean(),
    run: fc.boolean(),
  });

  it('equal count(*) after any mix of enqueue, confirm, park and retry, by two processes sharing the file', () => {
    const path = join(dir, 'mix.db');
    const open = (chunkLines?: number) => {
      const db = openEmbeddedDatabase(path);
      db.pragma('synchronous = OFF'); // no fsync per commit: only the counts are under test here
      return new InfluxOutbox(db, { chunkLines });
    };
    // Two processes that keep chunks of different sizes.
    const outboxes = [open(3), open()];
    /** Lines once seen waiting, with their chunk (a line back from parked is in a new one), so a pick may be gone. */
    const issued: OutboxRow[] = [];
    let k = 0;
    try {
      fc.assert(
        fc.property(fc.array(action, { minLength: 1, maxLength: 30 }), (actions) => {
          // Each run from an empty outbox, so that a counterexample shrinks to the writes that break the counts.
          const reset = new Database(path);
          reset.exec('DELETE FROM influx_outbox_chunks; DELETE FROM influx_rejected; UPDATE influx_counts SET n = 0');
          reset.close();
          issued.length = 0;
          for (const a of actions) {
            const outbox = outboxes[a.by]!;
            const pick = (p: number) => issued[p % issued.length]!;
            switch (a.kind) {
              case 'enqueue': {
                const lines = Array.from({ length: a.n }, () => ({
                  line: lineOf(++k),
                  timeMs: 1_000 + k,
                  verify: a.verify,
                }));
                outbox.enqueue(lines, new Map([[`s${k % 7}`, 1_000 + k]]), 0);
                break;
              }
              case 'confirmRun':
                if (issued.length > 0) outbox.confirmRun(pick(a.picks[0] ?? 0).id, pick(a.picks[0] ?? 0).id + a.n);
                break;
              case 'confirm':
                if (issued.length > 0) {
                  const rows = a.run
                    ? Array.from({ length: a.n }, (_, i) => pick((a.picks[0] ?? 0) + i)) // lines in a row
                    : [...new Set(a.picks.map(pick))];
                  outbox.confirm(rows);
                }
                break;
              case 'park':
                if (issued.length > 0)
                  outbox.park(
                    [...new Set(a.picks.map(pick))].map((row) => ({ ...row, reason: 'refused' })),
                    0,
                  );
                break;
              case 'retry':
                outbox.retryParked(0);
                break;
            }
            issued.push(...outbox.next(100, issued.at(-1)?.id ?? 0));
            const expected = counted(path);
            expect(countsOf(outboxes[0]!)).toEqual(expected);
            expect(countsOf(outboxes[1]!)).toEqual(expected);
          }
        }),
        { numRuns: 200 },
      );
    } finally {
      for (const o of outboxes) o.close();
    }
  });
});
