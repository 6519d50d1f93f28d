import { describe, expect, it } from 'vitest';
import {
  computeMonthCredits,
  DEFAULT_TIERS,
  formatGrosze,
  monthWindow,
  percentOfGrosze,
  prorateGrosze,
  roundHalfUpDiv,
  uptimePercentText,
  type ServerAvailability,
} from '../../../src/sla/index.js';

const HOUR = 3_600_000;
const OCT = monthWindow('2026-10', 'Europe/Warsaw'); // 745 h = 2,682,000,000 ms
const MARCH = monthWindow('2026-03', 'Europe/Warsaw'); // 743 h

function availability(coveredMs: number, downtimeMs: number, maintenanceMs = 0): ServerAvailability {
  return {
    coveredMs,
    maintenanceMs,
    eligibleMs: coveredMs - maintenanceMs,
    downtimeMs,
    unmonitoredMs: 0,
    outages: downtimeMs ? [{ fromMs: 0, toMs: downtimeMs }] : [],
    unmonitored: [],
    maintenance: [],
    downAtEnd: false,
  };
}

const customer = (id: string, tier: string, servers: string[]) => ({
  id,
  name: id.toUpperCase(),
  tier: DEFAULT_TIERS.get(tier)!,
  servers: servers.map((s) => ({ id: s, name: s })),
});

describe('money arithmetic', () => {
  it('rounds half up', () => {
    expect(roundHalfUpDiv(5n, 2n)).toBe(3n); // 2.5 -> 3
    expect(roundHalfUpDiv(7n, 2n)).toBe(4n); // 3.5 -> 4
    expect(roundHalfUpDiv(149n, 100n)).toBe(1n);
    expect(roundHalfUpDiv(150n, 100n)).toBe(2n);
    expect(percentOfGrosze(15_005, 1_000)).toBe(1_501); // 150.05 x 10 % = 15.005 -> 15.01
    expect(percentOfGrosze(15_004, 1_000)).toBe(1_500); // 15.004 -> 15.00
    expect(formatGrosze(123_456)).toBe('1234.56');
    expect(formatGrosze(5)).toBe('0.05');
  });
  it('prints uptime rounded down to 4 places', () => {
    expect(uptimePercentText(1_000_000, 2_001)).toBe('99.7999'); // 99.7999 exactly
    expect(uptimePercentText(100_000_000, 200_001)).toBe('99.7999'); // 99.799999 -> not 99.8000
    expect(uptimePercentText(3, 1)).toBe('66.6666');
    expect(uptimePercentText(1, 0)).toBe('100.0000');
    expect(uptimePercentText(0, 0)).toBeNull();
  });
});

describe('computeMonthCredits (rules 5-7)', () => {
  it('per-server base: a full month of each tier at a known downtime', () => {
    // Oct: E = 2,682,000,000 ms. 3 h down = 10,800,000 ms -> uptime 99.5973 %.
    //   Platinum: < 99.6 -> 25 % of 600.00 = 150.00.  Gold: < 99.6 -> 10 % of 300.00 = 30.00.  Silver: >= 99.4 -> 0.
    const credits = computeMonthCredits({
      window: OCT,
      creditBase: 'server',
      customers: [customer('p', 'platinum', ['p1']), customer('g', 'gold', ['g1']), customer('s', 'silver', ['s1'])],
      availability: new Map([
        ['p1', availability(745 * HOUR, 3 * HOUR)],
        ['g1', availability(745 * HOUR, 3 * HOUR)],
        ['s1', availability(745 * HOUR, 3 * HOUR)],
      ]),
    });
    expect(credits.monthMs).toBe(2_682_000_000);
    expect(
      credits.customers.map((c) => [
        c.id,
        c.servers[0]!.uptimePercent,
        c.servers[0]!.creditPercentHundredths,
        c.creditAmountGrosze,
      ]),
    ).toEqual([
      ['p', '99.5973', 2_500, 15_000],
      ['g', '99.5973', 1_000, 3_000],
      ['s', '99.5973', 0, 0],
    ]);
    expect(credits.customers.map((c) => c.monthlyFeeGrosze)).toEqual([90_000, 60_000, 45_000]);
    expect(credits.creditAmountGrosze).toBe(18_000);
  });

  it('a server covered from the 15th: its fee is prorated by covered time, maintenance does not reduce it', () => {
    // March 2026 (743 h). Covered from Mar 15 00:00 local = 17 days minus the DST hour: 17 x 24 - 1 = 407 h.
    // Prorated platinum fee: 600.00 x 407 / 743 = 328.6675... -> 328.67.
    // Downtime 5 h of 405 h eligible (2 h maintenance): uptime 98.7654 % -> < 99.0 -> 300 % -> 986.01.
    const credits = computeMonthCredits({
      window: MARCH,
      creditBase: 'server',
      customers: [customer('p', 'platinum', ['p1'])],
      availability: new Map([['p1', availability(407 * HOUR, 5 * HOUR, 2 * HOUR)]]),
    });
    const server = credits.customers[0]!.servers[0]!;
    expect(prorateGrosze(60_000, 407 * HOUR, 743 * HOUR)).toBe(32_867);
    expect(server).toMatchObject({
      creditBaseGrosze: 32_867,
      uptimePercent: '98.7654',
      creditPercentHundredths: 30_000,
      creditAmountGrosze: 98_601,
    });
    expect(credits.customers[0]!.monthlyFeeGrosze).toBe(30_000 + 32_867);
  });

  it('a server with no eligible time gets no credit', () => {
    const credits = computeMonthCredits({
      window: OCT,
      creditBase: 'server',
      customers: [customer('p', 'platinum', ['p1'])],
      availability: new Map(),
    });
    expect(credits.customers[0]!.servers[0]).toMatchObject({
      eligibleMs: 0,
      uptimePercent: null,
      creditAmountGrosze: 0,
      creditBaseGrosze: 0,
    });
  });

  it('customer base: the highest percent applied once to the whole monthly fee, on the worst server', () => {
    // Gold, two servers, full month: fee 300 + 2 x 300 = 900.00.
    // g1 down 3 h (99.5973 % -> 10 %), g2 down 8 h (98.9261 % -> 200 %): credit 200 % of 900.00 = 1800.00, on g2.
    const credits = computeMonthCredits({
      window: OCT,
      creditBase: 'customer',
      customers: [customer('g', 'gold', ['g1', 'g2'])],
      availability: new Map([
        ['g1', availability(745 * HOUR, 3 * HOUR)],
        ['g2', availability(745 * HOUR, 8 * HOUR)],
      ]),
    });
    const [g1, g2] = credits.customers[0]!.servers;
    expect(g1).toMatchObject({ creditBaseGrosze: 90_000, creditPercentHundredths: 1_000, creditAmountGrosze: 0 });
    expect(g2).toMatchObject({
      creditBaseGrosze: 90_000,
      uptimePercent: '98.9261',
      creditPercentHundredths: 20_000,
      creditAmountGrosze: 180_000,
    });
    expect(credits.creditAmountGrosze).toBe(180_000);
  });

  it('maxCreditPercent caps the percentage', () => {
    const credits = computeMonthCredits({
      window: OCT,
      creditBase: 'server',
      maxCreditPercentHundredths: 10_000,
      customers: [customer('p', 'platinum', ['p1'])],
      availability: new Map([['p1', availability(745 * HOUR, 100 * HOUR)]]),
    });
    // 300 % capped at 100 % of 600.00.
    expect(credits.customers[0]!.servers[0]).toMatchObject({
      creditPercentHundredths: 10_000,
      creditAmountGrosze: 60_000,
    });
  });
});

describe('monitored share (the evidence behind a credit)', () => {
  it('is rounded down to 2 places and n/a without eligible time', async () => {
    const { monitoredPercentText } = await import('../../../src/sla/money.js');
    expect(monitoredPercentText(745 * 3_600_000, 0)).toBe('100.00');
    expect(monitoredPercentText(3, 1)).toBe('66.66');
    expect(monitoredPercentText(10_000, 1)).toBe('99.99');
    expect(monitoredPercentText(100_000, 1)).toBe('99.99'); // 99.999 shows 99.99, never 100.00
    expect(monitoredPercentText(0, 0)).toBeNull();
  });

  it('is compared with the minimum exactly: 90 % monitored is not below 90, one millisecond less is', async () => {
    const { monitoredIsBelow } = await import('../../../src/sla/evidence.js');
    const E = 745 * 3_600_000;
    expect(monitoredIsBelow(E, E / 10, 90_000_000)).toBe(false);
    expect(monitoredIsBelow(E, E / 10 + 1, 90_000_000)).toBe(true);
    expect(monitoredIsBelow(0, 0, 90_000_000)).toBe(false);
  });
});
