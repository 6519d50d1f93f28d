// The forwarder's response to each verdict, against a scripted writer and a real (in-memory) outbox.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging.js';
import { openEmbeddedDatabase } from '../../../src/store/embedded/database.js';
import { startForwarder, type Forwarder, type ForwarderDeps } from '../../../src/store/influx/forwarder.js';
import type { LineWriter } from '../../../src/store/influx/line-writer.js';
import { CHUNK_LINES, InfluxOutbox } from '../../../src/store/influx/outbox.js';
import type { WriteVerdict } from '../../../src/store/influx/write-verdict.js';
import { until as untilIn } from '../../support/until.js';

const lines = Array.from({ length: 20 }, (_, i) => `m,server=s${i} up=1i ${1_000 + i}`);

/** A writer that answers each batch with `answer(batch)`, and keeps what it took and how often it was asked. */
function scriptedWriter(answer: (batch: readonly string[]) => WriteVerdict | Promise<WriteVerdict>) {
  const taken: string[] = [];
  let requests = 0;
  const writer: LineWriter = {
    async write(batch) {
      requests++;
      const verdict = await answer(batch);
      if (verdict.kind === 'ok') taken.push(...batch);
      return verdict;
    },
    close: async () => undefined,
  };
  return { writer, taken, requests: () => requests };
}

let forwarder: Forwarder | undefined;
let outbox: InfluxOutbox | undefined;
/**
 * Lines the outbox keeps together (the lines of one commit, at most this many): each suite runs with chunks of one
 * line, chunks smaller than a batch, and one chunk larger than a batch (sent a part at a time).
 */
let chunkLines = CHUNK_LINES;
const withChunksOf = (lines: number) =>
  beforeEach(() => {
    chunkLines = lines;
  });
afterEach(async () => {
  await forwarder?.stop();
  outbox?.close();
  forwarder = outbox = undefined;
});

function start(
  writer: LineWriter,
  batchSize = 8,
  queued: readonly string[] = lines,
  verify = false,
  more: Partial<ForwarderDeps> = {},
) {
  outbox = new InfluxOutbox(openEmbeddedDatabase(':memory:'), { chunkLines });
  outbox.enqueue(
    queued.map((line, i) => ({ line, timeMs: 1_000 + i, verify })),
    new Map(),
    Date.now(),
  );
  forwarder = startForwarder({
    outbox,
    writer,
    logger: createLogger(),
    batchSize,
    checkRepeats: async (rows) => ({ send: [...rows], skip: [] }),
    backoff: { firstMs: 5, maxMs: 20 },
    ...more,
  });
  return outbox;
}

const until = (what: string, check: () => boolean, timeoutMs = 5_000) => untilIn(what, check, timeoutMs);

describe.each([1, 3, CHUNK_LINES])('forwarder, chunks of %i lines', (size) => {
  withChunksOf(size);
  it('a 400 naming no line, for one line only: narrowed down and only that line is parked, every other taken', async () => {
    const bad = lines[13]!;
    const w = scriptedWriter((batch) =>
      batch.includes(bad)
        ? { kind: 'retry', reason: 'HTTP 400: bad request', unnamedBadRequest: true }
        : { kind: 'ok' },
    );
    const o = start(w.writer);
    await until('the outbox to empty', () => o.waitingCount() === 0);
    expect(o.parkedRows(10).map((r) => [r.line, r.reason])).toEqual([
      [bad, 'HTTP 400: bad request (for this line alone: InfluxDB takes the one after it)'],
    ]);
    expect(w.taken.sort()).toEqual(lines.filter((l) => l !== bad).sort());
  });

  it('a 400 naming no line for every line: nothing is ever parked, however long it lasts', async () => {
    let refusing = true;
    const w = scriptedWriter(() =>
      refusing ? { kind: 'retry', reason: 'HTTP 400: bad request', unnamedBadRequest: true } : { kind: 'ok' },
    );
    const o = start(w.writer);
    await until('many attempts', () => w.requests() >= 40);
    expect(o.parkedCount()).toBe(0);
    expect(forwarder!.health().problem).toBe('HTTP 400: bad request');
    refusing = false;
    await until('the outbox to empty', () => o.waitingCount() === 0);
    expect(w.taken).toHaveLength(20);
  });

  it('a line holding a line break goes out in pieces: the lines InfluxDB names are found by text, not by position', async () => {
    // A run's body is split at line breaks to read the answer, so from the broken line on, positions in the body
    // are one ahead of the rows: a refusal mapped by position would park the broken line's neighbour.
    const queued = [...lines];
    const broken = 'm,server=s3 error="a\nb" 1003';
    queued[3] = broken;
    const bad = lines[5]!;
    const wellFormed = new Set(queued);
    // As InfluxDB and writeVerdict do: the body's lines that do not parse are named, and the verdict points at
    // those the writer was given as they are (a fragment of the broken line is none of them).
    const w = scriptedWriter((batch) => {
      const unparsable = new Set(
        batch
          .join('\n')
          .split('\n')
          .filter((line) => line === bad || !wellFormed.has(line)),
      );
      if (unparsable.size === 0) return { kind: 'ok' };
      const refused = new Map<number, string>();
      batch.forEach((line, i) => {
        if (unparsable.has(line)) refused.set(i, 'unable to parse: bad line');
      });
      return refused.size > 0
        ? { kind: 'refused', refused }
        : { kind: 'retry', reason: 'HTTP 400: unable to parse a line', unnamedBadRequest: true };
    });
    const o = start(w.writer, 8, queued);
    await until('the outbox to empty', () => o.waitingCount() === 0);
    const parked = new Map(o.parkedRows(10).map((r) => [r.line, r.reason]));
    expect([...parked.keys()].sort()).toEqual([bad, broken].sort());
    expect(parked.get(bad)).toBe('unable to parse: bad line');
    expect(parked.get(broken)).toMatch(/for this line alone/);
    expect(w.taken.sort()).toEqual(queued.filter((l) => l !== bad && l !== broken).sort());
  });

  it('InfluxDB 3 numbers the lines of the body: a batch to verify holding a line break parks the numbered line', async () => {
    const queued = [...lines];
    queued[2] = 'm,server=s2 error="a\nb" 1002';
    const bad = lines[6]!;
    const w = scriptedWriter((batch) => {
      const body = batch.join('\n').split('\n');
      // `data: [{ line_number }]` counts the body's lines (1-based; writeVerdict makes it an index).
      return body.includes(bad)
        ? { kind: 'refused', refused: new Map([[body.indexOf(bad), 'invalid']]) }
        : { kind: 'ok' };
    });
    const o = start(w.writer, 8, queued, true);
    await until('the outbox to empty', () => o.waitingCount() === 0);
    expect(o.parkedRows(10).map((r) => r.line)).toEqual([bad]);
    expect(w.taken.join('\n').split('\n').sort()).toEqual(
      queued
        .filter((l) => l !== bad)
        .join('\n')
        .split('\n')
        .sort(),
    );
  });

  it('413 even for a single line: retried with backoff, never parked', async () => {
    let limit = 0;
    const w = scriptedWriter((batch) =>
      batch.length <= limit ? { kind: 'ok' } : { kind: 'too-large', reason: 'HTTP 413: Request Entity Too Large' },
    );
    const o = start(w.writer);
    await until('single-line attempts', () => forwarder!.health().writeErrorsTotal >= 5);
    expect(o.parkedCount()).toBe(0);
    expect(o.waitingCount()).toBe(20);
    limit = 2; // the proxy's limit raised
    await until('the outbox to empty', () => o.waitingCount() === 0);
    expect(w.taken).toEqual(lines);
  });

  it('a partial write dropping a line for good without naming it: halved until that line alone is parked', async () => {
    const old = lines[5]!;
    const w = scriptedWriter((batch) =>
      batch.includes(old)
        ? { kind: 'split', reason: 'HTTP 400: partial write: points beyond retention policy dropped=1' }
        : { kind: 'ok' },
    );
    const o = start(w.writer);
    await until('the outbox to empty', () => o.waitingCount() === 0);
    expect(o.parkedRows(10).map((r) => r.line)).toEqual([old]);
    expect(w.taken).toHaveLength(19);
  });

  it('stops at once while it waits out a Retry-After or a write in flight', async () => {
    const w = scriptedWriter(async () => {
      await new Promise((r) => setTimeout(r, 100));
      return { kind: 'retry', reason: 'HTTP 429', retryAfterMs: 60_000 };
    });
    start(w.writer);
    await until('the first attempt', () => w.requests() >= 1);
    let started = Date.now();
    await forwarder!.stop(); // the write is in flight: its Retry-After is not waited out
    expect(Date.now() - started).toBeLessThan(500);
    outbox!.close();
    start(w.writer);
    await until('a second attempt', () => w.requests() >= 2);
    await new Promise((r) => setTimeout(r, 200)); // now waiting out the Retry-After
    started = Date.now();
    await forwarder!.stop();
    expect(Date.now() - started).toBeLessThan(100);
    forwarder = undefined;
  });
});

describe('forwarder, chunks of several commits', () => {
  it('a chunk larger than a batch after a smaller one: its head goes in that pass, its rest in the next, each line once and in order', async () => {
    const w = scriptedWriter(() => ({ kind: 'ok' }));
    outbox = new InfluxOutbox(openEmbeddedDatabase(':memory:'), { chunkLines: CHUNK_LINES });
    // Three commits: chunks of 4, 12 and 4 lines, and batches of 8. The first pass sends the first chunk whole and
    // the head of the second, and reads no further; the next pass sends the second's rest with the third.
    for (const [from, to] of [
      [0, 4],
      [4, 16],
      [16, 20],
    ] as const)
      outbox.enqueue(
        lines.slice(from, to).map((line, i) => ({ line, timeMs: 1_000 + from + i, verify: false })),
        new Map(),
        Date.now(),
      );
    const o = outbox;
    forwarder = startForwarder({
      outbox: o,
      writer: w.writer,
      logger: createLogger(),
      batchSize: 8,
      checkRepeats: async (rows) => ({ send: [...rows], skip: [] }),
    });
    await until('the outbox to empty', () => o.waitingCount() === 0);
    expect(w.taken).toEqual(lines);
    expect(w.requests()).toBe(3);
  });
});

describe.each([1, CHUNK_LINES])('forwarder, InfluxDB back after an outage, chunks of %i lines', (size) => {
  withChunksOf(size);
  /** The backoff a long outage has grown to: no test waits it out. */
  const longBackoff = { firstMs: 60_000, maxMs: 60_000 };
  const notConnected: WriteVerdict = {
    kind: 'retry',
    reason: 'ECONNREFUSED: connect ECONNREFUSED',
    notConnected: true,
  };

  /** InfluxDB's /ping as the forwarder sees it: answering or not, and how often it was asked. */
  function pingOf(answering: () => boolean | Promise<boolean>) {
    let asked = 0;
    const answers = async () => {
      asked++;
      return answering();
    };
    return { answers, asked: () => asked };
  }

  it('a write that found no server: retried as soon as InfluxDB answers its ping, not after the backoff', async () => {
    let down = true;
    const w = scriptedWriter(() => (down ? notConnected : { kind: 'ok' }));
    const ping = pingOf(() => !down);
    const o = start(w.writer, 20, lines, false, { backoff: longBackoff, answers: ping.answers, answersEveryMs: 10 });
    await until('the ping asked while InfluxDB is down', () => ping.asked() >= 3);
    expect(w.requests()).toBe(1); // the ping, not the write, is repeated while nothing answers
    expect(o.waitingCount()).toBe(20);
    down = false;
    await until('the outbox to empty', () => o.waitingCount() === 0);
    expect(w.taken).toEqual(lines);
    expect(forwarder!.health().problem).toBeUndefined();
  });

  it('a failure from a server that answered (5xx, a timeout) waits out its backoff whatever the ping says', async () => {
    const w = scriptedWriter(() => ({ kind: 'retry', reason: 'UND_ERR_HEADERS_TIMEOUT: Headers Timeout Error' }));
    const ping = pingOf(() => true);
    start(w.writer, 20, lines, false, { backoff: longBackoff, answers: ping.answers, answersEveryMs: 10 });
    await until('the first attempt', () => w.requests() >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(w.requests()).toBe(1);
    expect(ping.asked()).toBe(0);
  });

  it('stops at once while it waits for a ping that never answers', async () => {
    const w = scriptedWriter(() => notConnected);
    const ping = pingOf(() => new Promise<boolean>(() => undefined));
    start(w.writer, 20, lines, false, { backoff: longBackoff, answers: ping.answers, answersEveryMs: 10 });
    await until('the ping asked', () => ping.asked() >= 1);
    const started = Date.now();
    await forwarder!.stop();
    expect(Date.now() - started).toBeLessThan(100);
    forwarder = undefined;
  });
});

describe.each([1, 4])('forwarder, batches in flight, chunks of %i lines', (size) => {
  withChunksOf(size);
  /** A writer whose answers wait until the test releases them, so the order of confirmations is the test's. */
  function gatedWriter(answer: (batch: readonly string[]) => WriteVerdict) {
    const held: { batch: readonly string[]; release: () => void }[] = [];
    const taken: string[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const writer: LineWriter = {
      async write(batch) {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await new Promise<void>((release) => held.push({ batch, release }));
        inFlight--;
        const verdict = answer(batch);
        if (verdict.kind === 'ok') taken.push(...batch);
        return verdict;
      },
      close: async () => undefined,
    };
    /** Releases the held request whose batch holds `line`. */
    const release = (line: string) => {
      const index = held.findIndex((h) => h.batch.includes(line));
      if (index < 0) throw new Error(`no request in flight holds ${line}`);
      held.splice(index, 1)[0]!.release();
    };
    return { writer, taken, held, release, mostInFlight: () => mostInFlight };
  }

  it('later batches confirmed first leave the outbox; the earlier batch, not confirmed, stays and goes again', async () => {
    let refuseFirst = true;
    const w = gatedWriter((batch) => {
      if (batch.includes(lines[0]!) && refuseFirst) {
        refuseFirst = false;
        return { kind: 'retry', reason: 'HTTP 503' };
      }
      return { kind: 'ok' };
    });
    const o = start(w.writer);
    await until('three batches in flight', () => w.held.length === 3);
    w.release(lines[19]!); // the third batch (16-19), then the second (8-15): both before the first
    w.release(lines[8]!);
    await until('the later batches confirmed', () => o.waitingCount() === 8);
    expect(o.next(20).map((r) => r.line)).toEqual(lines.slice(0, 8));
    w.release(lines[0]!); // the first batch fails: its lines stay
    await until('the first batch sent again', () => w.held.length === 1);
    expect(o.waitingCount()).toBe(8);
    w.release(lines[0]!);
    await until('the outbox to empty', () => o.waitingCount() === 0);
    expect(w.taken.sort()).toEqual([...lines].sort());
    expect(w.mostInFlight()).toBe(3);
  });

  it('a line refused by name in a batch between confirmed ones: parked alone, every other line taken once', async () => {
    const bad = lines[10]!;
    const w = gatedWriter((batch) =>
      batch.includes(bad)
        ? { kind: 'refused', refused: new Map([[batch.indexOf(bad), 'unable to parse: bad timestamp']]) }
        : { kind: 'ok' },
    );
    const o = start(w.writer);
    await until('three batches in flight', () => w.held.length === 3);
    w.release(lines[19]!);
    w.release(lines[10]!); // the refusal arrives while the first batch is still in flight
    await new Promise((r) => setTimeout(r, 20));
    expect(o.parkedCount()).toBe(0); // acted on once every batch in flight has its answer
    w.release(lines[0]!);
    await until('the refused line parked', () => o.parkedCount() === 1);
    // The rest of the refused batch goes again: release whatever comes until the outbox is empty.
    const deadline = Date.now() + 5_000;
    while (o.waitingCount() > 0 && Date.now() < deadline) {
      const next = w.held[0];
      if (next) w.release(next.batch[0]!);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(o.waitingCount()).toBe(0);
    expect(o.parkedRows(10).map((r) => [r.line, r.reason])).toEqual([[bad, 'unable to parse: bad timestamp']]);
    expect(w.taken.sort()).toEqual(lines.filter((l) => l !== bad).sort());
  });
});
