// A revision's files rendered for real: text extracted with pdftotext, bytes compared, the ledger parsed back.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { customersForMonth } from '../../src/config/terms.js';
import type { AppConfig } from '../../src/config/types.js';
import { renderRevisionFiles, writeRevisionFiles } from '../../src/close/revision-files.js';
import { serverRecords } from '../../src/close/server-records.js';
import { termsSnapshot } from '../../src/close/terms-snapshot.js';
import { NO_OPERATOR_RECORDS } from '../../src/state/operator-records.js';
import {
  computeAvailability,
  computeMonthCredits,
  monthWindow,
  type MonthCredits,
  type ObservationRun,
} from '../../src/sla/index.js';

const H = 3_600_000;
const pdfText = (path: string) => execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });

/** A month close built through the real core from synthetic runs: one outage per server as given. */
function closeOctober(config: AppConfig, outages: Record<string, [string, string][]>): MonthCredits {
  const window = monthWindow('2026-10', config.timeZone);
  const availability = new Map(
    [...config.servers.values()].map((server) => {
      const runs: ObservationRun[] = [];
      let cursor = window.fromMs - H;
      for (const [from, to] of outages[server.id] ?? []) {
        runs.push({
          location: 'waw',
          check: '',
          up: true,
          firstMs: cursor,
          lastMs: Date.parse(from) - 30_000,
          count: 3,
        });
        runs.push({
          location: 'waw',
          check: '',
          up: false,
          firstMs: Date.parse(from),
          lastMs: Date.parse(to) - 30_000,
          count: 3,
        });
        cursor = Date.parse(to);
      }
      runs.push({ location: 'waw', check: '', up: true, firstMs: cursor, lastMs: window.toMs + H, count: 3 });
      // Consecutive probes every 30 s: these synthetic runs stand for them (internal gaps < staleAfter).
      const dense = runs.flatMap((r) => {
        const out: ObservationRun[] = [];
        for (let t = r.firstMs; t <= r.lastMs; t += 30_000) out.push({ ...r, firstMs: t, lastMs: t, count: 1 });
        return out;
      });
      return [
        server.id,
        computeAvailability({
          window,
          sinceMs: server.sinceMs,
          untilMs: server.untilMs,
          maintenance: server.maintenance,
          runs: dense,
          rules: config.availability,
        }),
      ];
    }),
  );
  return computeMonthCredits({
    window,
    creditBase: config.sla.creditBase,
    customers: customersForMonth(config, '2026-10'),
    availability,
  });
}

/** Renders revision 1 of the month into `<outDir>/<month>/`, as the month closer does; returns the file names. */
async function publish(config: AppConfig, credits: MonthCredits, outDir: string): Promise<string[]> {
  const window = monthWindow(credits.month, config.timeZone);
  const terms = termsSnapshot(config, serverRecords(config, NO_OPERATOR_RECORDS, window), credits.month);
  const files = await renderRevisionFiles({
    credits,
    terms,
    revision: 1,
    reason: 'monthly close',
    changes: [],
    customers: credits.customers.map((c) => c.id),
    reportFileOf: (id) => `${id}.pdf`,
  });
  writeRevisionFiles(join(outDir, credits.month), files);
  return [...files.keys()];
}

describe('credit reports', () => {
  let dir: string;
  let config: AppConfig;
  let credits: MonthCredits;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'uc-reports-'));
    config = parseConfig(
      `
provider: { name: "Oktawave", address: ["ul. Domaniewska 44a", "02-672 Warszawa"] }
customers:
  - id: zolw
    name: "Żółw Gęślą Jaźń Sp. z o.o."
    tier: platinum
    language: pl
    address: ["ul. Źródlana 7", "90-001 Łódź"]
    servers:
      - { id: oci-1, name: "Sklep" }
      - { id: oci-2, name: "Baza danych" }
  - id: globex
    name: "Globex, \\"Ltd\\""
    tier: gold
    language: en
    servers: [{ id: oci-9, name: "API", since: "2026-10-15" }]
  - id: calm
    name: "Spokojna Firma"
    tier: silver
    language: pl
    servers: [{ id: oci-5, name: "WWW" }]
maintenance:
  - { server: oci-1, from: "2026-10-10T02:00:00+02:00", to: "2026-10-10T04:00:00+02:00", reason: "Aktualizacja jądra", announcedAt: "2026-10-03T12:00:00+02:00" }
`,
      join(dir, 'config.yaml'),
    );
    credits = closeOctober(config, {
      // 3 h across the night the clocks went back: 00:30-03:30 UTC = 02:30 CEST .. 04:30 CET.
      'oci-1': [['2026-10-25T00:30:00Z', '2026-10-25T03:30:00Z']],
      // 8 h: 737/745 = 98.9261 % -> 300 % of 600.00 = 1 800.00 zł.
      'oci-2': [['2026-10-05T08:00:00Z', '2026-10-05T16:00:00Z']],
      // Gold, covered 409 h: 2 h down -> 99.5110 % -> 10 % of 164.70 = 16.47.
      'oci-9': [['2026-10-20T08:00:00Z', '2026-10-20T10:00:00Z']],
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes PDFs, a ledger, the terms and a manifest whose total equals the month close', async () => {
    const written = await publish(config, credits, dir);
    expect(written.sort()).toEqual([
      'calm.pdf',
      'globex.pdf',
      'ledger.csv',
      'ledger.json',
      'manifest.json',
      'terms.json',
      'zolw.pdf',
    ]);

    const csv = readFileSync(join(dir, '2026-10', 'ledger.csv'), 'utf8');
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    const rows = parse(csv, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.credit_id, r.uptime_percent, r.credit_percent, r.credit_base, r.credit_amount])).toEqual([
      ['UC-2026-10-zolw-oci-1', '99.5962', '25.00', '600.00', '150.00'], // 3 h of 743 h (2 h maintenance)
      ['UC-2026-10-zolw-oci-2', '98.9261', '300.00', '600.00', '1800.00'],
      ['UC-2026-10-globex-oci-9', '99.5110', '10.00', '164.70', '16.47'],
    ]);
    expect(rows[2]!.customer_name).toBe('Globex, "Ltd"');
    const totalGrosze = rows.reduce((sum, r) => sum + Number(r.credit_amount!.replace('.', '')), 0);
    expect(totalGrosze).toBe(credits.creditAmountGrosze);
    expect(totalGrosze).toBe(196_647);
    const ledger = JSON.parse(readFileSync(join(dir, '2026-10', 'ledger.json'), 'utf8'));
    expect(ledger.summary).toEqual({
      customers: 3,
      servers: 4,
      creditedServers: 3,
      creditedCustomers: 2,
      totalAmount: '1966.47',
    });
    expect(ledger).toMatchObject({ month: '2026-10', revision: 1, amounts: 'net' });

    const manifest = JSON.parse(readFileSync(join(dir, '2026-10', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ month: '2026-10', revision: 1, replaces: null });
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual([
      'calm.pdf',
      'globex.pdf',
      'ledger.csv',
      'ledger.json',
      'terms.json',
      'zolw.pdf',
    ]);
    for (const file of manifest.files) {
      expect(
        createHash('sha256')
          .update(readFileSync(join(dir, '2026-10', file.name)))
          .digest('hex'),
      ).toBe(file.sha256);
    }
  });

  it('the Polish report has the figures in Polish notation, the characters, and local outage times', () => {
    const text = pdfText(join(dir, '2026-10', 'zolw.pdf'));
    for (const expected of [
      'Żółw Gęślą Jaźń Sp. z o.o.',
      'ul. Źródlana 7',
      '90-001 Łódź',
      'Raport rekompensat SLA: 2026-10',
      'Strefa czasowa: Europe/Warsaw',
      'Długość miesiąca: 745 h 00 min 00 s',
      'Aktualizacja jądra',
    ]) {
      expect(text).toContain(expected);
    }
    expect(text).toMatch(/99,5962 %\s+< 99,6\s+25 %\s+150,00 zł/);
    expect(text).toMatch(/98,9261 %\s+< 99\s+300 %\s+1 800,00 zł/);
    expect(text).toContain('Łączna kwota rekompensaty: 1 950,00 zł');
    // The outage across the DST change: 02:30 summer time to 04:30 winter time, 3 hours.
    expect(text).toMatch(/25\.10\.2026 02:30:00 \+02:00\s+25\.10\.2026 04:30:00 \+01:00\s+3 h 00 min 00 s/);
    expect(text).toMatch(/10\.10\.2026 02:00:00 \+02:00\s+10\.10\.2026 04:00:00 \+02:00\s+2 h 00 min 00 s/);
  });

  it('the English report, and a report saying the SLA was met', () => {
    const english = pdfText(join(dir, '2026-10', 'globex.pdf'));
    expect(english).toContain('SLA credit report: 2026-10');
    expect(english).toMatch(/99\.5110 %\s+< 99\.6\s+10 %\s+PLN 16\.47/);
    expect(english).toContain('Base: PLN 164.70');
    expect(english).toContain('Total credit: PLN 16.47');
    const calm = pdfText(join(dir, '2026-10', 'calm.pdf'));
    expect(calm).toContain('poziom dostępności (SLA) został dotrzymany');
    expect(calm).toContain('Łączna kwota rekompensaty: 0,00 zł');
  });

  it('renders byte-identical files from the same inputs', async () => {
    const again = mkdtempSync(join(tmpdir(), 'uc-reports-again-'));
    try {
      await publish(config, credits, again);
      for (const name of [
        'zolw.pdf',
        'globex.pdf',
        'calm.pdf',
        'ledger.csv',
        'ledger.json',
        'terms.json',
        'manifest.json',
      ]) {
        expect(readFileSync(join(again, '2026-10', name)).equals(readFileSync(join(dir, '2026-10', name)))).toBe(true);
      }
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });

  it('never replaces an issued file: the same bytes again are kept, other bytes stop the write', async () => {
    expect(await publish(config, credits, dir)).toContain('manifest.json'); // a retry of the same revision
    const changed = closeOctober(config, { 'oci-1': [['2026-10-25T00:30:00Z', '2026-10-25T03:30:00Z']] });
    const ledgerBefore = readFileSync(join(dir, '2026-10', 'ledger.csv'));
    await expect(publish(config, changed, dir)).rejects.toThrow(
      /zolw\.pdf already exists with other content; an issued file is never replaced/,
    );
    expect(readFileSync(join(dir, '2026-10', 'ledger.csv')).equals(ledgerBefore)).toBe(true);
  });
});
