// What InfluxDB's answer to a write means for the lines sent: confirmed, some refused by name, too large, or
// "try again later". Pure, so every answer shape is unit-tested; the forwarder acts on the verdict.
//
// The rule that keeps observations: a line is parked (taken out of the queue for good) only when InfluxDB refused
// that very line, by name. Any answer that names no line is treated as transient and retried, however long it
// lasts: a proxy answering 400 for a while must not turn a queue of good lines into parked ones.
import { fieldsOf, fieldTypeOf, measurementOf } from './line-protocol.js';

export type WriteVerdict =
  | { kind: 'ok' }
  /** InfluxDB refused these lines (index into the batch → its reason). The others may or may not have been written. */
  | { kind: 'refused'; refused: Map<number, string> }
  /** InfluxDB says it dropped some lines for good without naming them (or named more than it dropped): halves find them. */
  | { kind: 'split'; reason: string }
  /** The body was too large for the server (or a proxy in front of it). */
  | { kind: 'too-large'; reason: string }
  /**
   * Try again later; `unnamedBadRequest` marks a 400 that named no line (the forwarder isolates one that persists),
   * `notConnected` a request that found no server to connect to (the forwarder retries once InfluxDB answers again).
   */
  | { kind: 'retry'; reason: string; retryAfterMs?: number; unnamedBadRequest?: boolean; notConnected?: boolean };

/** The longest a Retry-After is honoured: a header asking for a day must not stop forwarding for a day. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** The error text of an InfluxDB answer: 1.x `{"error"}`, 2.x `{"message"}`, 3.x `{"error","data"}`, or plain text. */
function errorText(body: string): { text: string; json: { data?: unknown; line?: unknown; message?: unknown } } {
  try {
    const json = JSON.parse(body) as { error?: unknown; message?: unknown; data?: unknown; line?: unknown };
    const text = typeof json.error === 'string' ? json.error : typeof json.message === 'string' ? json.message : body;
    return { text, json: typeof json === 'object' && json !== null ? json : {} };
  } catch {
    return { text: body, json: {} };
  }
}

/** Retry-After in seconds or as an HTTP date, in ms from `nowMs`. */
export function retryAfterMs(header: string | undefined, nowMs: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1_000 : Date.parse(header) - nowMs;
  return Number.isNaN(ms) ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

const UNABLE_TO_PARSE = "unable to parse '";

/**
 * Lines named by `unable to parse '<line>': <reason>` (1.x and 2.x join several with a newline). A line may
 * itself hold `': `, so each candidate end is tried against the batch until one is a line we sent.
 */
function linesNamedUnparsable(text: string, lines: readonly string[]): Map<number, string> {
  const indexOf = new Map<string, number>();
  lines.forEach((line, i) => {
    indexOf.set(line, i);
  });
  const named = new Map<number, string>();
  for (let at = text.indexOf(UNABLE_TO_PARSE); at >= 0; at = text.indexOf(UNABLE_TO_PARSE, at + 1)) {
    const start = at + UNABLE_TO_PARSE.length;
    for (let end = text.indexOf("': ", start); end >= 0; end = text.indexOf("': ", end + 1)) {
      const index = indexOf.get(text.slice(start, end));
      if (index === undefined) continue;
      const reasonEnd = text.indexOf('\n', end);
      const reason = text.slice(end + 3, reasonEnd < 0 ? undefined : reasonEnd).replace(/ dropped=\d+$/, '');
      named.set(index, `unable to parse: ${reason}`);
      break;
    }
  }
  return named;
}

/** 3.x names refused lines by number, `data: [{ line_number, error_message }]`; Cloud one by `line` (both 1-based). */
function linesNumbered(
  json: { data?: unknown; line?: unknown; message?: unknown },
  lineCount: number,
): Map<number, string> {
  const named = new Map<number, string>();
  const entries = Array.isArray(json.data)
    ? (json.data as { line_number?: unknown; error_message?: unknown }[]).map(
        (e) => [e?.line_number, e?.error_message] as const,
      )
    : [[json.line, json.message] as const];
  for (const [n, message] of entries) {
    if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= lineCount)
      named.set(n - 1, String(message ?? 'refused'));
  }
  return named;
}

/** `field type conflict: input field "F" on measurement "M" is type T, already exists as type U`: the lines with F of type T in M. */
function linesOfConflictingType(text: string, lines: readonly string[]): Map<number, string> {
  const named = new Map<number, string>();
  const match =
    /field type conflict: input field "((?:[^"\\]|\\.)*)" on measurement "((?:[^"\\]|\\.)*)" is type (\w+), already exists as type (\w+)/.exec(
      text,
    );
  if (!match) return named;
  const [, field, measurement, type, existing] = match as unknown as [string, string, string, string, string];
  lines.forEach((line, i) => {
    if (measurementOf(line).replace(/\\(.)/g, '$1') !== measurement) return;
    const value = fieldsOf(line).get(field);
    if (value !== undefined && fieldTypeOf(value) === type)
      named.set(i, `field type conflict: ${field} is ${type}, InfluxDB holds ${existing}`);
  });
  return named;
}

/** The verdict on a write of `lines` answered with `status` and `body`. */
export function writeVerdict(
  status: number,
  body: string,
  lines: readonly string[],
  retryAfter?: string,
  nowMs = Date.now(),
): WriteVerdict {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  const { text, json } = errorText(body);
  const short = `HTTP ${status}${text ? `: ${text.trim().slice(0, 300)}` : ''}`;
  if (status === 413) return { kind: 'too-large', reason: short };
  if (status === 400 || status === 422) {
    const dropped = Number(/dropped=(\d+)/.exec(text)?.[1] ?? 0);
    for (const named of [
      linesNumbered(json, lines.length),
      linesNamedUnparsable(text, lines),
      linesOfConflictingType(text, lines),
    ]) {
      if (named.size === 0) continue;
      // 1.x keeps field types per shard: a conflict may name lines of other shards that were stored. InfluxDB's
      // own count of dropped points then falls short of the lines named, and halving finds the dropped ones.
      if (dropped > 0 && named.size > dropped) return { kind: 'split', reason: short };
      return { kind: 'refused', refused: named };
    }
    // Points older than the retention policy keeps are dropped for good, and the answer names none: halving the
    // batch finds them. Other unnamed drops (series or tag-value limits) an operator can lift: retried.
    if (/beyond retention policy/.test(text) && dropped > 0) return { kind: 'split', reason: short };
    return { kind: 'retry', reason: short, retryAfterMs: retryAfterMs(retryAfter, nowMs), unnamedBadRequest: true };
  }
  return { kind: 'retry', reason: short, retryAfterMs: retryAfterMs(retryAfter, nowMs) };
}
