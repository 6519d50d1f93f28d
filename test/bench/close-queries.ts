// Why the InfluxDB month close costs what it does: the same hours of a generated fleet aggregated by influxd in
// several query shapes, each timed whole, 200 servers a query, 2 queries in flight. The close's shape (run-reader.ts)
// counts the points per series and hour and takes the largest of the sparse gap marks (gap-marks.ts) and the old
// form's aggregates (none in data written since); the old shape aggregated
// count, min and max of `gap_ms`, a field on every point, over the same hours written in the old form.
import { READS_IN_FLIGHT, SERVERS_PER_READ } from '../../src/close/compute.js';
import { hourlyAggregates } from '../../src/store/influx/run-reader.js';
import { startInfluxd } from '../support/influxd.js';
import { prefillInflux } from './daemon-prefill.js';
import type { FigureLog } from './figures.js';
import { serverId } from './fleet.js';

const MEASUREMENT = 'uptime_observation';
/** The same observations in the old form (every point carrying gap_ms), for the old shape. */
const OLD_MEASUREMENT = 'uptime_observation_old';
const STALE_AFTER_MS = 90_000;
/** Each shape is timed this many times; the figure is the fastest (the least disturbed by the machine). */
const ROUNDS = 2;

export interface CloseQueriesOptions {
  servers: number;
  hours: number;
}

async function inFlight<T>(items: readonly T[], limit: number, each: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await each(items[next++] as T);
    }),
  );
}

export async function benchCloseQueries(options: CloseQueriesOptions, log: FigureLog): Promise<void> {
  const influxd = await startInfluxd('uptime');
  try {
    const fromMs = Date.UTC(2026, 10, 2);
    const toMs = fromMs + options.hours * 3_600_000;
    const prefill = (measurement: string, oldForm: boolean) =>
      prefillInflux(
        { url: influxd.url, database: influxd.database, measurement, gapFloorMs: STALE_AFTER_MS, oldForm },
        options.servers,
        fromMs,
        toMs,
        () => {},
      );
    const prefilled = await prefill(MEASUREMENT, false);
    await prefill(OLD_MEASUREMENT, true);
    log.add('close_queries.points', prefilled.observations, 'points');
    const select = async (statement: string) => {
      const url = `${influxd.url}/query?${new URLSearchParams({ db: influxd.database, epoch: 'ms', q: statement })}`;
      const response = await fetch(url, { method: 'POST' });
      const body = await response.text();
      if (response.status !== 200 || body.includes('"error"'))
        throw new Error(`influxd answered: ${body.slice(0, 300)}`);
    };
    const groups: string[][] = [];
    for (let first = 0; first < options.servers; first += SERVERS_PER_READ)
      groups.push(
        Array.from({ length: Math.min(SERVERS_PER_READ, options.servers - first) }, (_, k) => serverId(first + k)),
      );
    const byNames = (names: string[]) => `(${names.map((n) => `"server" = '${n}'`).join(' OR ')}) AND `;
    const statement = (fields: string, names: string[], measurement = MEASUREMENT) =>
      `SELECT ${fields} FROM ${measurement} WHERE ${byNames(names)}time >= ${fromMs}ms AND time < ${toMs}ms ` +
      'GROUP BY time(1h), "server", "location", "check" fill(none)';
    const MARKS = 'max("gap_mark_ms") AS mark_max';
    const eachGroup = (shape: (names: string[]) => string) => () =>
      inFlight(groups, READS_IN_FLIGHT, (g) => select(shape(g)));
    const shapes: [string, () => Promise<void>][] = [
      ['close_shape', eachGroup((servers) => hourlyAggregates(MEASUREMENT, { servers, fromMs, toMs }))],
      [
        'old_close_shape_on_old_form',
        eachGroup((g) => statement('count("gap_ms") AS n, min("gap_ms") AS a, max("gap_ms") AS b', g, OLD_MEASUREMENT)),
      ],
      ['close_shape_on_old_form', eachGroup((servers) => hourlyAggregates(OLD_MEASUREMENT, { servers, fromMs, toMs }))],
      ['count_only', eachGroup((g) => statement('count("up") AS n', g))],
      ['marks_only', eachGroup((g) => statement(MARKS, g))],
      ['count_and_marks', eachGroup((g) => statement(`count("up") AS n, ${MARKS}`, g))],
    ];
    for (const [name, run] of shapes) {
      let fastestMs = Infinity;
      for (let round = 0; round < ROUNDS; round++) {
        const startedMs = performance.now();
        await run();
        fastestMs = Math.min(fastestMs, performance.now() - startedMs);
      }
      log.add(`close_queries.${name}`, fastestMs / 1_000, 's');
      log.add(`close_queries.${name}_points_per_second`, prefilled.observations / (fastestMs / 1_000), 'points/s');
    }
  } finally {
    await influxd.stop();
  }
}
