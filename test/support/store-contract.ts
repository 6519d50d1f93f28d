// One contract suite for every ObservationStore implementation (as Gatus runs one suite over its stores).
import { afterEach, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/sla/types.js';
import type { ObservationStore } from '../../src/store/store.js';

export interface StoreUnderTest {
  store: ObservationStore;
  /** Closes the store and opens it again on the same data (proves durability). */
  reopen(): Promise<ObservationStore>;
  /** How many observations the backing storage holds, counted there directly (SQL, InfluxQL), not through the store. */
  countStored(): Promise<number>;
  /** For a store with a remote part: makes the remote refuse writes (503) until `unblock`. */
  remote?: { block(): void; unblock(): void };
  cleanup(): Promise<void>;
}

const S = 1_000;
const obs = (timeMs: number, up: boolean, extra: Partial<Observation> = {}): Observation => ({
  timeMs,
  server: 's1',
  location: 'waw',
  check: 'http',
  up,
  ...extra,
});

/**
 * Waits until the store says nothing written is still on its way (unconfirmed), as a month close does before it
 * reads: from then on reads must see every observation written.
 */
async function settled(store: ObservationStore): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await store.unconfirmed(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).waiting > 0) {
    if (Date.now() > deadline) throw new Error('the store did not confirm its writes within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Registers the contract tests for a store made fresh by `make` for each test. */
export function describeObservationStoreContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`ObservationStore contract: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });
    const open = async () => (current = await make());

    it('stores each observation once, however often it is written', async () => {
      const { store } = await open();
      const batch = [
        obs(0, true),
        obs(30 * S, false, { error: 'timeout', latencyMs: 10_000 }),
        obs(60 * S, true, { latencyMs: 12 }),
      ];
      expect(await store.write(batch)).toEqual({ stored: 3, duplicates: 0, conflicts: 0 });
      expect(await store.write(batch)).toEqual({ stored: 0, duplicates: 3, conflicts: 0 });
      await settled(store);
      // "stored" is what the backing storage holds in the end, not what the write counted.
      expect(await current!.countStored()).toBe(3);
      expect(await store.readObservations('s1', 0, 3_600 * S)).toEqual(batch);
    });

    it('keeps the first value of a key: a repeat with another outcome is a conflict, not stored, whether the first still waits or was confirmed', async () => {
      const { store } = await open();
      const first = obs(30 * S, true, { latencyMs: 12 });
      // In one write, and again in the next write while the first may still wait to be forwarded.
      expect(await store.write([obs(0, true), first, obs(30 * S, false, { error: 'timeout' })])).toEqual({
        stored: 2,
        duplicates: 0,
        conflicts: 1,
      });
      expect(await store.write([obs(30 * S, true, { latencyMs: 13 })])).toEqual({
        stored: 0,
        duplicates: 0,
        conflicts: 1,
      });
      await settled(store);
      // Confirmed by the remote store now: still the first value stays.
      expect(await store.write([obs(30 * S, false, { error: 'timeout' }), first, obs(60 * S, false)])).toEqual({
        stored: 1,
        duplicates: 1,
        conflicts: 1,
      });
      await settled(store);
      expect(await current!.countStored()).toBe(2 + 0 + 1);
      expect(await store.readObservations('s1', 0, 3_600 * S)).toEqual([obs(0, true), first, obs(60 * S, false)]);
      const reopened = await current!.reopen();
      expect(await reopened.write([obs(0, false)])).toEqual({ stored: 0, duplicates: 0, conflicts: 1 });
      await settled(reopened);
      expect((await reopened.readObservations('s1', 0, S))[0]!.up).toBe(true);
    });

    it('keeps observations of other locations, checks and servers apart', async () => {
      const { store } = await open();
      await store.write([
        obs(0, true),
        obs(0, false, { location: 'fra' }),
        obs(0, false, { check: 'tcp' }),
        obs(0, false, { server: 's2' }),
      ]);
      expect(await store.readObservations('s1', 0, S)).toHaveLength(3);
      expect(await store.readObservations('s2', 0, S)).toHaveLength(1);
    });

    it('reads runs split where the outcome changes or the gap reaches staleAfter', async () => {
      const { store } = await open();
      // up x4 (0..90 s), down x3 (120..180), up at 210, 240; gap; up at 340 (gap 100 s >= 90 s) and 370.
      const times = [0, 30, 60, 90, 120, 150, 180, 210, 240, 340, 370];
      const ups = [true, true, true, true, false, false, false, true, true, true, true];
      await store.write(times.map((t, i) => obs(t * S, ups[i]!)));
      await store.write([obs(0, true, { location: 'fra' })]);
      await settled(store);
      const runs = await store.readRuns({
        servers: ['s1', 'nobody'],
        fromMs: 0,
        toMs: 3_600 * S,
        staleAfterMs: 90 * S,
      });
      expect(runs.get('nobody')).toEqual([]);
      expect(runs.get('s1')).toEqual([
        { location: 'fra', check: 'http', up: true, firstMs: 0, lastMs: 0, count: 1 },
        { location: 'waw', check: 'http', up: true, firstMs: 0, lastMs: 90 * S, count: 4 },
        { location: 'waw', check: 'http', up: false, firstMs: 120 * S, lastMs: 180 * S, count: 3 },
        { location: 'waw', check: 'http', up: true, firstMs: 210 * S, lastMs: 240 * S, count: 2 },
        { location: 'waw', check: 'http', up: true, firstMs: 340 * S, lastMs: 370 * S, count: 2 },
      ]);
    });

    it('splits a run at a gap of exactly staleAfter, not at one a millisecond shorter', async () => {
      const { store } = await open();
      // Gaps: 90 000 ms (= staleAfter, splits), then 89 999 ms (does not), then 90 001 ms (splits).
      await store.write([obs(0, false), obs(90_000, false), obs(179_999, false), obs(270_000, false)]);
      await settled(store);
      const runs = await store.readRuns({ servers: ['s1'], fromMs: 0, toMs: 3_600 * S, staleAfterMs: 90 * S });
      expect(runs.get('s1')).toEqual([
        { location: 'waw', check: 'http', up: false, firstMs: 0, lastMs: 0, count: 1 },
        { location: 'waw', check: 'http', up: false, firstMs: 90_000, lastMs: 179_999, count: 2 },
        { location: 'waw', check: 'http', up: false, firstMs: 270_000, lastMs: 270_000, count: 1 },
      ]);
    });

    it('reads only the requested half-open time range', async () => {
      const { store } = await open();
      await store.write([obs(0, true), obs(30 * S, true), obs(60 * S, true)]);
      await settled(store);
      const runs = await store.readRuns({ servers: ['s1'], fromMs: 30 * S, toMs: 60 * S, staleAfterMs: 90 * S });
      expect(runs.get('s1')).toEqual([
        { location: 'waw', check: 'http', up: true, firstMs: 30 * S, lastMs: 30 * S, count: 1 },
      ]);
    });

    it('keeps what it stored across a close and reopen', async () => {
      const under = await open();
      await under.store.write([obs(0, true), obs(30 * S, false)]);
      const reopened = await under.reopen();
      expect(await reopened.readObservations('s1', 0, 3_600 * S)).toHaveLength(2);
      await reopened.write([obs(0, true)]);
      expect(await reopened.readObservations('s1', 0, 3_600 * S)).toHaveLength(2);
    });

    it('answers ping; its backlog is what it accepted and the backing storage does not hold yet', async () => {
      const under = await open();
      const { store } = under;
      await store.ping();
      expect(store.description.length).toBeGreaterThan(0);
      under.remote?.block();
      try {
        const batch = [obs(0, true), obs(30 * S, false), obs(60 * S, true), obs(0, true, { server: 's2' })];
        expect(await store.write(batch)).toEqual({ stored: 4, duplicates: 0, conflicts: 0 });
        // Embedded: all 4 are in the file, the backlog is 0. With a remote that refuses writes: none, the backlog is 4.
        const held = await under.countStored();
        expect(held).toBe(under.remote ? 0 : 4);
        expect(await store.backlog()).toBe(4 - held);
        expect(store.health()).toMatchObject({ waiting: 4 - held, parked: 0 });
        expect(await store.unconfirmed(0, 3_600 * S)).toEqual({ waiting: 4 - held, parked: 0 });
        // Counted by time: only the ones in the range asked about.
        expect(await store.unconfirmed(30 * S, 60 * S)).toEqual({ waiting: under.remote ? 1 : 0, parked: 0 });
      } finally {
        under.remote?.unblock();
      }
      await settled(store);
      expect(await under.countStored()).toBe(4);
      expect(await store.backlog()).toBe(0);
      expect(store.health()).toMatchObject({ waiting: 0, parked: 0 });
    });
  });
}
