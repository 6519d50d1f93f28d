// The month close as JSON (the CLI's --json and GET /api/v1/credits): decimal strings for money and percents.
import { formatGrosze, formatMicroPercent, formatPercentHundredths } from '../sla/money.js';
import type { Interval, MonthCredits } from '../sla/types.js';
import { formatTextTable } from '../text-table.js';

/** An instant as the JSON documents and the records' reasons write it. */
export const iso = (ms: number) => new Date(ms).toISOString();

/**
 * `iso` remembering what it wrote. A fleet's document repeats few instants many times (the month's ends, the
 * start of its observations): 10,000 servers' document was made ~30 % faster, with one string per instant.
 */
function rememberingIso(): (ms: number) => string {
  const written = new Map<number, string>();
  return (ms) => {
    let text = written.get(ms);
    if (text === undefined) {
      text = iso(ms);
      written.set(ms, text);
    }
    return text;
  };
}

/** The credits JSON document: stable key order, amounts like "60.00", uptime like "99.7999". */
export function creditsToJson(credits: MonthCredits) {
  const iso = rememberingIso();
  const intervalsJson = (intervals: readonly Interval[]) =>
    intervals.map((i) => ({ from: iso(i.fromMs), to: iso(i.toMs), durationMs: i.toMs - i.fromMs }));
  return {
    month: credits.month,
    timeZone: credits.timeZone,
    from: iso(credits.fromMs),
    to: iso(credits.toMs),
    monthMs: credits.monthMs,
    creditBase: credits.creditBase,
    customers: credits.customers.map((customer) => ({
      id: customer.id,
      name: customer.name,
      tier: customer.tier,
      monthlyFee: formatGrosze(customer.monthlyFeeGrosze),
      servers: customer.servers.map((server) => ({
        id: server.id,
        name: server.name,
        coveredMs: server.coveredMs,
        maintenanceMs: server.maintenanceMs,
        eligibleMs: server.eligibleMs,
        downtimeMs: server.downtimeMs,
        unmonitoredMs: server.unmonitoredMs,
        uptimePercent: server.uptimePercent,
        monitoredPercent: server.monitoredPercent,
        bracket: server.bracket ? `< ${formatMicroPercent(server.bracket.belowMicroPercent)}` : null,
        creditPercent: formatPercentHundredths(server.creditPercentHundredths),
        creditBase: formatGrosze(server.creditBaseGrosze),
        creditAmount: formatGrosze(server.creditAmountGrosze),
        outages: intervalsJson(server.outages),
        unmonitored: intervalsJson(server.unmonitored),
        maintenance: intervalsJson(server.maintenance),
        // Only when people's records touch the month, so a month without any reads as it always did.
        ...(server.incidentEffects
          ? {
              reportedDowntimeMs: server.incidentEffects.reportedDowntimeMs,
              excludedDowntimeMs: server.incidentEffects.excludedDowntimeMs,
              incidents: server.incidentEffects.incidents.map((i) => ({
                id: i.id,
                kind: i.kind,
                from: iso(i.fromMs),
                to: iso(i.toMs),
                durationMs: i.toMs - i.fromMs,
                effectMs: i.effectMs,
                ticket: i.ticket ?? null,
                reason: i.reason,
              })),
            }
          : {}),
        ...(server.lateMaintenance
          ? {
              lateMaintenance: server.lateMaintenance.map((m) => ({
                from: iso(m.fromMs),
                to: iso(m.toMs),
                durationMs: m.toMs - m.fromMs,
                announcedAt: m.announcedAtMs === undefined ? null : iso(m.announcedAtMs),
                reason: m.reason,
              })),
            }
          : {}),
      })),
      creditAmount: formatGrosze(customer.creditAmountGrosze),
    })),
    creditAmount: formatGrosze(credits.creditAmountGrosze),
  };
}

export type CreditsJson = ReturnType<typeof creditsToJson>;

/** A plain-text table of the credits for people at a terminal. */
export function creditsToTable(credits: MonthCredits): string {
  const json = creditsToJson(credits);
  const header = [
    'customer',
    'tier',
    'server',
    'eligible h',
    'down min',
    'unmon. min',
    'monitored %',
    'uptime %',
    'credit %',
    'base',
    'credit',
  ];
  const rows: string[][] = [];
  const hours = (ms: number) => (ms / 3_600_000).toFixed(2); // display only
  const minutes = (ms: number) => (ms / 60_000).toFixed(1); // display only
  for (const customer of json.customers) {
    for (const server of customer.servers) {
      rows.push([
        customer.id,
        customer.tier,
        server.id,
        hours(server.eligibleMs),
        minutes(server.downtimeMs),
        minutes(server.unmonitoredMs),
        server.monitoredPercent ?? 'n/a',
        server.uptimePercent ?? '-',
        server.creditPercent,
        server.creditBase,
        server.creditAmount,
      ]);
    }
  }
  const out = [
    `Credits for ${json.month} (${json.timeZone}, ${hours(json.monthMs)} h, base: ${json.creditBase})`,
    ...formatTextTable(header, rows, { rightAligned: new Set([3, 4, 5, 6, 7, 8, 9, 10]), rule: true }),
  ];
  out.push('', ...json.customers.map((c) => `${c.id}: ${c.creditAmount} PLN`), `total: ${json.creditAmount} PLN`);
  return `${out.join('\n')}\n`;
}
