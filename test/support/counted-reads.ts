// InfluxQL reads counted and timed from outside the store (the production classes keep no benchmark counters):
// wrap the select function that InfluxRunReader is built on.
import type { InfluxConnection } from '../../src/store/influx/connection.js';
import { InfluxQLClient, type InfluxSeries } from '../../src/store/influx/influxql.js';
import { InfluxRunReader, type SelectSeries } from '../../src/store/influx/run-reader.js';

/** What the run reader asked InfluxDB: aggregate queries (hourly, and the cut hours' counts), row-by-row reads, their rows and time. */
export interface ReadCounts {
  aggregateQueries: number;
  aggregateMs: number;
  aggregateRows: number;
  rawQueries: number;
  rawMs: number;
  rawRows: number;
}

/** `select`, counting every statement by kind (an aggregate groups by time, or counts the points of a cut hour). */
export function countedSelect(select: SelectSeries): { select: SelectSeries; counts: ReadCounts } {
  const counts: ReadCounts = {
    aggregateQueries: 0,
    aggregateMs: 0,
    aggregateRows: 0,
    rawQueries: 0,
    rawMs: 0,
    rawRows: 0,
  };
  const rowsOf = (series: InfluxSeries[]) => series.reduce((n, s) => n + s.values.length, 0);
  return {
    counts,
    async select(statement) {
      const startedMs = performance.now();
      const series = await select(statement);
      const ms = performance.now() - startedMs;
      if (statement.includes('GROUP BY time(') || statement.startsWith('SELECT count(')) {
        counts.aggregateQueries++;
        counts.aggregateMs += ms;
        counts.aggregateRows += rowsOf(series);
      } else {
        counts.rawQueries++;
        counts.rawMs += ms;
        counts.rawRows += rowsOf(series);
      }
      return series;
    },
  };
}

/** The store's run reader on `connection`, its queries counted; close() releases its HTTP agent. */
export function countedRunReader(connection: InfluxConnection): {
  reader: InfluxRunReader;
  counts: ReadCounts;
  close(): Promise<void>;
} {
  const influxql = new InfluxQLClient(connection);
  const { select, counts } = countedSelect((statement) => influxql.query(statement));
  return { reader: new InfluxRunReader(select, connection.measurement), counts, close: () => influxql.close() };
}
