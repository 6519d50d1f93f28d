// Publishes a month close: a PDF per customer, the ledger (CSV and JSON) and a manifest of SHA-256 hashes.
// A month with a manifest is closed: publishing it again changes nothing unless forced, and says what would
// differ. Files are written to temporary names and renamed, the manifest last, so an interrupted run never
// leaves a manifest that does not match the files beside it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/types.js';
import { buildLedger, ledgerCsv, ledgerJson, reportFileName, type Ledger } from '../reports/ledger.js';
import { renderCustomerPdf, type CustomerReport } from '../reports/pdf.js';
import type { MonthCredits } from '../sla/types.js';

export const MANIFEST = 'manifest.json';

interface Manifest {
  month: string;
  timeZone: string;
  files: { name: string; sha256: string; bytes: number }[];
}

export interface PublishResult {
  dir: string;
  status: 'published' | 'unchanged' | 'refused' | 'forced';
  /** Files written (names inside dir). */
  written: string[];
  /** What differs from the closed month, when refused or forced. */
  differences: string[];
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function writeAtomic(path: string, data: Buffer | string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

/** The report data of one customer. */
export function customerReport(config: AppConfig, credits: MonthCredits, customerId: string): CustomerReport {
  const customer = config.customers.find((c) => c.id === customerId);
  const credit = credits.customers.find((c) => c.id === customerId);
  if (!customer || !credit) throw new Error(`customer "${customerId}" is not in the configuration`);
  return {
    language: customer.language,
    provider: config.provider,
    customer: { id: customer.id, name: customer.name, address: customer.address },
    tier: customer.tier,
    month: credits.month,
    timeZone: credits.timeZone,
    fromMs: credits.fromMs,
    toMs: credits.toMs,
    monthMs: credits.monthMs,
    confirmations: config.availability.confirmations,
    creditBase: credits.creditBase,
    credit,
    maintenanceReasons: new Map(customer.servers.map((s) => [s.id, s.maintenance.map((m) => ({ fromMs: m.fromMs, reason: m.reason }))])),
  };
}

function ledgerDifferences(before: Ledger, after: Ledger): string[] {
  const differences: string[] = [];
  const old = new Map(before.rows.map((r) => [r.creditId, r]));
  const now = new Map(after.rows.map((r) => [r.creditId, r]));
  for (const [id, row] of now) {
    const previous = old.get(id);
    if (!previous) differences.push(`ledger: new credit ${id} ${row.creditAmount} PLN`);
    else if (JSON.stringify(previous) !== JSON.stringify(row)) differences.push(`ledger: credit ${id} would change from ${previous.creditAmount} to ${row.creditAmount} PLN`);
  }
  for (const id of old.keys()) if (!now.has(id)) differences.push(`ledger: credit ${id} would be removed`);
  if (before.summary.totalAmount !== after.summary.totalAmount) differences.push(`ledger: total would change from ${before.summary.totalAmount} to ${after.summary.totalAmount} PLN`);
  return differences;
}

/** Renders and writes the month's reports into `<outDir>/<month>/`; see the module comment for re-closing. */
export async function publishMonth(options: { config: AppConfig; credits: MonthCredits; outDir: string; customerId?: string; force?: boolean }): Promise<PublishResult> {
  const { config, credits, customerId, force = false } = options;
  const dir = join(options.outDir, credits.month);
  mkdirSync(dir, { recursive: true });

  const ledger = buildLedger(credits);
  const files = new Map<string, Buffer>();
  const customers = customerId ? [customerId] : credits.customers.map((c) => c.id);
  for (const id of customers) files.set(reportFileName(id), await renderCustomerPdf(customerReport(config, credits, id)));
  if (!customerId) {
    files.set('ledger.csv', Buffer.from(ledgerCsv(ledger)));
    files.set('ledger.json', Buffer.from(ledgerJson(ledger)));
  }

  const manifestPath = join(dir, MANIFEST);
  const closed = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest) : undefined;
  const differences: string[] = [];
  if (closed) {
    const hashes = new Map(closed.files.map((f) => [f.name, f.sha256]));
    for (const [name, data] of files) {
      if (hashes.get(name) !== sha256(data)) differences.push(`${name}: ${hashes.has(name) ? 'content would change' : 'new file'}`);
    }
    const ledgerPath = join(dir, 'ledger.json');
    if (!customerId && existsSync(ledgerPath)) differences.unshift(...ledgerDifferences(JSON.parse(readFileSync(ledgerPath, 'utf8')) as Ledger, ledger));
    if (differences.length === 0) return { dir, status: 'unchanged', written: [], differences };
    if (!force) return { dir, status: 'refused', written: [], differences };
  }

  for (const [name, data] of files) writeAtomic(join(dir, name), data);
  const entries = new Map((closed?.files ?? []).map((f) => [f.name, f]));
  for (const [name, data] of files) entries.set(name, { name, sha256: sha256(data), bytes: data.length });
  const manifest: Manifest = { month: credits.month, timeZone: credits.timeZone, files: [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : 1)) };
  if (!customerId || closed) writeAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir, status: closed ? 'forced' : 'published', written: [...files.keys()], differences };
}
