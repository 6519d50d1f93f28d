// The line protocol of an observation: written with the client library's Point, read back here for what
// InfluxDB's answers and the duplicate-key rule need (its series, its fields and their types).
//
// Point is the one part of @influxdata/influxdb-client kept: its escaping of tags, fields and strings is
// well tested against every InfluxDB generation. Its WriteApi is not used: it drops points on some errors and
// never retries a 400 (line-writer.ts); the outbox and the forwarder do that job.
import { Point } from '@influxdata/influxdb-client';
import type { Observation } from '../../sla/types.js';
import { GAP_MARK_FIELD } from './gap-marks.js';

/** The `check` tag of an observation without a check name: InfluxDB drops tags with empty values. */
export const EMPTY_CHECK = '-';

/** The line of one observation, with its gap mark when it has one (gap-marks.ts). */
export function observationLine(measurement: string, observation: Observation, gapMarkMs: number | undefined): string {
  const point = new Point(measurement)
    .tag('server', observation.server)
    .tag('location', observation.location)
    .tag('check', observation.check === '' ? EMPTY_CHECK : observation.check)
    .intField('up', observation.up ? 1 : 0)
    .timestamp(observation.timeMs);
  if (gapMarkMs !== undefined) point.intField(GAP_MARK_FIELD, gapMarkMs);
  if (observation.latencyMs !== undefined) point.intField('latency_ms', observation.latencyMs);
  if (observation.error !== undefined) point.stringField('error', observation.error);
  const line = point.toLineProtocol();
  if (line === undefined) throw new Error(`no line protocol for an observation of ${observation.server}`);
  return line;
}

/** Index of the first space not escaped by a backslash (the end of the series part), or -1. */
function endOfSeries(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 32 /* space */) return i;
  }
  return -1;
}

/** The series part (measurement and tags, escaped as written): equal for two points of one series. */
export function seriesOf(line: string): string {
  const end = endOfSeries(line);
  return end < 0 ? line : line.slice(0, end);
}

/** The measurement, escaped as written. */
export function measurementOf(line: string): string {
  const series = seriesOf(line);
  for (let i = 0; i < series.length; i++) {
    const c = series.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 44 /* , */) return series.slice(0, i);
  }
  return series;
}

/** The fields of a line as written (`1i`, `"text"`, `1.5`, `t`), by field name. */
export function fieldsOf(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  const start = endOfSeries(line) + 1;
  if (start <= 0) return fields;
  let i = start;
  while (i < line.length) {
    let key = '';
    while (i < line.length && line[i] !== '=') {
      if (line[i] === '\\') i++;
      key += line[i++];
    }
    i++; // '='
    const valueStart = i;
    if (line[i] === '"') {
      for (i++; i < line.length && line[i] !== '"'; i++) if (line[i] === '\\') i++;
      i++;
    } else {
      while (i < line.length && line[i] !== ',' && line[i] !== ' ') i++;
    }
    fields.set(key, line.slice(valueStart, i));
    if (line[i] === ' ') break; // the timestamp follows
    i++; // ','
  }
  return fields;
}

export type FieldType = 'integer' | 'unsigned' | 'string' | 'boolean' | 'float';

/** The InfluxDB type of a field value as written in line protocol. */
export function fieldTypeOf(value: string): FieldType {
  if (value.startsWith('"')) return 'string';
  if (/^-?\d+i$/.test(value)) return 'integer';
  if (/^\d+u$/.test(value)) return 'unsigned';
  if (/^(t|T|true|True|TRUE|f|F|false|False|FALSE)$/.test(value)) return 'boolean';
  return 'float';
}
