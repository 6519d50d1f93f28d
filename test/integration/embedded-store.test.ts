import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openEmbeddedDatabase } from '../../src/store/embedded/database.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { describeObservationStoreContract } from '../support/store-contract.js';

describeObservationStoreContract('embedded sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uc-store-'));
  const path = join(dir, 'nested', 'store.db');
  const under = {
    store: EmbeddedObservationStore.open(path),
    async reopen() {
      await under.store.close();
      under.store = EmbeddedObservationStore.open(path);
      return under.store;
    },
    async countStored() {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare('SELECT count(*) FROM observations').pluck().get() as number;
      } finally {
        db.close();
      }
    },
    async cleanup() {
      await under.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return under;
});

describe('embedded store', () => {
  it('counts what a repeated write did not store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uc-dup-'));
    const store = EmbeddedObservationStore.open(join(dir, 'x.db'));
    const batch = [0, 30_000].map((timeMs) => ({ timeMs, server: 's1', location: 'waw', check: '', up: true }));
    expect(await store.write(batch)).toEqual({ stored: 2, duplicates: 0, conflicts: 0 });
    expect(await store.write(batch)).toEqual({ stored: 0, duplicates: 2, conflicts: 0 });
    // Two hours twice: the second hour is clean and comes from the hourly rollup, which counted each row once.
    const hours = Array.from({ length: 240 }, (_, i) => ({
      timeMs: i * 30_000,
      server: 's2',
      location: 'waw',
      check: '',
      up: true,
    }));
    expect(await store.write(hours)).toEqual({ stored: 240, duplicates: 0, conflicts: 0 });
    expect(await store.write(hours)).toEqual({ stored: 0, duplicates: 240, conflicts: 0 });
    const runs = (
      await store.readRuns({ servers: ['s2'], fromMs: 3_600_000, toMs: 7_200_000, staleAfterMs: 90_000 })
    ).get('s2');
    expect(runs).toEqual([{ location: 'waw', check: '', up: true, firstMs: 3_600_000, lastMs: 7_170_000, count: 120 }]);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('embedded database file', () => {
  it('refuses a file written by a newer schema instead of corrupting it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uc-db-'));
    const path = join(dir, 'x.db');
    const db = openEmbeddedDatabase(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openEmbeddedDatabase(path)).toThrow(
      `the embedded database ${path} has schema version 99, newer than this program (8)`,
    );
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('embedded store reads', () => {
  const at = (minutes: number) => Date.UTC(2026, 9, 1) + minutes * 60_000;

  it('reads hours of up observations from aggregates and the rest row by row, out-of-order writes included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uc-runs-'));
    const store = EmbeddedObservationStore.open(join(dir, 'x.db'));
    // Every 30 s for 6 hours; down from 2:00 to 2:10; nothing from 4:00 to 4:20 (staleAfter is 90 s).
    const all = [];
    for (let t = at(0); t < at(360); t += 30_000) {
      if (t >= at(240) && t < at(260)) continue;
      all.push({ timeMs: t, server: 's1', location: 'waw', check: 'web', up: !(t >= at(120) && t < at(130)) });
    }
    // The third hour arrives last and backwards, so its gaps are unknown when written or too long.
    const third = all.filter((o) => o.timeMs >= at(180) && o.timeMs < at(240));
    await store.write(all.filter((o) => !third.includes(o)));
    await store.write([...third].reverse());
    const runs = (await store.readRuns({ servers: ['s1'], fromMs: at(0), toMs: at(360), staleAfterMs: 90_000 })).get(
      's1',
    );
    expect(runs).toEqual([
      { location: 'waw', check: 'web', up: true, firstMs: at(0), lastMs: at(119.5), count: 240 },
      { location: 'waw', check: 'web', up: false, firstMs: at(120), lastMs: at(129.5), count: 20 },
      { location: 'waw', check: 'web', up: true, firstMs: at(130), lastMs: at(239.5), count: 220 },
      { location: 'waw', check: 'web', up: true, firstMs: at(260), lastMs: at(359.5), count: 200 },
    ]);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a file from before gaps were stored gets them on opening, and reads the same runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uc-migrate-'));
    const path = join(dir, 'old.db');
    // Schema version 3's observations table, with rows written by that version (no gap column).
    const old = new Database(path);
    old.exec(`CREATE TABLE observations (server TEXT NOT NULL, location TEXT NOT NULL, check_name TEXT NOT NULL, time_ms INTEGER NOT NULL,
      up INTEGER NOT NULL CHECK (up IN (0, 1)), latency_ms INTEGER, error TEXT, PRIMARY KEY (server, location, check_name, time_ms)) WITHOUT ROWID;`);
    const insert = old.prepare('INSERT INTO observations VALUES (?, ?, ?, ?, ?, NULL, NULL)');
    for (let t = at(0); t < at(120); t += 30_000) insert.run('s1', 'waw', '', t, t >= at(60) && t < at(61) ? 0 : 1);
    old.pragma('user_version = 3');
    old.close();

    const store = EmbeddedObservationStore.open(path);
    const gaps = new Database(path, { readonly: true })
      .prepare('SELECT gap_ms FROM observations ORDER BY time_ms')
      .pluck()
      .all();
    expect(gaps[0]).toBeNull();
    expect(new Set(gaps.slice(1))).toEqual(new Set([30_000]));
    const runs = (await store.readRuns({ servers: ['s1'], fromMs: at(0), toMs: at(120), staleAfterMs: 90_000 })).get(
      's1',
    );
    expect(runs).toEqual([
      { location: 'waw', check: '', up: true, firstMs: at(0), lastMs: at(59.5), count: 120 },
      { location: 'waw', check: '', up: false, firstMs: at(60), lastMs: at(60.5), count: 2 },
      { location: 'waw', check: '', up: true, firstMs: at(61), lastMs: at(119.5), count: 118 },
    ]);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
