// The days before the whole-daemon bench starts: the generated fleet's observations (month-data.ts) written
// into a store the daemon then reads. InfluxDB gets them by direct /write requests (the store's own line
// protocol, gzip, several requests in flight), because 58 M points through the outbox would take the whole
// hour; the embedded store through its own write(), the only writer its hourly rollup trigger sees.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { HEARTBEAT_EVERY_MS, heartbeatLine } from '../../src/agents/heartbeat.js';
import type { Observation } from '../../src/sla/types.js';
import { hourMark } from '../../src/store/influx/gap-marks.js';
import { observationLine } from '../../src/store/influx/line-protocol.js';
import type { ObservationStore } from '../../src/store/store.js';
import { oldFormLine } from '../support/old-form-lines.js';
import { monthObservations } from './month-data.js';

const gzipAsync = promisify(gzip);
// Measured here on 2 cores beside influxd: 4 x 20,000 gzipped lines beat 3 x 10,000 and plain bodies.
const LINES_PER_REQUEST = 20_000;
const REQUESTS_IN_FLIGHT = 4;
/** One line in this many is compared with observationLine, so a change of the store's format stops the bench. */
const CHECK_EVERY = 500;

export interface InfluxTarget {
  url: string;
  database: string;
  measurement: string;
  /** The floor the daemon's store writes with (its staleAfter): the marks are the store's own (gap-marks.ts). */
  gapFloorMs: number;
  /** Write the lines as the store did before the gap marks (test/support/old-form-lines.ts). */
  oldForm?: boolean;
}

/** How much was written and how long it took. */
export interface Prefilled {
  observations: number;
  ms: number;
}

/**
 * The line observationLine writes (fields in Point's order: error, gap_mark_ms, latency_ms, up), built by hand
 * because Point costs microseconds a line; the generated ids and names need no escaping.
 */
function generatedLine(measurement: string, o: Observation, gapMarkMs: number | undefined): string {
  const error = o.error === undefined ? '' : `error="${o.error}",`;
  const mark = gapMarkMs === undefined ? '' : `gap_mark_ms=${gapMarkMs}i,`;
  const latency = o.latencyMs === undefined ? '' : `latency_ms=${o.latencyMs}i,`;
  return `${measurement},check=${o.check},location=${o.location},server=${o.server} ${error}${mark}${latency}up=${o.up ? 1 : 0}i ${o.timeMs}`;
}

/** Posts lines to influxd's /write (gzipped, ms precision); throws unless all were taken. */
function linesWriter(target: Pick<InfluxTarget, 'url' | 'database'>): (lines: string[]) => Promise<void> {
  const writeUrl = `${target.url}/write?${new URLSearchParams({ db: target.database, precision: 'ms' }).toString()}`;
  return async (lines) => {
    const body = await gzipAsync(lines.join('\n'));
    const response = await fetch(writeUrl, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body });
    if (response.status !== 204) throw new Error(`influxd answered ${response.status}: ${await response.text()}`);
  };
}

/** Writes the fleet's observations in [fromMs, toMs) straight into InfluxDB; `onHour` hears progress. */
export async function prefillInflux(
  target: InfluxTarget,
  servers: number,
  fromMs: number,
  toMs: number,
  onHour: (done: number, total: number) => void,
): Promise<Prefilled> {
  const send = linesWriter(target);
  const startedMs = performance.now();
  const inFlight = new Set<Promise<void>>();
  const lastMsBySeries = new Map<string, number>();
  let batch: string[] = [];
  let observations = 0;
  let written = 0;
  let hours = 0;
  const totalHours = Math.ceil((toMs - fromMs) / 3_600_000);
  const flush = async () => {
    const sent = send(batch).finally(() => inFlight.delete(sent));
    inFlight.add(sent);
    batch = [];
    if (inFlight.size >= REQUESTS_IN_FLIGHT) await Promise.race(inFlight);
  };
  // As the store marks (influx-store.ts, with the same hourMark), as one writer: the hour each series last marked.
  const markedHourBySeries = new Map<string, number>();
  const markedLine = (o: Observation, lastMs: number | undefined) => {
    const { mark, marksHour } = hourMark(o.timeMs, o.up, lastMs, target.gapFloorMs, markedHourBySeries.get(o.server));
    if (marksHour !== undefined) markedHourBySeries.set(o.server, marksHour);
    const line = generatedLine(target.measurement, o, mark);
    if (written++ % CHECK_EVERY === 0) {
      const expected = observationLine(target.measurement, o, mark);
      if (line !== expected)
        throw new Error(`the store's line protocol changed; update generatedLine:\n  ${expected}\n  ${line}`);
    }
    return line;
  };
  for (const chunk of monthObservations(servers, fromMs, toMs)) {
    // Each chunk is an hour of the fleet, each server's observations in time order: the gap to the last is known.
    for (const o of chunk) {
      const lastMs = lastMsBySeries.get(o.server);
      lastMsBySeries.set(o.server, o.timeMs);
      batch.push(target.oldForm ? oldFormLine(target.measurement, o, lastMs) : markedLine(o, lastMs));
      if (batch.length === LINES_PER_REQUEST) await flush();
    }
    observations += chunk.length;
    onHour(++hours, totalHours);
  }
  if (batch.length > 0) await flush();
  await Promise.all(inFlight);
  return { observations, ms: performance.now() - startedMs };
}

/**
 * The heartbeats the daemon's agent would have written while it probed [fromMs, toMs), one every HEARTBEAT_EVERY_MS
 * (one process, `written` growing by a round of checks each): what InfluxDB holds when a daemon has run that long,
 * and what reading the agents' heartbeats costs then. Returns how many were written.
 */
export async function prefillHeartbeats(
  target: Pick<InfluxTarget, 'url' | 'database'>,
  agent: { agent: string; location: string; shard: string; checksPerBeat: number },
  fromMs: number,
  toMs: number,
): Promise<number> {
  const send = linesWriter(target);
  const { checksPerBeat, ...who } = agent;
  let lines: string[] = [];
  let count = 0;
  for (let atMs = fromMs; atMs < toMs; atMs += HEARTBEAT_EVERY_MS) {
    lines.push(
      heartbeatLine({
        ...who,
        forwardedThroughMs: atMs,
        written: count * checksPerBeat,
        parked: 0,
        startedMs: fromMs,
        atMs,
      }),
    );
    count++;
    if (lines.length === LINES_PER_REQUEST) {
      await send(lines);
      lines = [];
    }
  }
  if (lines.length > 0) await send(lines);
  return count;
}

/** Writes the fleet's observations in [fromMs, toMs) through the store's write(), an hour of the fleet at a time. */
export async function prefillStore(
  store: ObservationStore,
  servers: number,
  fromMs: number,
  toMs: number,
  onHour: (done: number, total: number) => void,
): Promise<Prefilled> {
  const startedMs = performance.now();
  let observations = 0;
  let hours = 0;
  const totalHours = Math.ceil((toMs - fromMs) / 3_600_000);
  for (const chunk of monthObservations(servers, fromMs, toMs)) {
    await store.write(chunk);
    observations += chunk.length;
    onHour(++hours, totalHours);
  }
  return { observations, ms: performance.now() - startedMs };
}
