// One observation in its external JSON form (import files): validation with a reason a person can act on.
import { z } from 'zod';
import { identifier, parseIsoInstantMs } from '../config/schema.js';
import { describeZodIssue, plainErrorMap } from '../config/zod-messages.js';
import type { Observation } from '../sla/types.js';

/** The largest epoch ms a JavaScript Date holds (year 275760); beyond it no ISO time can be printed. */
const MAX_DATE_MS = 8_640_000_000_000_000;
const TIME_FORMAT = 'must be an ISO-8601 time with Z or an offset, or epoch milliseconds';

const lineSchema = z.strictObject({
  time: z.union([z.string(), z.number().int().nonnegative().max(MAX_DATE_MS)], {
    error: (issue) => (issue.input === undefined ? 'is required' : TIME_FORMAT),
  }),
  server: z.string().min(1),
  // As in the configuration: probing.location and check names are identifiers (safe as InfluxDB tags).
  location: identifier.optional(),
  check: z.union([z.literal(''), identifier]).optional(),
  up: z.boolean(),
  latencyMs: z.number().int().nonnegative().optional(),
  error: z.string().max(200).optional(),
});

export type ParsedLine = { ok: true; observation: Observation } | { ok: false; reason: string };

/** The times a store can hold, in epoch ms, both ends included; `store` names it in messages. */
export interface StorableTimeRange {
  store: string;
  minMs: number;
  maxMs: number;
}

/**
 * InfluxDB keeps a time as int64 nanoseconds and refuses the two lowest and the highest value (its sentinels):
 * 1677-09-21T00:12:43.145224194Z to 2262-04-11T23:47:16.854775806Z. These are the whole ms inside that range.
 */
export const INFLUXDB_TIME_RANGE: StorableTimeRange = {
  store: 'InfluxDB',
  minMs: -9_223_372_036_854,
  maxMs: 9_223_372_036_854,
};

export interface ParseOptions {
  /** Refuse times the target store cannot hold (a line InfluxDB refuses would otherwise count as imported). */
  timeRange?: StorableTimeRange;
}

/**
 * Parses one NDJSON line. `time` is ISO-8601 with Z or an offset, or epoch milliseconds, within
 * `options.timeRange` when given; `server` must be configured; `location` defaults to the configured probing
 * location.
 */
export function parseObservationLine(
  line: string,
  servers: ReadonlyMap<string, unknown>,
  defaultLocation: string,
  options: ParseOptions = {},
): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, reason: 'not a JSON object' };
  const parsed = lineSchema.safeParse(value, { error: plainErrorMap });
  if (!parsed.success)
    return {
      ok: false,
      reason: parsed.error.issues.flatMap((issue) => describeZodIssue(issue, 'unknown field')).join('; '),
    };
  const data = parsed.data;
  const timeMs = typeof data.time === 'number' ? data.time : parseIsoInstantMs(data.time);
  if (timeMs === undefined)
    return {
      ok: false,
      reason: `time: "${data.time}" is not an ISO-8601 time with Z or an offset, nor epoch milliseconds`,
    };
  const range = options.timeRange;
  if (range && (timeMs < range.minMs || timeMs > range.maxMs)) {
    const bounds = `${new Date(range.minMs).toISOString()} to ${new Date(range.maxMs).toISOString()}`;
    return {
      ok: false,
      reason: `time: ${JSON.stringify(data.time)} is outside the times ${range.store} can store (${bounds})`,
    };
  }
  if (!servers.has(data.server)) return { ok: false, reason: `server: "${data.server}" is not a configured server` };
  const observation: Observation = {
    timeMs,
    server: data.server,
    location: data.location ?? defaultLocation,
    check: data.check ?? '',
    up: data.up,
  };
  if (data.latencyMs !== undefined) observation.latencyMs = data.latencyMs;
  if (data.error !== undefined) observation.error = data.error;
  return { ok: true, observation };
}

/** One observation in the import form, as a line `parseObservationLine` reads back (time in epoch ms). */
export function formatObservationLine(o: Observation): string {
  const line: Record<string, unknown> = { time: o.timeMs, server: o.server, location: o.location };
  if (o.check !== '') line.check = o.check;
  line.up = o.up;
  if (o.latencyMs !== undefined) line.latencyMs = o.latencyMs;
  if (o.error !== undefined) line.error = o.error;
  return JSON.stringify(line);
}
