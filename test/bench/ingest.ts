// Ingest into a real influxd 1.6.7, in one run: the same lines by direct /write requests and through the outbox
// (queued first, then timed while the forwarder drains them), side by side into fresh databases; then an hour's
// backlog of a fleet drained while a probe-like writer keeps queueing, and the counts checked in InfluxDB.
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createLogger } from '../../src/logging.js';
import { openEmbeddedDatabase } from '../../src/store/embedded/database.js';
import { influxConnection } from '../../src/store/influx/connection.js';
import { startForwarder } from '../../src/store/influx/forwarder.js';
import { ENDLESS_GAP_MS } from '../../src/store/influx/gap-marks.js';
import { observationLine } from '../../src/store/influx/line-protocol.js';
import { createLineWriter, type LineWriter } from '../../src/store/influx/line-writer.js';
import { InfluxOutbox, type QueuedLine } from '../../src/store/influx/outbox.js';
import { type Influxd, startInfluxd } from '../support/influxd.js';
import { type FigureLog, sleep } from './figures.js';
import { serverId } from './fleet.js';

const MEASUREMENT = 'uptime_observation';
const STEP_MS = 10_000;
/** The forwarder's batch size as the daemon configures it by default (influxdb.batchSize). */
const BATCH_SIZE = 5_000;
/** Requests in flight tried for direct /write; the best is the figure the outbox is held against. */
const DIRECT_IN_FLIGHT = [1, 2, 3];
/** Pause before each timed phase: influxd snapshots its cache after a large write, and that work must not be
 * charged to whichever phase comes next. */
const SETTLE_MS = 3_000;

export interface IngestBenchOptions {
  dir: string;
  /** Lines written both ways in the side-by-side comparison. */
  lines: number;
  /** Rounds of the comparison (each: direct, then the outbox; the medians are the figures). */
  rounds: number;
  /** Lines of the backlog drained while probing goes on (3.6 M: 10,000 checks at 10 s for an hour). */
  backlogLines: number;
  /** Checks of the fleet (servers, one check each); the probe-like writer adds checks / 10 lines a second. */
  checks: number;
}

/** Line `k` of a fleet of `checks` probed every 10 s from `fromMs`: series k % checks, time step k / checks. */
function fleetLine(k: number, checks: number, fromMs: number): QueuedLine {
  const server = k % checks;
  const timeMs = fromMs + Math.floor(k / checks) * STEP_MS + (server % STEP_MS);
  const up = (k * 7_919) % 1_000 !== 0;
  const observation = {
    timeMs,
    server: serverId(server),
    location: 'waw',
    check: 'http',
    up,
    latencyMs: up ? 2 + (k % 17) : 5_000,
    ...(up ? {} : { error: 'timeout' }),
  };
  return { line: observationLine(MEASUREMENT, observation, up ? undefined : ENDLESS_GAP_MS), timeMs, verify: false };
}

function* chunksOf(count: number, size: number, checks: number, fromMs: number): Generator<QueuedLine[]> {
  for (let start = 0; start < count; start += size) {
    const end = Math.min(count, start + size);
    const chunk: QueuedLine[] = [];
    for (let k = start; k < end; k++) chunk.push(fleetLine(k, checks, fromMs));
    yield chunk;
  }
}

async function countIn(influxd: Influxd, database: string): Promise<number> {
  const [series] = await influxd.query(`SELECT count("up") FROM "${database}"."autogen"."${MEASUREMENT}"`);
  return series ? Number(series.values[0]![1]) : 0;
}

async function freshDatabase(influxd: Influxd, name: string): Promise<string> {
  await influxd.query(`CREATE DATABASE "${name}"`);
  return name;
}

/** Direct /write of pre-joined bodies with `inFlight` requests at once: ms taken, and this process's CPU (µs). */
async function writeDirect(influxd: Influxd, database: string, bodies: readonly string[], inFlight: number) {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: inFlight });
  const url = `${influxd.url}/write?db=${database}&precision=ms`;
  let next = 0;
  await sleep(SETTLE_MS);
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const response = await request(url, { method: 'POST', body, dispatcher: agent });
        const text = await response.body.text();
        if (response.statusCode !== 204) throw new Error(`direct /write: HTTP ${response.statusCode} ${text}`);
      }
    }),
  );
  const elapsedMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(cpuBefore);
  await agent.close();
  return { elapsedMs, cpuUs: cpu.user + cpu.system };
}

/** Lines in a body joined by line breaks, counted without a string per line. */
function linesIn(body: Buffer): number {
  let lines = 1;
  for (let at = body.indexOf(10); at !== -1; at = body.indexOf(10, at + 1)) lines++;
  return lines;
}

/** Counts the lines the forwarder sent, to show each went once. */
function countingWriter(writer: LineWriter) {
  const counted = { lines: 0, requests: 0 };
  const wrapped: LineWriter = {
    async write(lines) {
      const verdict = await writer.write(lines);
      counted.requests++;
      if (verdict.kind === 'ok') counted.lines += lines.length;
      return verdict;
    },
    // Passed on, so the forwarder posts the joined body as it does in the daemon (without it: split, join, encode).
    async writeJoined(body, lines) {
      const verdict = writer.writeJoined ? await writer.writeJoined(body, lines) : await writer.write(lines());
      counted.requests++;
      if (verdict.kind === 'ok') counted.lines += linesIn(body);
      return verdict;
    },
    close: () => writer.close(),
  };
  return { writer: wrapped, counted };
}

function openOutbox(path: string): InfluxOutbox {
  return new InfluxOutbox(openEmbeddedDatabase(path));
}

function forwardTo(influxd: Influxd, database: string, outbox: InfluxOutbox) {
  const connection = influxConnection({
    url: influxd.url,
    apiVersion: 1,
    database,
    org: '',
    measurement: MEASUREMENT,
    batchSize: BATCH_SIZE,
    timeout: 30_000,
  });
  const { writer, counted } = countingWriter(createLineWriter(connection));
  const forwarder = startForwarder({
    outbox,
    writer,
    logger: createLogger('bench-ingest'),
    batchSize: BATCH_SIZE,
    checkRepeats: async (rows) => ({ send: [...rows], skip: [] }),
  });
  return {
    forwarder,
    counted,
    async stop() {
      await forwarder.stop();
      await writer.close();
    },
  };
}

/** Queues `count` fleet lines in a fresh outbox; seconds taken. */
function queue(outbox: InfluxOutbox, count: number, checks: number, fromMs: number): number {
  const startedMs = performance.now();
  for (const chunk of chunksOf(count, 50_000, checks, fromMs)) outbox.enqueue(chunk, new Map(), Date.now());
  return (performance.now() - startedMs) / 1_000;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench ingest: ${what} did not happen within ${timeoutMs / 1_000} s`);
    await sleep(5);
  }
}

/** Lines/s of the forwarder draining `count` lines queued beforehand in a fresh outbox into a fresh database. */
async function drainOutbox(influxd: Influxd, options: IngestBenchOptions, round: number, fromMs: number) {
  const outbox = openOutbox(join(options.dir, `ingest-side-${round}.db`));
  const enqueueS = queue(outbox, options.lines, options.checks, fromMs);
  const database = await freshDatabase(influxd, `outbox${round}`);
  await sleep(SETTLE_MS);
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  const forwarding = forwardTo(influxd, database, outbox);
  await until(() => outbox.waitingCount() === 0, 600_000, 'the outbox drain');
  const rate = options.lines / ((performance.now() - startedMs) / 1_000);
  const cpu = process.cpuUsage(cpuBefore);
  await forwarding.stop();
  outbox.close();
  const stored = await countIn(influxd, database);
  if (stored !== options.lines || forwarding.counted.lines !== options.lines)
    throw new Error(`outbox: ${stored} stored, ${forwarding.counted.lines} sent, of ${options.lines}`);
  return {
    rate,
    enqueueRate: options.lines / enqueueS,
    requests: forwarding.counted.requests,
    cpuUsPerLine: (cpu.user + cpu.system) / options.lines,
  };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * Direct /write against the outbox's forwarder, the same lines into fresh databases, in rounds that alternate
 * the two (a shared machine's load then weighs on both alike); logs each round and the medians.
 */
async function sideBySide(influxd: Influxd, options: IngestBenchOptions, fromMs: number, log: FigureLog) {
  const bodies: string[] = [];
  for (const chunk of chunksOf(options.lines, BATCH_SIZE, options.checks, fromMs))
    bodies.push(chunk.map((l) => l.line).join('\n'));
  const directs: number[] = [];
  const outboxes: number[] = [];
  const ratios: number[] = [];
  let directCpu = 0;
  const directBest = async (round: number) => {
    let best = 0;
    for (const inFlight of DIRECT_IN_FLIGHT) {
      const database = await freshDatabase(influxd, `direct${round}x${inFlight}`);
      const { elapsedMs, cpuUs } = await writeDirect(influxd, database, bodies, inFlight);
      if ((await countIn(influxd, database)) !== options.lines) throw new Error(`${database}: count differs`);
      const rate = options.lines / (elapsedMs / 1_000);
      log.add(`ingest.round${round}.direct.in_flight_${inFlight}`, rate, 'lines/s');
      if (rate > best) {
        best = rate;
        directCpu = cpuUs / options.lines;
      }
    }
    log.add(`ingest.round${round}.direct.cpu_per_line`, directCpu, 'us');
    return best;
  };
  for (let round = 1; round <= options.rounds; round++) {
    // Odd rounds write directly first, even rounds through the outbox first.
    const outboxFirst = round % 2 === 0 ? await drainOutbox(influxd, options, round, fromMs) : undefined;
    const direct = await directBest(round);
    const outbox = outboxFirst ?? (await drainOutbox(influxd, options, round, fromMs));
    log.add(`ingest.round${round}.outbox.enqueue`, outbox.enqueueRate, 'lines/s');
    log.add(`ingest.round${round}.outbox.forward`, outbox.rate, 'lines/s');
    log.add(`ingest.round${round}.outbox.requests`, outbox.requests, 'requests');
    log.add(`ingest.round${round}.outbox.cpu_per_line`, outbox.cpuUsPerLine, 'us');
    log.add(`ingest.round${round}.outbox_to_direct`, outbox.rate / direct, 'ratio');
    directs.push(direct);
    outboxes.push(outbox.rate);
    ratios.push(outbox.rate / direct);
  }
  log.add('ingest.direct', median(directs), 'lines/s');
  log.add('ingest.outbox', median(outboxes), 'lines/s');
  log.add('ingest.outbox_to_direct', median(ratios), 'ratio');
}

/** An hour's backlog drained while a probe-like writer queues checks / 10 lines a second; counts checked. */
async function backlogDrain(influxd: Influxd, options: IngestBenchOptions, fromMs: number, log: FigureLog) {
  const outbox = openOutbox(join(options.dir, 'ingest-backlog.db'));
  const backlogEndMs = fromMs + Math.ceil(options.backlogLines / options.checks) * STEP_MS;
  log.add('ingest.backlog.lines', options.backlogLines, 'lines');
  log.add(
    'ingest.backlog.enqueue',
    options.backlogLines / queue(outbox, options.backlogLines, options.checks, fromMs),
    'lines/s',
  );
  const database = await freshDatabase(influxd, 'backlog');
  // Probing goes on: about every 100 ms, the fleet's lines due by then (checks / 10 a second), timed after the
  // backlog's hour, each commit on its own as the probe loop's are.
  let live = 0;
  let probing = true;
  const forwarding = forwardTo(influxd, database, outbox);
  const probingFromMs = performance.now();
  const prober = (async () => {
    const liveFromMs = backlogEndMs + 60_000;
    while (probing) {
      const due = Math.floor(((performance.now() - probingFromMs) / 10_000) * options.checks);
      const chunk: QueuedLine[] = [];
      while (live < due) chunk.push(fleetLine(live++, options.checks, liveFromMs));
      outbox.enqueue(chunk, new Map(), Date.now());
      forwarding.forwarder.wake();
      await sleep(100);
    }
  })();
  const startedMs = performance.now();
  // Drained: nothing of the backlog's hour waits any more (the probe-like lines are all later).
  await until(() => (outbox.earliestWaitingMs() ?? Infinity) >= backlogEndMs, 600_000, 'the backlog drain');
  const drainS = (performance.now() - startedMs) / 1_000;
  probing = false;
  await prober;
  await until(() => outbox.waitingCount() === 0, 60_000, 'the last probe-like lines');
  await forwarding.stop();
  outbox.close();
  const expected = options.backlogLines + live;
  const stored = await countIn(influxd, database);
  log.add('ingest.backlog.drain', drainS, 's');
  log.add('ingest.backlog.drain_rate', options.backlogLines / drainS, 'lines/s');
  log.add('ingest.backlog.live_lines_meanwhile', live, 'lines');
  log.add('ingest.backlog.stored', stored, 'points');
  log.add('ingest.backlog.sent', forwarding.counted.lines, 'lines');
  log.add('ingest.backlog.lost', expected - stored, 'lines');
  log.add('ingest.backlog.sent_twice', forwarding.counted.lines - expected, 'lines');
  if (stored !== expected || forwarding.counted.lines !== expected)
    throw new Error(`backlog: ${stored} stored, ${forwarding.counted.lines} sent, of ${expected}`);
}

/** Runs the ingest benchmark and logs its figures. */
export async function benchIngest(options: IngestBenchOptions, log: FigureLog): Promise<void> {
  const influxd = await startInfluxd('bench');
  try {
    // Recent hours, so the default retention policy keeps every point.
    const fromMs = Math.floor((Date.now() - 6 * 3_600_000) / 3_600_000) * 3_600_000;
    log.add('ingest.lines', options.lines, 'lines');
    await sideBySide(influxd, options, fromMs, log);
    await backlogDrain(influxd, options, fromMs, log);
  } finally {
    await influxd.stop();
  }
}
