// The finance ledger of one revision of a month: one row per credited server, exact decimal amounts (net of VAT),
// stable credit ids. What changed between revisions is the journal's job (close/journal-files.ts).
import { stringify } from 'csv-stringify/sync';
import { formatGrosze, formatPercentHundredths } from '../sla/money.js';
import type { MonthCredits } from '../sla/types.js';

export interface LedgerRow {
  creditId: string;
  month: string;
  revision: number;
  customerId: string;
  customerName: string;
  serverId: string;
  serverName: string;
  tier: string;
  uptimePercent: string;
  monitoredPercent: string;
  creditPercent: string;
  creditBase: string;
  creditAmount: string;
  currency: 'PLN';
  /** Always `net`: VAT is added by invoicing. */
  amountBasis: 'net';
  /** The customer's report, relative to the month's folder (`acme.pdf`, or `rev-2/acme.pdf`). */
  reportFile: string;
}

export interface Ledger {
  month: string;
  revision: number;
  timeZone: string;
  currency: 'PLN';
  /** Amounts are net; VAT is added by invoicing. */
  amounts: 'net';
  rows: LedgerRow[];
  summary: {
    customers: number;
    servers: number;
    creditedServers: number;
    creditedCustomers: number;
    totalAmount: string;
  };
}

/** The report file of a customer inside the month folder. */
export const reportFileName = (customerId: string) => `${customerId}.pdf`;

/** The credit id of a server's credit in a month: the same in every revision. */
export const creditIdOf = (month: string, customerId: string, serverId: string) =>
  `UC-${month}-${customerId}-${serverId}`;

/**
 * Builds the ledger of one revision of the month close; `reportFileOf` says where each customer's report of that
 * revision is (default `<customer>.pdf`).
 */
export function buildLedger(
  credits: MonthCredits,
  revision = 1,
  reportFileOf: (customerId: string) => string = reportFileName,
): Ledger {
  const rows: LedgerRow[] = [];
  for (const customer of credits.customers) {
    for (const server of customer.servers) {
      if (server.creditAmountGrosze <= 0) continue;
      rows.push({
        creditId: creditIdOf(credits.month, customer.id, server.id),
        month: credits.month,
        revision,
        customerId: customer.id,
        customerName: customer.name,
        serverId: server.id,
        serverName: server.name,
        tier: customer.tier,
        uptimePercent: server.uptimePercent ?? '',
        monitoredPercent: server.monitoredPercent ?? '',
        creditPercent: formatPercentHundredths(server.creditPercentHundredths),
        creditBase: formatGrosze(server.creditBaseGrosze),
        creditAmount: formatGrosze(server.creditAmountGrosze),
        currency: 'PLN',
        amountBasis: 'net',
        reportFile: reportFileOf(customer.id),
      });
    }
  }
  return {
    month: credits.month,
    revision,
    timeZone: credits.timeZone,
    currency: 'PLN',
    amounts: 'net',
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
  { key: 'revision', header: 'revision' },
  { key: 'customerId', header: 'customer_id' },
  { key: 'customerName', header: 'customer_name' },
  { key: 'serverId', header: 'server_id' },
  { key: 'serverName', header: 'server_name' },
  { key: 'tier', header: 'tier' },
  { key: 'uptimePercent', header: 'uptime_percent' },
  { key: 'monitoredPercent', header: 'monitored_percent' },
  { key: 'creditPercent', header: 'credit_percent' },
  { key: 'creditBase', header: 'credit_base' },
  { key: 'creditAmount', header: 'credit_amount' },
  { key: 'currency', header: 'currency' },
  { key: 'amountBasis', header: 'amount_basis' },
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
