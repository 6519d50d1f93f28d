// The finance journal as files finance can open: reports/journal.csv and reports/journal.jsonl, append-only, one
// row per credit per revision that changed it. The state database's journal is the source; appending is
// idempotent by (month, revision, credit id), so a crash between the record and the append, or in the middle
// of it, never writes a row twice: the rows already in a file are read back first, and a last line cut short
// by a crash (it has no line end yet) is removed before appending.
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { formatGrosze } from '../sla/money.js';
import type { JournalRow } from '../state/close-records.js';

export const JOURNAL_CSV = 'journal.csv';
export const JOURNAL_JSONL = 'journal.jsonl';

/** One journal row as finance reads it: decimal amounts, ISO times. */
export interface JournalLine {
  /** `payable`: pay (or claw back) the delta. `opening-balance`: issued and settled before the journal existed. */
  entry: 'payable' | 'opening-balance';
  month: string;
  revision: number;
  credit_id: string;
  customer_id: string;
  server_id: string;
  previous_amount: string;
  new_amount: string;
  delta: string;
  currency: 'PLN';
  reason: string;
  closed_at: string;
  closed_by: string;
}

const COLUMNS: (keyof JournalLine)[] = [
  'entry',
  'month',
  'revision',
  'credit_id',
  'customer_id',
  'server_id',
  'previous_amount',
  'new_amount',
  'delta',
  'currency',
  'reason',
  'closed_at',
  'closed_by',
];

/** A state-database journal row in the files' form. */
export function journalLine(row: JournalRow): JournalLine {
  return {
    entry: row.entry,
    month: row.month,
    revision: row.revision,
    credit_id: row.creditId,
    customer_id: row.customerId,
    server_id: row.serverId,
    previous_amount: formatGrosze(row.previousGrosze),
    new_amount: formatGrosze(row.newGrosze),
    delta: formatGrosze(row.deltaGrosze),
    currency: 'PLN',
    reason: row.reason,
    closed_at: new Date(row.closedAtMs).toISOString(),
    closed_by: row.closedBy,
  };
}

const keyOf = (line: { month: string; revision: number | string; credit_id: string }) =>
  `${line.month}\u0000${line.revision}\u0000${line.credit_id}`;

/** Reads a file for appending: its complete lines' text, after cutting off a last line a crash left unfinished. */
function completeText(path: string): string {
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end === text.length) return text;
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, Buffer.byteLength(text.slice(0, end)));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return text.slice(0, end);
}

function append(path: string, text: string): void {
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, Buffer.from(text));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Appends the rows not yet in each journal file; returns how many rows each file gained. */
export function appendJournal(reportsDir: string, rows: readonly JournalRow[]): { csv: number; jsonl: number } {
  const lines = rows.map(journalLine);

  const jsonlPath = join(reportsDir, JOURNAL_JSONL);
  const jsonlKeys = new Set(
    completeText(jsonlPath)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => keyOf(JSON.parse(l) as JournalLine)),
  );
  const newJsonl = lines.filter((l) => !jsonlKeys.has(keyOf(l)));
  if (newJsonl.length > 0) append(jsonlPath, newJsonl.map((l) => `${JSON.stringify(l)}\n`).join(''));

  const csvPath = join(reportsDir, JOURNAL_CSV);
  const csvText = completeText(csvPath);
  const csvKeys = new Set(
    (parse(csvText, { bom: true, columns: true, skip_empty_lines: true }) as JournalLine[]).map(keyOf),
  );
  const newCsv = lines.filter((l) => !csvKeys.has(keyOf(l)));
  if (newCsv.length > 0 || csvText === '') {
    // A new file starts with a byte-order mark and the header, as ledger.csv does (RFC 4180, CRLF).
    const head =
      csvText === '' ? `\uFEFF${stringify([], { header: true, columns: COLUMNS, record_delimiter: '\r\n' })}` : '';
    append(csvPath, head + stringify(newCsv, { columns: COLUMNS, record_delimiter: '\r\n' }));
  }
  return { csv: newCsv.length, jsonl: newJsonl.length };
}

/** Journal rows as a CSV document of their own, in journal.csv's form (BOM, header, CRLF): finance's e-mail. */
export function journalCsv(rows: readonly JournalRow[]): string {
  return `\uFEFF${stringify(rows.map(journalLine), { header: true, columns: COLUMNS, record_delimiter: '\r\n' })}`;
}

/** The journal rows of a month as the journal.jsonl file holds them (for checks and reconciliation). */
export function readJournalFile(reportsDir: string): JournalLine[] {
  const path = join(reportsDir, JOURNAL_JSONL);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JournalLine);
}
