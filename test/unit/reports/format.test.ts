import { describe, expect, it } from 'vitest';
import {
  formatClockDuration,
  formatDuration,
  formatLocalTime,
  formatMoney,
  formatPercentHundredthsText,
  formatPercentText,
} from '../../../src/reports/format.js';

describe('report formats', () => {
  it('money in Polish and English notation, from exact grosze', () => {
    expect(formatMoney(123_456, 'pl')).toBe('1 234,56 zł');
    expect(formatMoney(123_456, 'en')).toBe('PLN 1,234.56');
    expect(formatMoney(100_000_005, 'pl')).toBe('1 000 000,05 zł');
    expect(formatMoney(0, 'en')).toBe('PLN 0.00');
  });
  it('percentages', () => {
    expect(formatPercentText('99.5973', 'pl')).toBe('99,5973 %');
    expect(formatPercentText('99.5973', 'en')).toBe('99.5973 %');
    expect(formatPercentHundredthsText(30_000, 'pl')).toBe('300 %');
    expect(formatPercentHundredthsText(250, 'pl')).toBe('2,5 %');
  });
  it('durations and local times across the October DST change', () => {
    expect(formatDuration(745 * 3_600_000)).toBe('745 h 00 min 00 s');
    expect(formatClockDuration(3 * 3_600_000 + 61_999)).toBe('3:01:01');
    // 00:30 and 01:30 UTC on Oct 25 are both 02:30 in Warsaw: the offset tells them apart.
    expect(formatLocalTime(Date.parse('2026-10-25T00:30:00Z'), 'Europe/Warsaw', 'pl')).toBe(
      '25.10.2026 02:30:00 +02:00',
    );
    expect(formatLocalTime(Date.parse('2026-10-25T01:30:00Z'), 'Europe/Warsaw', 'en')).toBe(
      '2026-10-25 02:30:00 +01:00',
    );
  });
});
