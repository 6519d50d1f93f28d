import { describe, expect, it } from 'vitest';
import { localDateStartMs, monthContaining, monthWindow, nextMonth, previousMonth } from '../../../src/sla/index.js';

const HOUR = 3_600_000;

describe('monthWindow (rule 1)', () => {
  it.each([
    // October 2026 in Warsaw: clocks go back on the 25th, so 31 x 24 + 1 hours.
    ['2026-10', 'Europe/Warsaw', 745, '2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z'],
    // March 2026 in Warsaw: clocks go forward on the 29th, so 31 x 24 - 1 hours.
    ['2026-03', 'Europe/Warsaw', 743, '2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z'],
    ['2026-11', 'Europe/Warsaw', 720, '2026-10-31T23:00:00.000Z', '2026-11-30T23:00:00.000Z'],
    ['2026-02', 'Europe/Warsaw', 672, '2026-01-31T23:00:00.000Z', '2026-02-28T23:00:00.000Z'],
    ['2028-02', 'UTC', 696, '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    ['2026-12', 'UTC', 744, '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
  ])('%s in %s lasts %i hours', (month, zone, hours, from, to) => {
    const window = monthWindow(month, zone);
    expect(window.toMs - window.fromMs).toBe(hours * HOUR);
    expect(new Date(window.fromMs).toISOString()).toBe(from);
    expect(new Date(window.toMs).toISOString()).toBe(to);
  });

  it('rejects a malformed month and an unknown zone', () => {
    expect(() => monthWindow('2026-13', 'UTC')).toThrow('"2026-13" is not a month in the form YYYY-MM');
    expect(() => monthWindow('2026-10', 'Mars/Olympus')).toThrow('"Mars/Olympus" is not a valid IANA time zone');
  });

  it('finds neighbouring months and the month of an instant in the zone', () => {
    expect(previousMonth('2026-01')).toBe('2025-12');
    expect(nextMonth('2026-12')).toBe('2027-01');
    // 2026-10-31T23:30Z is already November 1st, 00:30 in Warsaw.
    expect(monthContaining(Date.parse('2026-10-31T23:30:00Z'), 'Europe/Warsaw')).toBe('2026-11');
    expect(monthContaining(Date.parse('2026-10-31T22:30:00Z'), 'Europe/Warsaw')).toBe('2026-10');
    expect(localDateStartMs('2026-10-15', 'Europe/Warsaw')).toBe(Date.parse('2026-10-14T22:00:00Z'));
  });
});
