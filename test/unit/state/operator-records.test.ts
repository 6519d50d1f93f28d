// The incident and maintenance records in a real state database file: queries by time and server, withdrawal
// and cancellation once with who and why, and a database that refuses to delete or rewrite a record.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteCloseRecords } from '../../../src/state/close-records.js';
import { RecordError, SqliteOperatorRecords } from '../../../src/state/operator-records.js';

describe('operator records', () => {
  let dir: string;
  let path: string;
  let records: SqliteOperatorRecords;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'uc-operator-'));
    path = join(dir, 'state.db');
    records = SqliteOperatorRecords.open(path);
  });
  afterEach(() => {
    records.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const none = () => ({ months: [], reason: '', by: 'ops', atMs: 5 });
  const incident = (serverId: string, fromMs: number, toMs: number) =>
    records.addIncident(
      { serverId, kind: 'reported', fromMs, toMs, reason: 'ticket', recordedAtMs: 5, recordedBy: 'ops' },
      none,
    );

  it('finds the records touching a half-open range, for the servers asked, by start then id', () => {
    incident('a', 100, 200);
    incident('b', 150, 250);
    incident('a', 50, 100);
    incident('a', 300, 400);
    expect(records.incidents({ fromMs: 100, toMs: 300 }).map((i) => [i.id, i.serverId])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(records.incidents({ fromMs: 0, toMs: 1_000, servers: ['a'] }).map((i) => i.id)).toEqual([3, 1, 4]);
    expect(records.incidents().map((i) => i.id)).toEqual([3, 1, 2, 4]);
    expect(records.incident(2)).toEqual({
      id: 2,
      serverId: 'b',
      kind: 'reported',
      fromMs: 150,
      toMs: 250,
      reason: 'ticket',
      recordedAtMs: 5,
      recordedBy: 'ops',
    });
  });

  it('withdraws an incident and cancels an announcement once, keeping both with who, when and why', () => {
    incident('a', 100, 200);
    expect(records.withdrawIncident(1, { atMs: 9, by: 'finance', reason: 'duplicate of 2' }, none).withdrawn).toEqual({
      atMs: 9,
      by: 'finance',
      reason: 'duplicate of 2',
    });
    expect(() => records.withdrawIncident(1, { atMs: 10, by: 'x', reason: 'y' }, none)).toThrow(RecordError);
    expect(() => records.withdrawIncident(7, { atMs: 10, by: 'x', reason: 'y' }, none)).toThrow('no incident 7');
    expect(records.incidents()).toHaveLength(1);

    const window = records.announceMaintenance(
      {
        serverId: 'a',
        fromMs: 1_000,
        toMs: 2_000,
        reason: 'kernel',
        announcedAtMs: 500,
        announcedBy: 'ops',
        recordedAtMs: 600,
      },
      none,
    );
    expect(window).toEqual({
      id: 1,
      serverId: 'a',
      fromMs: 1_000,
      toMs: 2_000,
      reason: 'kernel',
      announcedAtMs: 500,
      announcedBy: 'ops',
      recordedAtMs: 600,
    });
    expect(records.cancelMaintenance(1, { atMs: 700, by: 'ops', reason: 'postponed' }, none).cancelled).toEqual({
      atMs: 700,
      by: 'ops',
      reason: 'postponed',
    });
    expect(() => records.cancelMaintenance(1, { atMs: 800, by: 'ops', reason: 'again' }, none)).toThrow(
      'already cancelled',
    );
  });

  it("writes a change's revision requests with it, and settles them only up to the latest one a close has seen", () => {
    const request = (months: string[]) => (r: { id: number }) => ({
      months,
      reason: `change ${r.id}`,
      by: 'ops',
      atMs: 7,
    });
    records.addIncident(
      { serverId: 'a', kind: 'reported', fromMs: 100, toMs: 200, reason: 'r', recordedAtMs: 5, recordedBy: 'ops' },
      request(['2026-09', '2026-10']),
    );
    expect(records.pendingMonths()).toEqual(['2026-09', '2026-10']);
    const seen = records.pending('2026-10')!;
    expect(seen.reasons).toEqual(['change 1']);
    // A change recorded after a close read the month's requests (and records) stays owed once that close settles.
    records.withdrawIncident(1, { atMs: 9, by: 'ops', reason: 'no' }, request(['2026-10']));
    records.settle('2026-10', seen.upToId, 10);
    expect(records.pending('2026-10')).toMatchObject({ reasons: ['change 1'] });
    expect(records.pendingMonths()).toEqual(['2026-09', '2026-10']);
    records.settle('2026-10', records.pending('2026-10')!.upToId, 11);
    expect(records.pendingMonths()).toEqual(['2026-09']);
    // A request that cannot be written undoes the change with it.
    expect(() =>
      records.addIncident(
        { serverId: 'a', kind: 'reported', fromMs: 300, toMs: 400, reason: 'r', recordedAtMs: 5, recordedBy: 'ops' },
        () => {
          throw new Error('no months');
        },
      ),
    ).toThrow('no months');
    expect(records.incidents()).toHaveLength(1);
  });

  it('refuses to delete or rewrite a record, even by hand in SQL, and shares the file with the close records', () => {
    incident('a', 100, 200);
    records.announceMaintenance(
      {
        serverId: 'a',
        fromMs: 1_000,
        toMs: 2_000,
        reason: 'kernel',
        announcedAtMs: 500,
        announcedBy: 'ops',
        recordedAtMs: 600,
      },
      none,
    );
    const closeRecords = SqliteCloseRecords.open(path); // the same schema version: both open it
    closeRecords.close();
    const db = new Database(path);
    try {
      expect(() => db.prepare('DELETE FROM incidents').run()).toThrow('incidents are never deleted');
      expect(() => db.prepare('UPDATE incidents SET to_ms = 999').run()).toThrow('never rewritten');
      expect(() => db.prepare("UPDATE incidents SET reason = 'changed'").run()).toThrow('never rewritten');
      expect(() => db.prepare('DELETE FROM maintenance_announcements').run()).toThrow('never deleted');
      expect(() => db.prepare('UPDATE maintenance_announcements SET announced_at_ms = 0').run()).toThrow(
        'never rewritten',
      );
      db.prepare("UPDATE incidents SET withdrawn_at_ms = 1, withdrawn_by = 'x', withdrawn_reason = 'y'").run();
      expect(() => db.prepare('UPDATE incidents SET withdrawn_at_ms = NULL').run()).toThrow('already withdrawn');
      expect(() =>
        db
          .prepare(
            "INSERT INTO incidents (server_id, kind, from_ms, to_ms, reason, recorded_at_ms, recorded_by) VALUES ('a', 'reported', 5, 5, 'r', 1, 'x')",
          )
          .run(),
      ).toThrow('CHECK');
      expect(() =>
        db
          .prepare(
            "INSERT INTO incidents (server_id, kind, from_ms, to_ms, reason, recorded_at_ms, recorded_by) VALUES ('a', 'rumour', 5, 6, 'r', 1, 'x')",
          )
          .run(),
      ).toThrow('CHECK');
    } finally {
      db.close();
    }
    expect(records.incident(1)).toMatchObject({ toMs: 200, reason: 'ticket', withdrawn: { by: 'x', reason: 'y' } });
  });
});
