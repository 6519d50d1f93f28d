// The month close's JSON and table forms: decimal strings, ISO UTC times with ms, the keys in order.
import { describe, expect, it } from 'vitest';
import { creditsToJson, creditsToTable } from '../../../src/close/json.js';
import type { MonthCredits } from '../../../src/sla/types.js';

const H = 3_600_000;
const FROM = Date.parse('2026-09-30T22:00:00Z');

const credits: MonthCredits = {
  month: '2026-10',
  timeZone: 'Europe/Warsaw',
  fromMs: FROM,
  toMs: FROM + 745 * H,
  monthMs: 745 * H,
  creditBase: 'server',
  customers: [
    {
      id: 'acme',
      name: 'ACME',
      tier: 'platinum',
      monthlyFeeGrosze: 150_000,
      creditAmountGrosze: 15_000,
      servers: [
        {
          id: 'oci-101',
          name: 'Shop',
          coveredMs: 745 * H,
          maintenanceMs: 2 * H,
          eligibleMs: 743 * H,
          downtimeMs: 3 * H,
          unmonitoredMs: 90_500,
          uptimePercent: '99.5962',
          monitoredPercent: '99.99',
          bracket: { belowMicroPercent: 99_600_000, creditPercentHundredths: 2_500 },
          creditPercentHundredths: 2_500,
          creditBaseGrosze: 60_000,
          creditAmountGrosze: 15_000,
          outages: [{ fromMs: Date.parse('2026-10-03T12:00:00Z'), toMs: Date.parse('2026-10-03T15:00:00Z') }],
          unmonitored: [{ fromMs: Date.parse('2026-10-07T00:00:00Z'), toMs: Date.parse('2026-10-07T00:01:30.500Z') }],
          maintenance: [{ fromMs: Date.parse('2026-10-10T00:00:00Z'), toMs: Date.parse('2026-10-10T02:00:00Z') }],
        },
        {
          id: 'oci-102',
          name: 'Not yet covered',
          coveredMs: 0,
          maintenanceMs: 0,
          eligibleMs: 0,
          downtimeMs: 0,
          unmonitoredMs: 0,
          uptimePercent: null,
          monitoredPercent: null,
          bracket: null,
          creditPercentHundredths: 0,
          creditBaseGrosze: 0,
          creditAmountGrosze: 0,
          outages: [],
          unmonitored: [],
          maintenance: [],
        },
      ],
    },
  ],
  creditAmountGrosze: 15_000,
};

describe('creditsToJson', () => {
  const json = creditsToJson(credits);

  it('has the issue keys first in their order, amounts and percents as decimal strings', () => {
    expect(Object.keys(json)).toEqual([
      'month',
      'timeZone',
      'from',
      'to',
      'monthMs',
      'creditBase',
      'customers',
      'creditAmount',
    ]);
    expect(json).toMatchObject({
      month: '2026-10',
      timeZone: 'Europe/Warsaw',
      monthMs: 2_682_000_000,
      creditAmount: '150.00',
    });
    expect(json.from).toBe('2026-09-30T22:00:00.000Z');
    expect(json.to).toBe('2026-10-31T23:00:00.000Z');
    const [customer] = json.customers;
    expect(customer).toMatchObject({
      id: 'acme',
      name: 'ACME',
      tier: 'platinum',
      monthlyFee: '1500.00',
      creditAmount: '150.00',
    });
    expect(customer!.servers[0]).toEqual({
      id: 'oci-101',
      name: 'Shop',
      coveredMs: 745 * H,
      maintenanceMs: 2 * H,
      eligibleMs: 743 * H,
      downtimeMs: 3 * H,
      unmonitoredMs: 90_500,
      uptimePercent: '99.5962',
      monitoredPercent: '99.99',
      bracket: '< 99.6',
      creditPercent: '25.00',
      creditBase: '600.00',
      creditAmount: '150.00',
      outages: [{ from: '2026-10-03T12:00:00.000Z', to: '2026-10-03T15:00:00.000Z', durationMs: 3 * H }],
      unmonitored: [{ from: '2026-10-07T00:00:00.000Z', to: '2026-10-07T00:01:30.500Z', durationMs: 90_500 }],
      maintenance: [{ from: '2026-10-10T00:00:00.000Z', to: '2026-10-10T02:00:00.000Z', durationMs: 2 * H }],
    });
  });

  it('gives a server without eligible time a null uptime and zero credit', () => {
    expect(json.customers[0]!.servers[1]).toMatchObject({
      eligibleMs: 0,
      uptimePercent: null,
      bracket: null,
      creditPercent: '0.00',
      creditBase: '0.00',
      creditAmount: '0.00',
      outages: [],
    });
  });

  it('is plain JSON: serialising and parsing gives it back unchanged', () => {
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe('creditsToTable', () => {
  it('aligns one row per server, then the totals', () => {
    expect(creditsToTable(credits)).toBe(
      [
        'Credits for 2026-10 (Europe/Warsaw, 745.00 h, base: server)',
        'customer  tier      server   eligible h  down min  unmon. min  monitored %  uptime %  credit %    base  credit',
        '--------  --------  -------  ----------  --------  ----------  -----------  --------  --------  ------  ------',
        'acme      platinum  oci-101      743.00     180.0         1.5        99.99   99.5962     25.00  600.00  150.00',
        'acme      platinum  oci-102        0.00       0.0         0.0          n/a         -      0.00    0.00    0.00',
        '',
        'acme: 150.00 PLN',
        'total: 150.00 PLN',
        '',
      ].join('\n'),
    );
  });
});
