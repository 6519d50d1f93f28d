import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { customerForMonth, customersForMonth, tierNameForMonth, tierTermsForMonth } from '../../../src/config/terms.js';
import { DEFAULT_TIERS } from '../../../src/sla/brackets.js';
import { computeMonthCredits } from '../../../src/sla/credits.js';
import { monthWindow } from '../../../src/sla/month.js';
import type { ServerAvailability } from '../../../src/sla/types.js';

const config = (text: string) => parseConfig(text, 'terms.yaml');
const GOLD = DEFAULT_TIERS.get('gold')!;
const SILVER = DEFAULT_TIERS.get('silver')!;

describe('a tier version', () => {
  const gold = config(`
tiers:
  gold:
    versions:
      - { from: 2026-11, serverFee: "350.00" }
customers:
  - { id: acme, name: ACME, tier: gold, servers: [{ id: s1, name: S1 }] }
`);

  it('dated from next month does not change this month', () => {
    expect(tierTermsForMonth(gold, 'gold', '2026-10')).toEqual(GOLD);
    expect(customersForMonth(gold, '2026-10')[0]!.tier).toEqual(GOLD);
    expect(gold.tiers.get('gold')).toEqual(GOLD);
  });

  it('applies from its month on', () => {
    expect(tierTermsForMonth(gold, 'gold', '2026-11')).toEqual({ ...GOLD, serverFeeGrosze: 35_000 });
    expect(tierTermsForMonth(gold, 'gold', '2027-06')).toEqual({ ...GOLD, serverFeeGrosze: 35_000 });
    expect(customersForMonth(gold, '2026-11')[0]!.tier.serverFeeGrosze).toBe(35_000);
  });

  it('reaches the credit core: the month fee of October and November', () => {
    const fullMonth = (month: string): ServerAvailability => {
      const window = monthWindow(month, gold.timeZone);
      const monthMs = window.toMs - window.fromMs;
      const none = { maintenanceMs: 0, downtimeMs: 0, unmonitoredMs: 0, outages: [], unmonitored: [], maintenance: [] };
      return { ...none, coveredMs: monthMs, eligibleMs: monthMs, downAtEnd: false };
    };
    const fee = (month: string) =>
      computeMonthCredits({
        window: monthWindow(month, gold.timeZone),
        creditBase: 'server',
        customers: customersForMonth(gold, month),
        availability: new Map([['s1', fullMonth(month)]]),
      }).customers[0]!.monthlyFeeGrosze;
    expect(fee('2026-10')).toBe(30_000 + 30_000);
    expect(fee('2026-11')).toBe(30_000 + 35_000);
  });
});

describe('a tier change from the 1st', () => {
  const acme = config(`
customers:
  - id: acme
    name: ACME
    tier: silver
    tierHistory:
      - { from: "2026-11", tier: gold }
    servers: [{ id: s1, name: S1 }]
  - { id: beta, name: Beta, tier: platinum, servers: [{ id: s2, name: S2 }] }
`);

  it('keeps the configured tier and history as written', () => {
    expect(acme.customers[0]).toMatchObject({
      tierName: 'silver',
      tierHistory: [{ fromMonth: '2026-11', tier: 'gold' }],
    });
    expect(acme.customers[0]).not.toHaveProperty('tier');
  });

  it('does not apply in the month before', () => {
    expect(tierNameForMonth(acme.customers[0]!, '2026-10')).toBe('silver');
    expect(customerForMonth(acme, 'acme', '2026-10')!.tier).toEqual(SILVER);
  });

  it('applies from its month on', () => {
    expect(customerForMonth(acme, 'acme', '2026-11')!.tier).toEqual(GOLD);
    expect(customerForMonth(acme, 'acme', '2027-03')!.tier).toEqual(GOLD);
  });

  it('leaves other customers alone and keeps configuration order', () => {
    expect(customersForMonth(acme, '2026-11').map((c) => [c.id, c.tier.name])).toEqual([
      ['acme', 'gold'],
      ['beta', 'platinum'],
    ]);
    expect(customersForMonth(acme, '2026-11')[0]).toMatchObject({
      id: 'acme',
      name: 'ACME',
      tierName: 'silver',
      servers: [{ id: 's1' }],
    });
  });

  it('takes the new tier with its terms in force that month', () => {
    const both = config(`
tiers:
  gold:
    versions: [{ from: "2027-01", baseFee: "320.00" }]
customers:
  - { id: acme, name: ACME, tier: silver, tierHistory: [{ from: "2026-11", tier: gold }], servers: [{ id: s1, name: S1 }] }
`);
    expect(customerForMonth(both, 'acme', '2026-12')!.tier).toEqual(GOLD);
    expect(customerForMonth(both, 'acme', '2027-01')!.tier).toEqual({ ...GOLD, baseFeeGrosze: 32_000 });
  });

  it('several changes, each from its own month', () => {
    const moves = config(`
customers:
  - id: acme
    name: ACME
    tier: silver
    tierHistory:
      - { from: "2026-11", tier: gold }
      - { from: "2027-02", tier: platinum }
    servers: [{ id: s1, name: S1 }]
`);
    expect(
      ['2026-10', '2026-11', '2027-01', '2027-02', '2030-01'].map((m) => customerForMonth(moves, 'acme', m)!.tier.name),
    ).toEqual(['silver', 'gold', 'gold', 'platinum', 'platinum']);
  });
});

describe('version inheritance', () => {
  const twoVersions = config(`
tiers:
  gold:
    versions:
      - { from: "2026-11", serverFee: "350.00" }
      - { from: "2027-01", brackets: [{ below: "99.5", creditPercent: 20 }, { below: 99, creditPercent: 100 }] }
`);

  it('a second version keeps what the first changed and the undated terms it does not name', () => {
    expect(twoVersions.tierVersions.get('gold')).toEqual([
      { fromMonth: '2026-11', terms: { ...GOLD, serverFeeGrosze: 35_000 } },
      {
        fromMonth: '2027-01',
        terms: {
          name: 'gold',
          baseFeeGrosze: 30_000,
          serverFeeGrosze: 35_000,
          brackets: [
            { belowMicroPercent: 99_500_000, creditPercentHundredths: 2_000 },
            { belowMicroPercent: 99_000_000, creditPercentHundredths: 10_000 },
          ],
        },
      },
    ]);
    expect(tierTermsForMonth(twoVersions, 'gold', '2026-12')).toEqual({ ...GOLD, serverFeeGrosze: 35_000 });
    expect(tierTermsForMonth(twoVersions, 'gold', '2027-01')).toEqual(twoVersions.tierVersions.get('gold')![1]!.terms);
  });

  it('tiers without versions have none', () => {
    expect(twoVersions.tierVersions.get('silver')).toEqual([]);
    expect(tierTermsForMonth(twoVersions, 'silver', '2027-01')).toEqual(SILVER);
  });
});

describe('a custom tier with versions', () => {
  const bronze = config(`
tiers:
  bronze:
    baseFee: 100
    serverFee: 50
    brackets: [{ below: 99, creditPercent: 5 }]
    versions:
      - { from: "2027-01", serverFee: "55.50" }
      - { from: "2027-07", baseFee: 120, brackets: [{ below: 99, creditPercent: 10 }, { below: "99.5", creditPercent: 5 }] }
customers:
  - { id: a, name: A, tier: bronze, servers: [{ id: s1, name: S1 }] }
`);

  it('has its undated terms, then each version in turn', () => {
    expect(tierTermsForMonth(bronze, 'bronze', '2026-12')).toEqual({
      name: 'bronze',
      baseFeeGrosze: 10_000,
      serverFeeGrosze: 5_000,
      brackets: [{ belowMicroPercent: 99_000_000, creditPercentHundredths: 500 }],
    });
    expect(tierTermsForMonth(bronze, 'bronze', '2027-01')).toEqual({
      name: 'bronze',
      baseFeeGrosze: 10_000,
      serverFeeGrosze: 5_550,
      brackets: [{ belowMicroPercent: 99_000_000, creditPercentHundredths: 500 }],
    });
    expect(customerForMonth(bronze, 'a', '2027-07')!.tier).toEqual({
      name: 'bronze',
      baseFeeGrosze: 12_000,
      serverFeeGrosze: 5_550,
      brackets: [
        { belowMicroPercent: 99_500_000, creditPercentHundredths: 500 },
        { belowMicroPercent: 99_000_000, creditPercentHundredths: 1_000 },
      ],
    });
  });
});

describe('months before any version', () => {
  const changed = config(`
tiers:
  gold:
    serverFee: "320.00"
    versions: [{ from: "2027-01", serverFee: "350.00" }]
`);

  it('use the undated terms', () => {
    expect(tierTermsForMonth(changed, 'gold', '2026-12')).toEqual({ ...GOLD, serverFeeGrosze: 32_000 });
    expect(tierTermsForMonth(changed, 'gold', '2000-01')).toEqual({ ...GOLD, serverFeeGrosze: 32_000 });
    expect(changed.tiers.get('gold')).toEqual({ ...GOLD, serverFeeGrosze: 32_000 });
    expect(tierTermsForMonth(changed, 'gold', '2027-01')).toEqual({ ...GOLD, serverFeeGrosze: 35_000 });
  });
});

describe('asking wrongly', () => {
  const plain = config(`customers: [{ id: acme, name: ACME, tier: gold, servers: [{ id: s1, name: S1 }] }]`);
  it('a malformed month or an unknown tier throws; an unknown customer is undefined', () => {
    expect(() => customersForMonth(plain, '2026-1')).toThrow('"2026-1" is not a month in the form YYYY-MM');
    expect(() => tierTermsForMonth(plain, 'diamond', '2026-10')).toThrow(
      '"diamond" is not a tier (known: silver, gold, platinum)',
    );
    expect(customerForMonth(plain, 'nobody', '2026-10')).toBeUndefined();
  });
});
