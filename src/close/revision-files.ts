// The files of a month's revisions and drafts, rendered from a record's plain data (figures and terms snapshot),
// never from today's configuration: the same record always renders the same bytes.
//
//   reports/M/             revision 1: <customer>.pdf, ledger.csv, ledger.json, terms.json, manifest.json
//   reports/M/rev-N/       revision N: the PDFs of customers whose figures changed, the whole ledger, terms, manifest
//   reports/M/draft/       drafts: marked PDFs and draft.json; never in the ledger or the journal
//
// An issued revision's files are created, never replaced: a file already there with other bytes is an error.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createFileExclusive, writeFileAtomic } from '../files.js';
import { buildLedger, ledgerCsv, ledgerJson, reportFileName } from '../reports/ledger.js';
import { renderCustomerPdf, type CustomerReport } from '../reports/pdf.js';
import type { ProgressListener } from '../progress.js';
import { formatMicroPercent } from '../sla/money.js';
import type { MonthCredits } from '../sla/types.js';
import { creditsToJson } from './json.js';
import { jsonSha256, type TermsSnapshot } from './terms-snapshot.js';

export const MANIFEST = 'manifest.json';
export const TERMS_FILE = 'terms.json';
export const DRAFT_DIR = 'draft';
export const DRAFT_FILE = 'draft.json';

export interface Manifest {
  month: string;
  revision: number;
  /** The revision this one replaces (null for revision 1). */
  replaces: number | null;
  /** What changed against it: credits, totals, customers' figures, terms (empty for revision 1). */
  changes: string[];
  creditsSha256: string;
  termsSha256: string;
  files: { name: string; sha256: string; bytes: number }[];
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The folder of a revision, relative to the month's folder ('' for revision 1). */
export const revisionSubdir = (revision: number) => (revision === 1 ? '' : `rev-${revision}`);

/** The folder of a revision under the reports folder. */
export const revisionDir = (reportsDir: string, month: string, revision: number) =>
  join(reportsDir, month, revisionSubdir(revision));

/** The SHA-256 of a month close's figures: its credits JSON, which is what "figures equal" compares. */
export function creditsSha256(credits: MonthCredits): string {
  return jsonSha256(creditsToJson(credits));
}

/** The report data of one customer from a revision's (or draft's) figures and terms. */
export function customerReport(
  credits: MonthCredits,
  terms: TermsSnapshot,
  customerId: string,
  extra: Partial<Pick<CustomerReport, 'draft' | 'revision' | 'revisionNumber'>> = {},
): CustomerReport {
  const customer = terms.customers.find((c) => c.id === customerId);
  const credit = credits.customers.find((c) => c.id === customerId);
  if (!customer || !credit) throw new Error(`customer "${customerId}" is not in the ${credits.month} figures`);
  return {
    language: customer.language,
    provider: terms.provider,
    customer: { id: customer.id, name: customer.name, address: customer.address },
    tier: customer.tier,
    month: credits.month,
    timeZone: credits.timeZone,
    fromMs: credits.fromMs,
    toMs: credits.toMs,
    monthMs: credits.monthMs,
    confirmations: terms.confirmations,
    ...(terms.quorum !== null ? { quorum: terms.quorum } : {}),
    creditBase: credits.creditBase,
    ...(terms.maxCreditPercentHundredths !== null
      ? { maxCreditPercentHundredths: terms.maxCreditPercentHundredths }
      : {}),
    credit,
    maintenanceReasons: new Map(
      customer.servers.map((s) => [
        s.id,
        s.maintenance
          .filter((m) => !m.late)
          .map((m) => ({
            fromMs: m.fromMs,
            reason: m.reason,
            ...(m.announcedAtMs !== undefined ? { announcedAtMs: m.announcedAtMs } : {}),
          })),
      ]),
    ),
    maintenanceNoticeMs: terms.maintenanceNoticeMs ?? 0,
    minMonitoredPercent: formatMicroPercent(terms.minMonitoredMicroPercent),
    ...extra,
  };
}

/** The customers whose figures or terms differ between two versions of a month (all of them without a before). */
export function changedCustomers(
  before: { credits: MonthCredits | null; terms: TermsSnapshot | null },
  after: { credits: MonthCredits; terms: TermsSnapshot | null },
): string[] {
  const ids = after.credits.customers.map((c) => c.id);
  if (before.credits === null) return ids;
  // Each side's customers as JSON once, by id: comparing whole documents per customer would be quadratic in them.
  const keys = (credits: MonthCredits, terms: TermsSnapshot | null) => {
    const figures = new Map(creditsToJson(credits).customers.map((c) => [c.id, c]));
    const termsOf = new Map(terms?.customers.map((c) => [c.id, c]) ?? []);
    return new Map(ids.map((id) => [id, JSON.stringify([figures.get(id) ?? null, termsOf.get(id) ?? null])]));
  };
  const left = keys(before.credits, before.terms);
  const right = keys(after.credits, after.terms);
  return ids.filter((id) => left.get(id) !== right.get(id));
}

export interface RevisionRender {
  credits: MonthCredits;
  terms: TermsSnapshot;
  revision: number;
  /** The revision replaced, with when it was issued (revision 2 and later). */
  replaces?: { revision: number; closedAtMs: number };
  /** Why (shown in the replacing PDFs). */
  reason: string;
  /** What changed against the revision replaced (in the manifest). */
  changes: readonly string[];
  /** The customers whose PDFs this revision renders: all for revision 1, the changed ones later. */
  customers: readonly string[];
  /** Where each customer's latest report is, relative to the month folder (for the ledger). */
  reportFileOf: (customerId: string) => string;
  /** Hears how many PDFs are rendered. */
  onProgress?: ProgressListener;
}

/** Renders a revision's files; the manifest comes last in the map and covers every other file. */
export async function renderRevisionFiles(render: RevisionRender): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const total = render.customers.length;
  for (const [done, id] of render.customers.entries()) {
    render.onProgress?.({ phase: 'rendering PDFs', done, total });
    const extra: Partial<CustomerReport> = { revisionNumber: render.revision };
    if (render.replaces)
      extra.revision = {
        number: render.revision,
        replaces: render.replaces.revision,
        replacesIssuedAtMs: render.replaces.closedAtMs,
        reason: render.reason,
      };
    files.set(reportFileName(id), await renderCustomerPdf(customerReport(render.credits, render.terms, id, extra)));
  }
  const ledger = buildLedger(render.credits, render.revision, render.reportFileOf);
  files.set('ledger.csv', Buffer.from(ledgerCsv(ledger)));
  files.set('ledger.json', Buffer.from(ledgerJson(ledger)));
  const termsText = `${JSON.stringify(render.terms, null, 2)}\n`;
  files.set(TERMS_FILE, Buffer.from(termsText));
  const manifest: Manifest = {
    month: render.credits.month,
    revision: render.revision,
    replaces: render.replaces?.revision ?? null,
    changes: [...render.changes],
    creditsSha256: creditsSha256(render.credits),
    termsSha256: jsonSha256(render.terms),
    files: [...files]
      .map(([name, data]) => ({ name, sha256: sha256(data), bytes: data.length }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
  };
  files.set(MANIFEST, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  return files;
}

/**
 * Writes a revision's files into `dir`, the manifest last, each created exclusively. A file already there with
 * the same bytes (a retry after a crash) is kept; one with other bytes stops everything: issued files are
 * never replaced. Returns the manifest's SHA-256.
 */
export function writeRevisionFiles(dir: string, files: ReadonlyMap<string, Buffer>): string {
  const manifest = files.get(MANIFEST);
  if (!manifest) throw new Error(`the files for ${dir} have no ${MANIFEST}`);
  mkdirSync(dir, { recursive: true });
  const present = new Set<string>();
  for (const [name, data] of files) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    if (!readFileSync(path).equals(data)) {
      throw new Error(
        `${path} already exists with other content; an issued file is never replaced (is another state database closing into the same reports folder?)`,
      );
    }
    present.add(name);
  }
  for (const [name, data] of files) if (!present.has(name)) createFileExclusive(join(dir, name), data);
  return sha256(manifest);
}

/** The names of the files a revision's manifest lists (not the manifest itself); undefined before it is written. */
export function manifestFileNames(reportsDir: string, month: string, revision: number): string[] | undefined {
  const path = join(revisionDir(reportsDir, month, revision), MANIFEST);
  if (!existsSync(path)) return undefined;
  return (JSON.parse(readFileSync(path, 'utf8')) as Manifest).files.map((f) => f.name);
}

/** Whether `dir` holds an issued revision (a manifest). */
export const hasManifest = (dir: string) => existsSync(join(dir, MANIFEST));

/** The draft.json document: the figures and terms a draft shows, with the hash `approve` names. */
export interface DraftDocument {
  month: string;
  hash: string;
  /** Set for a month still running: the figures stop here. */
  asOf: string | null;
  /** Why the close was held for review, when it was. */
  heldFor: string | null;
  credits: ReturnType<typeof creditsToJson>;
  terms: TermsSnapshot;
}

/** What a held draft would be issued as: a first close, or the restatement of a given revision. */
export interface DraftBasis {
  purpose: 'close' | 'restatement';
  baseRevision: number;
}

/**
 * A draft's hash: of its figures and terms, so approving it issues exactly what was reviewed; for a held draft also
 * of its basis, so that figures returning to those of an earlier held draft (a withdrawn correction) make a new one.
 */
export function draftHash(credits: MonthCredits, terms: TermsSnapshot, basis?: DraftBasis): string {
  return jsonSha256({ credits: creditsToJson(credits), terms, ...(basis ? { basis } : {}) });
}

/** The folder of a draft held for review: its own, so that later drafts never change what a person reviews. */
export const heldDraftDir = (reportsDir: string, month: string, hash: string) =>
  join(reportsDir, month, DRAFT_DIR, `review-${hash.slice(0, 12)}`);

/**
 * Renders and writes drafts into `<reportsDir>/<month>/draft/` (or `dir`): every customer's marked PDF and
 * draft.json, or only one customer's PDF. Drafts are replaced freely; files of customers no longer drafted are
 * removed.
 */
export async function writeDraftFiles(options: {
  reportsDir: string;
  credits: MonthCredits;
  terms: TermsSnapshot;
  customerId?: string;
  asOfMs?: number;
  heldFor?: string;
  /** Set for a draft held for review (see draftHash). */
  basis?: DraftBasis;
  dir?: string;
  /** Hears how many PDFs are rendered. */
  onProgress?: ProgressListener;
}): Promise<{ dir: string; hash: string; written: string[] }> {
  const { credits, terms } = options;
  const dir = options.dir ?? join(options.reportsDir, credits.month, DRAFT_DIR);
  mkdirSync(dir, { recursive: true });
  const hash = draftHash(credits, terms, options.basis);
  const customers = options.customerId ? [options.customerId] : credits.customers.map((c) => c.id);
  const written: string[] = [];
  for (const [done, id] of customers.entries()) {
    options.onProgress?.({ phase: 'rendering PDFs', done, total: customers.length });
    const pdf = await renderCustomerPdf(
      customerReport(credits, terms, id, { draft: options.asOfMs === undefined ? {} : { asOfMs: options.asOfMs } }),
    );
    writeFileAtomic(join(dir, reportFileName(id)), pdf);
    written.push(reportFileName(id));
  }
  if (!options.customerId) {
    const document: DraftDocument = {
      month: credits.month,
      hash,
      asOf: options.asOfMs === undefined ? null : new Date(options.asOfMs).toISOString(),
      heldFor: options.heldFor ?? null,
      credits: creditsToJson(credits),
      terms,
    };
    writeFileAtomic(join(dir, DRAFT_FILE), `${JSON.stringify(document, null, 2)}\n`);
    written.push(DRAFT_FILE);
    const keep = new Set(written);
    for (const name of readdirSync(dir)) if (name.endsWith('.pdf') && !keep.has(name)) unlinkSync(join(dir, name));
  }
  return { dir, hash, written };
}
