// Why the InfluxDB month close costs what it does: the same hours of a generated fleet aggregated by influxd in
// several query shapes, each timed whole. The close's shape (run-reader.ts) aggregates count, min and max of
// `gap_ms` per series and hour, for 200 servers a query, 2 queries in flight; the others change one thing each.
import { READS_IN_FLIGHT, SERVERS_PER_READ } from '../../src/close/compute.js';
import { startInfluxd } from '../support/influxd.js';
import { prefillInflux } from './daemon-prefill.js';
import type { FigureLog } from './figures.js';
import { serverId } from './fleet.js';

const MEASUREMENT = 'uptime_observation';
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
    const prefilled = await prefillInflux(
      { url: influxd.url, database: influxd.database, measurement: MEASUREMENT },
      options.servers,
      fromMs,
      toMs,
      () => {},
    );
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
    const byRegex = (names: string[]) => `"server" =~ /^(${names.join('|')})$/ AND `;
    const statement = (fields: string, filter: string, from = fromMs, to = toMs) =>
      `SELECT ${fields} FROM ${MEASUREMENT} WHERE ${filter}time >= ${from}ms AND time < ${to}ms ` +
      'GROUP BY time(1h), "server", "location", "check" fill(none)';
    const CLOSE_FIELDS = 'count("gap_ms") AS n, min("gap_ms") AS min_gap, max("gap_ms") AS max_gap';
    const hours = Array.from({ length: options.hours }, (_, h) => fromMs + h * 3_600_000);
    const shapes: [string, () => Promise<void>][] = [
      ['close_shape', () => inFlight(groups, READS_IN_FLIGHT, (g) => select(statement(CLOSE_FIELDS, byNames(g))))],
      ['regex_filter', () => inFlight(groups, READS_IN_FLIGHT, (g) => select(statement(CLOSE_FIELDS, byRegex(g))))],
      ['no_filter_one_query', () => select(statement(CLOSE_FIELDS, ''))],
      [
        'no_filter_hour_by_hour',
        () => inFlight(hours, READS_IN_FLIGHT, (h) => select(statement(CLOSE_FIELDS, '', h, h + 3_600_000))),
      ],
      [
        'min_max_only',
        () =>
          inFlight(groups, READS_IN_FLIGHT, (g) =>
            select(statement('min("gap_ms") AS min_gap, max("gap_ms") AS max_gap', byNames(g))),
          ),
      ],
      [
        'count_only',
        () => inFlight(groups, READS_IN_FLIGHT, (g) => select(statement('count("gap_ms") AS n', byNames(g)))),
      ],
      [
        'count_of_unclean_points',
        () =>
          inFlight(groups, READS_IN_FLIGHT, (g) =>
            select(statement('count("gap_ms") AS n', `${byNames(g)}("gap_ms" < 0 OR "gap_ms" >= 90000) AND `)),
          ),
      ],
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
