// One key, one value on InfluxDB (store.ts): InfluxDB keeps the last value written for a point, so a line that
// may repeat a key is checked first against the lines still waiting in the outbox and against InfluxDB. The
// store asks before it queues (within a budget: its commits must not wait on a network); the forwarder asks
// before it sends what was queued unchecked.
//
// A line may repeat a key when its time is not after its series' last time in this outbox, or when the outbox
// has never seen its series and the time is over an hour old (an import into a fresh outbox). What this cannot
// see: a point written to InfluxDB by another writer (another agent, another outbox file) for a series this
// outbox has not written before, within the last hour.
import { mapWithLimit } from '../../concurrency.js';
import type { Logger } from '../../logging.js';
import type { Observation } from '../../sla/types.js';
import { quoteIdentifier, quoteString, type InfluxSeries } from './influxql.js';
import { EMPTY_CHECK, fieldsOf, seriesOf } from './line-protocol.js';
import type { InfluxOutbox, OutboxRow } from './outbox.js';

/** A series this outbox has never seen is checked for repeats only for observations older than this (imports). */
const UNSEEN_SERIES_CHECK_AFTER_MS = 3_600_000;
/** Series looked up in InfluxDB at once. */
const LOOKUPS_IN_FLIGHT = 4;
/** How long the store waits for InfluxDB's answer; past it the lines are queued to be checked before sending. */
const LOOKUP_BUDGET_MS = 500;

/** A line's series (as written) and time: its key. */
export interface KeyedLine {
  series: string;
  timeMs: number;
}

/** Whether an observation at `timeMs` may repeat a key, given its series' last time in this outbox. */
export function mayRepeat(lastMs: number | undefined, timeMs: number, nowMs: number): boolean {
  return lastMs === undefined ? timeMs < nowMs - UNSEEN_SERIES_CHECK_AFTER_MS : timeMs <= lastMs;
}

/** The outcome of an observation as a comparable text: equal texts, same outcome. */
export const outcomeOf = (o: Pick<Observation, 'up' | 'latencyMs' | 'error'>) =>
  outcomeText(o.up, o.latencyMs, o.error);

const outcomeText = (up: boolean, latencyMs: number | undefined | null, error: string | undefined | null) =>
  `${up ? 1 : 0}|${latencyMs ?? ''}|${error ?? ''}`;

/** The outcome written in one of our lines. */
function outcomeOfLine(line: string): string {
  const fields = fieldsOf(line);
  const latency = fields.get('latency_ms');
  const error = fields.get('error');
  return outcomeText(
    fields.get('up') === '1i',
    latency === undefined ? undefined : Number.parseInt(latency, 10),
    error === undefined ? undefined : error.slice(1, -1).replace(/\\(.)/g, '$1'),
  );
}

/** A key as text. */
export const keyText = (series: string, timeMs: number) => `${series} ${timeMs}`;

const keyOfLine = (line: string) => keyText(seriesOf(line), Number(line.slice(line.lastIndexOf(' ') + 1)));

export class RepeatedKeys {
  constructor(
    private readonly outbox: InfluxOutbox,
    private readonly select: (statement: string) => Promise<InfluxSeries[]>,
    private readonly measurement: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Outcomes already held for the keys of `lines` (key text → outcome text): waiting in the outbox, or in InfluxDB.
   * sawInflux is false when InfluxDB could not be asked within the budget: those lines must be checked later.
   */
  async held(lines: readonly KeyedLine[]): Promise<{ outcomes: Map<string, string>; sawInflux: boolean }> {
    const outcomes = new Map<string, string>();
    if (lines.length === 0) return { outcomes, sawInflux: true };
    for (const time of new Set(lines.map((l) => l.timeMs))) {
      for (const waiting of this.outbox.waitingAt(time)) outcomes.set(keyOfLine(waiting), outcomeOfLine(waiting));
    }
    try {
      let timer: NodeJS.Timeout | undefined;
      const budget = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`InfluxDB did not answer within ${LOOKUP_BUDGET_MS} ms`)),
          LOOKUP_BUDGET_MS,
        );
      });
      const lookup = this.stored(lines);
      lookup.catch(() => undefined); // past the budget its answer, or failure, is not needed
      const stored = await Promise.race([lookup, budget]).finally(() => clearTimeout(timer));
      for (const [key, outcome] of stored) if (!outcomes.has(key)) outcomes.set(key, outcome);
      return { outcomes, sawInflux: true };
    } catch (error) {
      this.logger.warn(
        { err: error, lines: lines.length },
        'cannot ask InfluxDB whether these keys are held; they will be checked before they are sent',
      );
      return { outcomes, sawInflux: false };
    }
  }

  /** The forwarder's check of queued lines marked `verify`: repeats of what InfluxDB holds are left out. */
  async checkQueued(rows: readonly OutboxRow[]): Promise<{ send: OutboxRow[]; skip: OutboxRow[] }> {
    const toCheck = rows
      .filter((r) => r.verify)
      .map((r) => ({ row: r, series: seriesOf(r.line), timeMs: Number(r.line.slice(r.line.lastIndexOf(' ') + 1)) }));
    const stored = await this.stored(toCheck);
    const skip = new Set<OutboxRow>();
    let conflicts = 0;
    for (const { row, series, timeMs } of toCheck) {
      const held = stored.get(keyText(series, timeMs));
      if (held === undefined) continue;
      skip.add(row);
      if (held !== outcomeOfLine(row.line)) {
        conflicts++;
        this.logger.warn(
          { line: row.line },
          'an observation repeats a key InfluxDB holds with a different outcome; the stored value stays',
        );
      }
    }
    if (skip.size > 0)
      this.logger.info({ skipped: skip.size, conflicts }, 'queued observations were already in InfluxDB');
    return { send: rows.filter((r) => !skip.has(r)), skip: [...skip] };
  }

  /** Outcomes InfluxDB holds at the keys of `lines` (key text → outcome text); throws when it cannot be asked. */
  private async stored(lines: readonly KeyedLine[]): Promise<Map<string, string>> {
    const bySeries = new Map<string, { fromMs: number; toMs: number }>();
    for (const l of lines) {
      const range = bySeries.get(l.series);
      if (!range) bySeries.set(l.series, { fromMs: l.timeMs, toMs: l.timeMs });
      else {
        range.fromMs = Math.min(range.fromMs, l.timeMs);
        range.toMs = Math.max(range.toMs, l.timeMs);
      }
    }
    const outcomes = new Map<string, string>();
    const m = quoteIdentifier(this.measurement);
    await mapWithLimit([...bySeries], LOOKUPS_IN_FLIGHT, async ([series, range]) => {
      const tags = tagsOfSeries(series);
      const rows = await this.select(
        `SELECT "up", "latency_ms", "error" FROM ${m} WHERE "server" = ${quoteString(tags.server ?? '')} AND "location" = ${quoteString(tags.location ?? '')} AND "check" = ${quoteString(tags.check ?? EMPTY_CHECK)} AND time >= ${range.fromMs}ms AND time <= ${range.toMs}ms`,
      );
      for (const s of rows) {
        for (const row of s.values)
          outcomes.set(
            keyText(series, Number(row[0])),
            outcomeText(
              Number(row[1]) === 1,
              row[2] === null ? undefined : (row[2] as number),
              row[3] === null ? undefined : (row[3] as string),
            ),
          );
      }
    });
    return outcomes;
  }
}

/** The tags of a series part we wrote (`m,check=..,location=..,server=..`), unescaped. */
function tagsOfSeries(series: string): Record<string, string> {
  const tags: Record<string, string> = {};
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < series.length; i++) {
    // Line protocol escapes only these in tag keys and values; any other backslash is itself.
    const next = series[i + 1];
    if (series[i] === '\\' && (next === ',' || next === '=' || next === ' ')) {
      current += next;
      i++;
    } else if (series[i] === ',') {
      parts.push(current);
      current = '';
    } else current += series[i];
  }
  parts.push(current);
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    tags[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return tags;
}
