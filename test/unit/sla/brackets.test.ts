import { describe, expect, it } from 'vitest';
import { creditBracket, DEFAULT_TIERS, downtimeBudgets, formatMicroPercent } from '../../../src/sla/index.js';

// A month of exactly 1,000,000 ms of eligible time makes every threshold land on a whole millisecond:
// 99.8 % uptime = 2,000 ms down, 99.6 % = 4,000, 99.4 % = 6,000, 99.2 % = 8,000, 99.0 % = 10,000.
const E = 1_000_000;
const credit = (tier: string, downtimeMs: number, eligibleMs = E) =>
  creditBracket(eligibleMs, downtimeMs, DEFAULT_TIERS.get(tier)!.brackets)?.creditPercentHundredths ?? 0;

describe('default tiers are the seed tables', () => {
  it('fees in grosze', () => {
    expect([...DEFAULT_TIERS.values()].map((t) => [t.name, t.baseFeeGrosze, t.serverFeeGrosze])).toEqual([
      ['silver', 30_000, 15_000],
      ['gold', 30_000, 30_000],
      ['platinum', 30_000, 60_000],
    ]);
  });
  it('brackets', () => {
    const table = (tier: string) =>
      DEFAULT_TIERS.get(tier)!.brackets.map(
        (b) => `${formatMicroPercent(b.belowMicroPercent)}:${b.creditPercentHundredths / 100}`,
      );
    expect(table('silver')).toEqual(['99.4:10', '99.2:50', '99:100']);
    expect(table('gold')).toEqual(['99.6:10', '99.4:25', '99.2:75', '99:200']);
    expect(table('platinum')).toEqual(['99.8:10', '99.6:25', '99.4:50', '99.2:100', '99:300']);
  });
});

describe('bracket edges (rule 6): exactly at a threshold earns the bracket above; 1 ms more earns this one', () => {
  it.each([
    // tier, downtime ms, credit % x 100
    ['platinum', 0, 0],
    ['platinum', 2_000, 0], // exactly 99.8 %
    ['platinum', 2_001, 1_000], // 99.7999 %
    ['platinum', 4_000, 1_000], // exactly 99.6 %
    ['platinum', 4_001, 2_500],
    ['platinum', 6_000, 2_500],
    ['platinum', 6_001, 5_000],
    ['platinum', 8_000, 5_000],
    ['platinum', 8_001, 10_000],
    ['platinum', 10_000, 10_000], // exactly 99.0 %
    ['platinum', 10_001, 30_000],
    ['platinum', E, 30_000], // down all month
    ['gold', 2_001, 0],
    ['gold', 4_000, 0],
    ['gold', 4_001, 1_000],
    ['gold', 6_000, 1_000],
    ['gold', 6_001, 2_500],
    ['gold', 8_000, 2_500],
    ['gold', 8_001, 7_500],
    ['gold', 10_000, 7_500],
    ['gold', 10_001, 20_000],
    ['silver', 4_001, 0],
    ['silver', 6_000, 0],
    ['silver', 6_001, 1_000],
    ['silver', 8_000, 1_000],
    ['silver', 8_001, 5_000],
    ['silver', 10_000, 5_000],
    ['silver', 10_001, 10_000],
  ])('%s with %i ms down of 1,000,000 earns %i hundredths of a percent', (tier, downtime, expected) => {
    expect(credit(tier, downtime)).toBe(expected);
  });

  it('99.79999 % earns a Platinum server 10 %, exactly 99.8 % earns nothing', () => {
    // E = 10,000,000 ms: 99.79999 % uptime is 2,000.1 ms down -> take E = 100,000,000 and 200,010 ms down.
    expect(credit('platinum', 200_010, 100_000_000)).toBe(1_000); // 99.79990 %
    expect(credit('platinum', 200_001, 100_000_000)).toBe(1_000); // 99.799999 %
    expect(credit('platinum', 200_000, 100_000_000)).toBe(0); // 99.8 % exactly
  });

  it('no eligible time earns nothing (rule 5)', () => {
    expect(creditBracket(0, 0, DEFAULT_TIERS.get('platinum')!.brackets)).toBeNull();
  });
});

describe('downtimeBudgets', () => {
  it('says how much more downtime each bracket tolerates', () => {
    const budgets = downtimeBudgets(E, 1_500, DEFAULT_TIERS.get('platinum')!.brackets);
    expect(budgets.map((b) => [formatMicroPercent(b.belowMicroPercent), b.remainingMs])).toEqual([
      ['99.8', 500], // 2,000 allowed, 1,500 used
      ['99.6', 2_500],
      ['99.4', 4_500],
      ['99.2', 6_500],
      ['99', 8_500],
    ]);
    // Spending exactly the budget keeps the bracket away; one ms more brings it.
    expect(credit('platinum', 1_500 + 500)).toBe(0);
    expect(credit('platinum', 1_500 + 501)).toBe(1_000);
  });
  it('goes below 0 once a bracket applies (by how much), is exactly 0 at the threshold, and floors on uneven months', () => {
    expect(downtimeBudgets(E, 3_000, DEFAULT_TIERS.get('platinum')!.brackets)[0]).toEqual({
      belowMicroPercent: 99_800_000,
      creditPercentHundredths: 1_000,
      allowanceMs: 2_000,
      remainingMs: -1_000,
    });
    expect(downtimeBudgets(E, 2_000, DEFAULT_TIERS.get('platinum')!.brackets)[0]!.remainingMs).toBe(0);
    expect(credit('platinum', 2_000)).toBe(0);
    expect(downtimeBudgets(E, 2_001, DEFAULT_TIERS.get('platinum')!.brackets)[0]!.remainingMs).toBe(-1);
    expect(credit('platinum', 2_001)).toBe(1_000);
    // Oct 2026: 2,682,000,000 ms; 0.2 % of it = 5,364,000 ms exactly.
    expect(downtimeBudgets(2_682_000_000, 0, DEFAULT_TIERS.get('platinum')!.brackets)[0]!.remainingMs).toBe(5_364_000);
    // 999 ms month: 0.2 % = 1.998 ms -> 1 ms tolerated.
    expect(downtimeBudgets(999, 0, DEFAULT_TIERS.get('platinum')!.brackets)[0]!.remainingMs).toBe(1);
  });
});
