import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(await store.write(batch)).toEqual({ stored: 2, duplicates: 0 });
    expect(await store.write(batch)).toEqual({ stored: 0, duplicates: 2 });
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
    expect(() => openEmbeddedDatabase(path)).toThrow(`the embedded database ${path} has schema version 99, newer than this program (3)`);
    rmSync(dir, { recursive: true, force: true });
  });
});
