// The outbox keeps the lines of one commit together, in chunks. Whatever the mix of queueing, confirming (a run of
// chunks, or lines one by one), parking and retrying, it must hold exactly the lines a plain list would, in order,
// hand out runs and rows as that list would, and answer the questions about their times as the list does.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase } from '../../../src/store/embedded/database.js';
import { InfluxOutbox, type OutboxRow } from '../../../src/store/influx/outbox.js';

interface Waiting {
  line: string;
  verify: boolean;
}

const timeOf = (line: string) => Number(line.slice(line.lastIndexOf(' ') + 1));

const queuedLine = fc.record({
  timeMs: fc.integer({ min: 0, max: 40 }),
  verify: fc.boolean(),
  /** The same text as the line before it (a repeat within one commit). */
  repeat: fc.boolean(),
  /** A line holding a line break (kept alone in its chunk). */
  broken: fc.integer({ min: 0, max: 9 }).map((d) => d === 0),
});

const action = fc.oneof(
  fc.record({ kind: fc.constant('enqueue' as const), lines: fc.array(queuedLine, { minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('confirm' as const), picks: fc.array(fc.nat(), { maxLength: 6 }) }),
  fc.record({ kind: fc.constant('park' as const), picks: fc.array(fc.nat(), { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('run' as const), after: fc.nat(), limit: fc.integer({ min: 1, max: 10 }) }),
  fc.record({ kind: fc.constant('retry' as const) }),
);

let outbox: InfluxOutbox | undefined;
afterEach(() => {
  outbox?.close();
  outbox = undefined;
});

/** Every waiting line, one row each, in order. */
const allRows = (o: InfluxOutbox) => o.next(Number.MAX_SAFE_INTEGER);

/** The rows to take out for `picks` (distinct positions), as the outbox matches them: by text within their chunk. */
function picked(rows: readonly OutboxRow[], picks: readonly number[]): number[] {
  if (rows.length === 0) return [];
  const positions = new Set<number>();
  for (const p of picks) {
    const row = rows[p % rows.length]!;
    // The first line of that text in that chunk not yet taken: which of two equal lines goes is not observable.
    const first = rows.findIndex((r, i) => !positions.has(i) && r.id === row.id && r.line === row.line);
    if (first >= 0 && !positions.has(p % rows.length)) positions.add(first);
  }
  return [...positions];
}

describe('outbox chunks', () => {
  it('hold, hand out and count exactly the lines a plain list would', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 3, 500),
        fc.array(action, { minLength: 1, maxLength: 25 }),
        fc.tuple(fc.integer({ min: 0, max: 45 }), fc.integer({ min: 0, max: 45 })),
        (chunkLines, actions, [from, to]) => {
          outbox?.close();
          const o = new InfluxOutbox(openEmbeddedDatabase(':memory:'), { chunkLines });
          outbox = o;
          let model: Waiting[] = [];
          let parked: string[] = [];
          let k = 0;
          for (const a of actions) {
            const rows = allRows(o);
            switch (a.kind) {
              case 'enqueue': {
                const queued = a.lines.map((l, i) => {
                  const before = i > 0 ? a.lines[i - 1] : undefined;
                  const server = l.repeat && before ? k : ++k;
                  const timeMs = l.repeat && before ? before.timeMs : l.timeMs;
                  const line = l.broken
                    ? `m,server=s${server} error="a\nb" ${timeMs}`
                    : `m,server=s${server} up=1i ${timeMs}`;
                  return { line, timeMs, verify: l.verify };
                });
                o.enqueue(queued, new Map(), 0);
                model.push(...queued.map(({ line, verify }) => ({ line, verify })));
                break;
              }
              case 'confirm':
              case 'park': {
                const positions = picked(rows, a.picks);
                const chosen = positions.map((p) => rows[p]!);
                if (a.kind === 'confirm') o.confirm(chosen);
                else {
                  o.park(
                    chosen.map((r) => ({ ...r, reason: 'refused' })),
                    0,
                  );
                  parked.push(...chosen.map((r) => r.line));
                }
                model = model.filter((_, i) => !positions.includes(i));
                break;
              }
              case 'run': {
                const afterId = rows.length === 0 ? 0 : rows[a.after % rows.length]!.id - 1;
                const after = rows.filter((r) => r.id > afterId);
                // Rows: the first `limit` after afterId, cut when the last one's chunk goes on.
                const read = o.rowsAfter(afterId, a.limit);
                expect(read.rows).toEqual(after.slice(0, a.limit));
                const lastTaken = after[a.limit - 1];
                expect(read.cut).toBe(lastTaken !== undefined && after[a.limit]?.id === lastTaken.id);
                // A run: whole chunks from the first after afterId, none to verify, at most `limit` lines.
                const run = o.runAfter(afterId, a.limit);
                const firstChunk = after.filter((r) => r.id === after[0]?.id);
                if (firstChunk.length === 0 || firstChunk[0]!.verify || firstChunk.length > a.limit) {
                  expect(run).toBeUndefined();
                  break;
                }
                expect(run).toBeDefined();
                const inRun = after.filter((r) => r.id >= run!.firstId && r.id <= run!.lastId);
                expect(run!.firstId).toBe(after[0]!.id);
                expect(run!.count).toBe(inRun.length);
                expect(run!.count).toBeLessThanOrEqual(a.limit);
                expect(inRun.every((r) => !r.verify)).toBe(true);
                expect(run!.body.toString('utf8')).toBe(inRun.map((r) => r.line).join('\n'));
                // The next chunk did not fit or is to verify.
                const next = after[inRun.length];
                if (next) {
                  const nextChunk = after.filter((r) => r.id === next.id);
                  expect(next.verify || inRun.length + nextChunk.length > a.limit).toBe(true);
                }
                o.confirmRun(run!.firstId, run!.lastId);
                model = model.filter((_, i) => !(rows[i]!.id >= run!.firstId && rows[i]!.id <= run!.lastId));
                break;
              }
              case 'retry': {
                const back = o.parkedRows(1_000).map((r) => r.line);
                expect([...back].sort()).toEqual([...parked].sort());
                expect(o.retryParked(0)).toBe(back.length);
                model.push(...back.map((line) => ({ line, verify: true })));
                parked = [];
                break;
              }
            }
            const after = allRows(o);
            expect(after.map((r) => ({ line: r.line, verify: r.verify }))).toEqual(model);
            // A chunk's lines are together, and chunks in id order.
            for (let i = 1; i < after.length; i++) expect(after[i]!.id).toBeGreaterThanOrEqual(after[i - 1]!.id);
            expect(o.waitingCount()).toBe(model.length);
            expect(o.parkedCount()).toBe(parked.length);
            const times = model.map((w) => timeOf(w.line));
            expect(o.earliestWaitingMs()).toBe(times.length > 0 ? Math.min(...times) : undefined);
            expect(o.latestWaitingMs()).toBe(times.length > 0 ? Math.max(...times) : undefined);
            const parkedTimes = parked.map(timeOf);
            const unconfirmed = [...times, ...parkedTimes];
            expect(o.earliestUnconfirmedMs()).toBe(unconfirmed.length > 0 ? Math.min(...unconfirmed) : undefined);
            expect(o.unconfirmedIn(from, to)).toEqual({
              waiting: times.filter((t) => t >= from && t < to).length,
              parked: parkedTimes.filter((t) => t >= from && t < to).length,
            });
            expect(o.waitingAt(from).sort()).toEqual(
              model
                .map((w) => w.line)
                .filter((line) => timeOf(line) === from)
                .sort(),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
