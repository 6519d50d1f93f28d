// The finance ledger: one row per credited server, exact decimal amounts, stable credit ids.
import { stringify } from 'csv-stringify/sync';
import { formatGrosze, formatPercentHundredths } from '../sla/money.js';
import type { MonthCredits } from '../sla/types.js';

export interface LedgerRow {
  creditId: string;
  month: string;
  customerId: string;
  customerName: string;
  serverId: string;
  serverName: string;
  tier: string;
  uptimePercent: string;
  creditPercent: string;
  creditBase: string;
  creditAmount: string;
  currency: 'PLN';
  reportFile: string;
}

export interface Ledger {
  month: string;
  timeZone: string;
  currency: 'PLN';
  rows: LedgerRow[];
  summary: { customers: number; servers: number; creditedServers: number; creditedCustomers: number; totalAmount: string };
}

/** The report file of a customer inside the month folder. */
export const reportFileName = (customerId: string) => `${customerId}.pdf`;

/** Builds the ledger from the month close; the credit id is the same on every re-render of the month. */
export function buildLedger(credits: MonthCredits): Ledger {
  const rows: LedgerRow[] = [];
  for (const customer of credits.customers) {
    for (const server of customer.servers) {
      if (server.creditAmountGrosze <= 0) continue;
      rows.push({
        creditId: `UC-${credits.month}-${customer.id}-${server.id}`,
        month: credits.month,
        customerId: customer.id,
        customerName: customer.name,
        serverId: server.id,
        serverName: server.name,
        tier: customer.tier,
        uptimePercent: server.uptimePercent ?? '',
        creditPercent: formatPercentHundredths(server.creditPercentHundredths),
        creditBase: formatGrosze(server.creditBaseGrosze),
        creditAmount: formatGrosze(server.creditAmountGrosze),
        currency: 'PLN',
        reportFile: reportFileName(customer.id),
      });
    }
  }
  return {
    month: credits.month,
    timeZone: credits.timeZone,
    currency: 'PLN',
    rows,
    summary: {
      customers: credits.customers.length,
      servers: credits.customers.reduce((n, c) => n + c.servers.length, 0),
      creditedServers: rows.length,
      creditedCustomers: credits.customers.filter((c) => c.creditAmountGrosze > 0).length,
      totalAmount: formatGrosze(credits.creditAmountGrosze),
    },
  };
}

const CSV_COLUMNS: { key: keyof LedgerRow; header: string }[] = [
  { key: 'creditId', header: 'credit_id' },
  { key: 'month', header: 'month' },
  { key: 'customerId', header: 'customer_id' },
  { key: 'customerName', header: 'customer_name' },
  { key: 'serverId', header: 'server_id' },
  { key: 'serverName', header: 'server_name' },
  { key: 'tier', header: 'tier' },
  { key: 'uptimePercent', header: 'uptime_percent' },
  { key: 'creditPercent', header: 'credit_percent' },
  { key: 'creditBase', header: 'credit_base' },
  { key: 'creditAmount', header: 'credit_amount' },
  { key: 'currency', header: 'currency' },
  { key: 'reportFile', header: 'report_file' },
];

/**
 * RFC 4180 CSV (CRLF, quoted where needed) in UTF-8 with a byte-order mark, which spreadsheet programs need to
 * read Polish names correctly; decimal points, not commas, so the figures stay exact in any locale.
 */
export function ledgerCsv(ledger: Ledger): string {
  return `\uFEFF${stringify(ledger.rows, { header: true, columns: CSV_COLUMNS, record_delimiter: '\r\n' })}`;
}

/** The ledger as canonical JSON (stable key order, trailing newline). */
export function ledgerJson(ledger: Ledger): string {
  return `${JSON.stringify(ledger, null, 2)}\n`;
}
