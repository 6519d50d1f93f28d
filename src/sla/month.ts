// Calendar months in a time zone (sla-terms.md rule 1): local midnight on the 1st to local midnight on the
// 1st of the next month, measured in real elapsed milliseconds, so DST months are 743 or 745 hours long.
import { DateTime, IANAZone } from 'luxon';
import type { MonthWindow } from './types.js';

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Throws unless the zone is a valid IANA time zone name. */
export function assertTimeZone(timeZone: string): void {
  if (!IANAZone.isValidZone(timeZone)) throw new Error(`"${timeZone}" is not a valid IANA time zone`);
}

/** Whether the text is a month in the form 'YYYY-MM'. */
export const isMonth = (text: string): boolean => MONTH_RE.test(text);

/** Parses 'YYYY-MM' into year and month number; throws on malformed text. */
export function parseMonth(month: string): { year: number; month: number } {
  const match = MONTH_RE.exec(month);
  if (!match) throw new Error(`"${month}" is not a month in the form YYYY-MM`);
  return { year: Number(match[1]), month: Number(match[2]) };
}

/** The month 'YYYY-MM' as a window of epoch milliseconds in the time zone. */
export function monthWindow(month: string, timeZone: string): MonthWindow {
  assertTimeZone(timeZone);
  const { year, month: monthNumber } = parseMonth(month);
  const start = DateTime.fromObject({ year, month: monthNumber, day: 1 }, { zone: timeZone });
  const end = start.plus({ months: 1 });
  return { month, timeZone, fromMs: start.toMillis(), toMs: end.toMillis() };
}

/**
 * A month up to `asOfMs`: from its start to asOf, or to its end once it has ended. At the month's very first
 * millisecond (or before it) the window is still one millisecond long.
 */
export function monthToDateWindow(month: string, timeZone: string, asOfMs: number): MonthWindow {
  const window = monthWindow(month, timeZone);
  return { ...window, toMs: Math.min(window.toMs, Math.max(window.fromMs + 1, asOfMs)) };
}

/** The month ('YYYY-MM') that contains the instant, in the time zone. */
export function monthContaining(timeMs: number, timeZone: string): string {
  assertTimeZone(timeZone);
  return DateTime.fromMillis(timeMs, { zone: timeZone }).toFormat('yyyy-MM');
}

/** The month before 'YYYY-MM'. */
export function previousMonth(month: string): string {
  const { year, month: monthNumber } = parseMonth(month);
  return monthNumber === 1 ? `${year - 1}-12` : `${year}-${String(monthNumber - 1).padStart(2, '0')}`;
}

/** The month after 'YYYY-MM'. */
export function nextMonth(month: string): string {
  const { year, month: monthNumber } = parseMonth(month);
  return monthNumber === 12 ? `${year + 1}-01` : `${year}-${String(monthNumber + 1).padStart(2, '0')}`;
}

/** Local midnight at the start of 'YYYY-MM-DD' in the time zone, as epoch ms. */
export function localDateStartMs(date: string, timeZone: string): number {
  assertTimeZone(timeZone);
  const match = DATE_RE.exec(date);
  const start =
    match &&
    DateTime.fromObject({ year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) }, { zone: timeZone });
  if (!start?.isValid) throw new Error(`"${date}" is not a date in the form YYYY-MM-DD`);
  return start.toMillis();
}
