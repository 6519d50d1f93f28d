import { describe, expect, it } from 'vitest';
import { DEFAULT_TIERS, monthOutlook, monthWindow, recentDowntimeMs } from '../../../src/sla/index.js';

const HOUR = 3_600_000;
const gold = DEFAULT_TIERS.get('gold')!.brackets;
// November 2026 in Warsaw: 30 days of 24 h (no DST change inside it) = 2,592,000,000 ms.
const november = monthWindow('2026-11', 'Europe/Warsaw');

describe('monthOutlook', () => {
  it("on the 1st the budget is the whole month's allowance, not the month so far", () => {
    const outlook = monthOutlook({
      window: november,
      asOfMs: november.fromMs + 60_000,
      maintenance: [],
      downtimeMs: 0,
      brackets: gold,
    });
    expect(outlook.monthEligibleMs).toBe(2_592_000_000);
    expect(outlook.remainingEligibleMs).toBe(2_592_000_000 - 60_000);
    // Gold 99.6 %: 0.4 % of 2,592,000,000 ms = 10,368,000 ms (2 h 52 min 48 s).
    expect(outlook.budgets.map((b) => [b.belowMicroPercent, b.allowanceMs, b.remainingMs])).toEqual([
      [99_600_000, 10_368_000, 10_368_000],
      [99_400_000, 15_552_000, 15_552_000],
      [99_200_000, 20_736_000, 20_736_000],
      [99_000_000, 25_920_000, 25_920_000],
    ]);
    expect(outlook.inMaintenance).toBe(false);
  });

  it('tells an exact-threshold month (0 left) from one just past it (-1 ms), without clamping', () => {
    const at = (downtimeMs: number) =>
      monthOutlook({ window: november, asOfMs: november.toMs, maintenance: [], downtimeMs, brackets: gold }).budgets[0]!
        .remainingMs;
    expect(at(10_368_000)).toBe(0);
    expect(at(10_368_001)).toBe(-1);
    expect(at(20_000_000)).toBe(-9_632_000);
  });

  it('takes coverage and announced maintenance out of the whole month, and knows when maintenance is on', () => {
    const maintenance = [
      { fromMs: november.fromMs + 10 * 24 * HOUR, toMs: november.fromMs + 10 * 24 * HOUR + 2 * HOUR },
    ];
    const asOfMs = november.fromMs + 10 * 24 * HOUR + HOUR; // inside the window
    // Covered from the 16th: 15 days, minus nothing (the maintenance is before coverage).
    const late = monthOutlook({
      window: november,
      asOfMs,
      sinceMs: november.fromMs + 15 * 24 * HOUR,
      maintenance,
      downtimeMs: 0,
      brackets: gold,
    });
    expect(late.monthEligibleMs).toBe(15 * 24 * HOUR);
    expect(late.remainingEligibleMs).toBe(15 * 24 * HOUR);
    const full = monthOutlook({ window: november, asOfMs, maintenance, downtimeMs: 0, brackets: gold });
    expect(full.monthEligibleMs).toBe(30 * 24 * HOUR - 2 * HOUR);
    // Still to come: the rest of the month from asOf, without the maintenance window's last hour.
    expect(full.remainingEligibleMs).toBe(20 * 24 * HOUR - HOUR - HOUR);
    expect(full.inMaintenance).toBe(true);
    expect(full.budgets[0]!.allowanceMs).toBe(Math.floor(((30 * 24 - 2) * HOUR * 4) / 1_000));
  });

  it('has nothing to come after the month, and no allowance without eligible time', () => {
    const after = monthOutlook({
      window: november,
      asOfMs: november.toMs + HOUR,
      maintenance: [],
      downtimeMs: 0,
      brackets: gold,
    });
    expect(after.remainingEligibleMs).toBe(0);
    const uncovered = monthOutlook({
      window: november,
      asOfMs: november.fromMs,
      untilMs: november.fromMs,
      maintenance: [],
      downtimeMs: 0,
      brackets: gold,
    });
    expect(uncovered.budgets.every((b) => b.allowanceMs === 0 && b.remainingMs === 0)).toBe(true);
  });
});

describe('recentDowntimeMs', () => {
  it('counts the outages inside the trailing window only', () => {
    const outages = [
      { fromMs: 0, toMs: 1_000 },
      { fromMs: 5_000, toMs: 9_000 },
    ];
    expect(recentDowntimeMs(outages, 10_000, 1_000)).toBe(0); // 9,000-10,000: up again
    expect(recentDowntimeMs(outages, 10_000, 2_000)).toBe(1_000);
    expect(recentDowntimeMs(outages, 10_000, 3_000)).toBe(2_000); // 7,000-9,000
    expect(recentDowntimeMs(outages, 10_000, 10_000)).toBe(5_000);
    expect(recentDowntimeMs(outages, 10_000, 99_999)).toBe(5_000);
  });
});
