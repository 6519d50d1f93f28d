import { describe, expect, it } from 'vitest';
import {
  monthToDateFromParts,
  monthToDateInParts,
  SERVERS_PER_PART,
  type MonthToDate,
} from '../../../src/close/month-to-date-parts.js';
import type { ServerAvailability, ServerCredit } from '../../../src/sla/types.js';

const H = 3_600_000;

function availabilityOf(n: number): ServerAvailability {
  return {
    coveredMs: 720 * H,
    maintenanceMs: n % 3 === 0 ? H : 0,
    eligibleMs: 720 * H - (n % 3 === 0 ? H : 0),
    downtimeMs: n * 1_000,
    unmonitoredMs: 0,
    outages: n % 2 === 0 ? [{ fromMs: n, toMs: n + 1_000 }] : [],
    unmonitored: [],
    maintenance: n % 3 === 0 ? [{ fromMs: 0, toMs: H }] : [],
    downAtEnd: n % 5 === 0,
    ...(n === 7 ? { lateMaintenance: [{ fromMs: 0, toMs: 60_000, reason: 'announced late' }] } : {}),
  };
}

/** An answer of `customers` customers with the given numbers of servers, each server's figures from its number. */
function answerOf(serversPerCustomer: number[]): MonthToDate {
  const availability = new Map<string, ServerAvailability>();
  let n = 0;
  const customers = serversPerCustomer.map((count, c) => {
    const servers: ServerCredit[] = [];
    for (let i = 0; i < count; i++, n++) {
      const id = `c${c}-s${i}`;
      const a = availabilityOf(n);
      availability.set(id, a);
      servers.push({
        id,
        name: `Server ${n}`,
        coveredMs: a.coveredMs,
        maintenanceMs: a.maintenanceMs,
        eligibleMs: a.eligibleMs,
        downtimeMs: a.downtimeMs,
        unmonitoredMs: a.unmonitoredMs,
        uptimePercent: n % 11 === 0 ? null : '99.9000',
        monitoredPercent: '100.00',
        bracket: n % 4 === 0 ? { belowMicroPercent: 99_500_000, creditPercentHundredths: 1_000 } : null,
        creditPercentHundredths: n % 4 === 0 ? 1_000 : 0,
        creditBaseGrosze: 10_000 + n,
        creditAmountGrosze: n % 4 === 0 ? 1_000 + n : 0,
        outages: a.outages,
        unmonitored: a.unmonitored,
        maintenance: a.maintenance,
      });
    }
    return {
      id: `c${c}`,
      name: `Customer ${c}`,
      tier: 'gold',
      monthlyFeeGrosze: 50_000,
      servers,
      creditAmountGrosze: c,
    };
  });
  return {
    availability,
    credits: {
      month: '2026-11',
      timeZone: 'Europe/Warsaw',
      fromMs: 0,
      toMs: 720 * H,
      monthMs: 720 * H,
      creditBase: 'server',
      customers,
      creditAmountGrosze: 123,
    },
  };
}

describe('month to date in parts', () => {
  it('reads back the very answer, in order, across customers of every size', async () => {
    // A customer with more servers than a part, customers with none, and a part boundary inside a customer.
    const answer = answerOf([3, 0, SERVERS_PER_PART + 7, 1, 0, 2 * SERVERS_PER_PART]);
    const back = await monthToDateFromParts(monthToDateInParts(answer));
    expect(back).toEqual(answer);
    expect([...back.availability.keys()]).toEqual([...answer.availability.keys()]);
    expect(back.credits.customers.map((c) => c.servers.map((s) => s.id))).toEqual(
      answer.credits.customers.map((c) => c.servers.map((s) => s.id)),
    );
  });

  it('reads an answer without servers', async () => {
    const answer = answerOf([0, 0]);
    expect(await monthToDateFromParts(monthToDateInParts(answer))).toEqual(answer);
  });

  it('lets the event loop run between its parts', async () => {
    const answer = answerOf([4 * SERVERS_PER_PART]);
    // 1 shell, 4 parts of availability, 4 of servers: 8 turns after the first.
    let turns = 0;
    let counting = true;
    const count = () => {
      if (!counting) return;
      turns++;
      setImmediate(count);
    };
    setImmediate(count);
    await monthToDateFromParts(monthToDateInParts(answer));
    counting = false;
    expect(turns).toBeGreaterThanOrEqual(8);
  });
});
