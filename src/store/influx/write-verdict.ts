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
  /** InfluxDB says it dropped some lines of a partial write without naming them: halves will find them. */
  | { kind: 'split'; reason: string }
  /** The body was too large for the server (or a proxy in front of it). */
  | { kind: 'too-large'; reason: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number };

/** The error text of an InfluxDB answer: 1.x `{"error"}`, 2.x `{"message"}`, 3.x `{"error","data"}`, or plain text. */
function errorText(body: string): { text: string; data?: unknown } {
  try {
    const json = JSON.parse(body) as { error?: unknown; message?: unknown; data?: unknown };
    const text = typeof json.error === 'string' ? json.error : typeof json.message === 'string' ? json.message : body;
    return { text, data: json.data };
  } catch {
    return { text: body };
  }
}

/** Retry-After in seconds or as an HTTP date, in ms from `nowMs`. */
export function retryAfterMs(header: string | undefined, nowMs: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

const UNABLE_TO_PARSE = "unable to parse '";

/**
 * Lines named by `unable to parse '<line>': <reason>` (1.x and 2.x join several with a newline). A line may
 * itself hold `': `, so each candidate end is tried against the batch until one is a line we sent.
 */
function linesNamedUnparsable(text: string, lines: readonly string[]): Map<number, string> {
  const indexOf = new Map<string, number>();
  lines.forEach((line, i) => indexOf.set(line, i));
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

/** 3.x names refused lines by number: `data: [{ line_number, error_message }]` (1-based). */
function linesNumbered(data: unknown, lineCount: number): Map<number, string> {
  const named = new Map<number, string>();
  if (!Array.isArray(data)) return named;
  for (const entry of data as { line_number?: unknown; error_message?: unknown }[]) {
    const n = entry?.line_number;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= lineCount) named.set(n - 1, String(entry.error_message ?? 'refused'));
  }
  return named;
}

/** `field type conflict: input field "F" on measurement "M" is type T, already exists as type U`: the lines with F of type T in M. */
function linesOfConflictingType(text: string, lines: readonly string[]): Map<number, string> {
  const named = new Map<number, string>();
  const match = /field type conflict: input field "((?:[^"\\]|\\.)*)" on measurement "((?:[^"\\]|\\.)*)" is type (\w+), already exists as type (\w+)/.exec(text);
  if (!match) return named;
  const [, field, measurement, type, existing] = match as unknown as [string, string, string, string, string];
  lines.forEach((line, i) => {
    if (measurementOf(line).replace(/\\(.)/g, '$1') !== measurement) return;
    const value = fieldsOf(line).get(field);
    if (value !== undefined && fieldTypeOf(value) === type) named.set(i, `field type conflict: ${field} is ${type}, InfluxDB holds ${existing}`);
  });
  return named;
}

/** The verdict on a write of `lines` answered with `status` and `body`. */
export function writeVerdict(status: number, body: string, lines: readonly string[], retryAfter?: string, nowMs = Date.now()): WriteVerdict {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  const { text, data } = errorText(body);
  const short = `HTTP ${status}${text ? `: ${text.slice(0, 300)}` : ''}`;
  if (status === 413) return { kind: 'too-large', reason: short };
  if (status === 400 || status === 422) {
    for (const named of [linesNumbered(data, lines.length), linesNamedUnparsable(text, lines), linesOfConflictingType(text, lines)]) {
      if (named.size > 0) return { kind: 'refused', refused: named };
    }
    // A partial write is InfluxDB's own word that some lines were dropped for good (beyond the retention policy,
    // a limit): resending cannot help, halving the batch finds them.
    if (/partial write/.test(text) && /dropped=[1-9]/.test(text)) return { kind: 'split', reason: text.slice(0, 300) };
  }
  return { kind: 'retry', reason: short, retryAfterMs: retryAfterMs(retryAfter, nowMs) };
}
