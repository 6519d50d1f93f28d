// One observation in its external JSON form (import files): validation with a reason a person can act on.
import { z } from 'zod';
import type { Observation } from '../sla/types.js';

const lineSchema = z.strictObject({
  time: z.union([z.string(), z.number().int().nonnegative()]),
  server: z.string().min(1),
  location: z.string().min(1).optional(),
  check: z.string().optional(),
  up: z.boolean(),
  latencyMs: z.number().int().nonnegative().optional(),
  error: z.string().max(200).optional(),
});

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

export type ParsedLine = { ok: true; observation: Observation } | { ok: false; reason: string };

/**
 * Parses one NDJSON line. `time` is ISO-8601 with Z or an offset, or epoch milliseconds; `server` must be
 * configured; `location` defaults to the configured probing location.
 */
export function parseObservationLine(line: string, servers: ReadonlyMap<string, unknown>, defaultLocation: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  const parsed = lineSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || '(line)';
    const reason = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
    return { ok: false, reason: `${field}: ${reason}` };
  }
  const data = parsed.data;
  let timeMs: number;
  if (typeof data.time === 'number') timeMs = data.time;
  else if (ISO_WITH_OFFSET.test(data.time) && !Number.isNaN(Date.parse(data.time))) timeMs = Date.parse(data.time);
  else return { ok: false, reason: `time: "${data.time}" is not an ISO-8601 time with Z or an offset, nor epoch milliseconds` };
  if (!servers.has(data.server)) return { ok: false, reason: `server: "${data.server}" is not a configured server` };
  const observation: Observation = { timeMs, server: data.server, location: data.location ?? defaultLocation, check: data.check ?? '', up: data.up };
  if (data.latencyMs !== undefined) observation.latencyMs = data.latencyMs;
  if (data.error !== undefined) observation.error = data.error;
  return { ok: true, observation };
}
