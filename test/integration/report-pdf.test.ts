// The customer PDF rendered directly from hand-built report data and read back with poppler: pdftotext for the
// words (drafts, revisions, the monitored share, the footer), pdftoppm for the pixels (the page is not blank).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCustomerPdf, type CustomerReport } from '../../src/reports/pdf.js';
import type { Interval, ServerCredit } from '../../src/sla/types.js';

const H = 3_600_000;
const FROM = Date.parse('2026-09-30T22:00:00Z'); // 2026-10-01 00:00 Europe/Warsaw
const TO = Date.parse('2026-10-31T23:00:00Z'); // 2026-11-01 00:00 Europe/Warsaw (745 h: the clocks go back)
const AS_OF = Date.parse('2026-10-15T05:00:00Z'); // 07:00 +02:00
const REASON = 'Pomiary z lokalizacji waw były niekompletne; dane uzupełniono z lokalizacji fra.';

/** `count` ten-minute outages, one every four hours from the month's start. */
const outages = (count: number): Interval[] =>
  Array.from({ length: count }, (_, i) => ({ fromMs: FROM + i * 4 * H, toMs: FROM + i * 4 * H + 600_000 }));

function server(overrides: Partial<ServerCredit> & Pick<ServerCredit, 'id' | 'name'>): ServerCredit {
  return {
    coveredMs: 745 * H,
    maintenanceMs: 0,
    eligibleMs: 745 * H,
    downtimeMs: 0,
    unmonitoredMs: 0,
    uptimePercent: '100.0000',
    monitoredPercent: '100.00',
    bracket: null,
    creditPercentHundredths: 0,
    creditBaseGrosze: 60_000,
    creditAmountGrosze: 0,
    outages: [],
    unmonitored: [],
    maintenance: [],
    ...overrides,
  };
}

/** A report of three servers: one credited with 96.66 % monitored, one credited fully monitored, one never eligible. */
function report(options: { language: 'pl' | 'en'; outages?: number } & Partial<CustomerReport>): CustomerReport {
  const { language, outages: outageCount = 3, ...rest } = options;
  return {
    language,
    provider: { name: 'Oktawave', address: ['ul. Domaniewska 44a', '02-672 Warszawa'] },
    customer: { id: 'zolw', name: 'Żółw Gęślą Jaźń Sp. z o.o.', address: ['ul. Źródlana 7', '90-001 Łódź'] },
    tier: {
      name: 'platinum',
      baseFeeGrosze: 100_000,
      serverFeeGrosze: 60_000,
      brackets: [
        { belowMicroPercent: 99_950_000, creditPercentHundredths: 1_000 },
        { belowMicroPercent: 99_600_000, creditPercentHundredths: 2_500 },
        { belowMicroPercent: 99_000_000, creditPercentHundredths: 30_000 },
      ],
    },
    month: '2026-10',
    timeZone: 'Europe/Warsaw',
    fromMs: FROM,
    toMs: TO,
    monthMs: 745 * H,
    confirmations: 3,
    creditBase: 'server',
    minMonitoredPercent: '90',
    credit: {
      id: 'zolw',
      name: 'Żółw Gęślą Jaźń Sp. z o.o.',
      tier: 'platinum',
      monthlyFeeGrosze: 280_000,
      creditAmountGrosze: 195_000,
      servers: [
        server({
          id: 'oci-1',
          name: 'Sklep',
          maintenanceMs: 2 * H,
          eligibleMs: 743 * H,
          downtimeMs: 3 * H,
          unmonitoredMs: 24 * H + 50 * 60_000,
          uptimePercent: '99.5962',
          monitoredPercent: '96.66',
          bracket: { belowMicroPercent: 99_600_000, creditPercentHundredths: 2_500 },
          creditPercentHundredths: 2_500,
          creditAmountGrosze: 15_000,
          outages: outages(outageCount),
          maintenance: [{ fromMs: FROM + 9 * 24 * H, toMs: FROM + 9 * 24 * H + 2 * H }],
        }),
        server({
          id: 'oci-2',
          name: 'Baza danych',
          downtimeMs: 8 * H,
          uptimePercent: '98.9261',
          bracket: { belowMicroPercent: 99_000_000, creditPercentHundredths: 30_000 },
          creditPercentHundredths: 30_000,
          creditAmountGrosze: 180_000,
        }),
        server({
          id: 'oci-3',
          name: 'Zapas',
          coveredMs: 0,
          eligibleMs: 0,
          uptimePercent: null,
          monitoredPercent: null,
          creditBaseGrosze: 0,
        }),
      ],
    },
    maintenanceReasons: new Map([['oci-1', [{ fromMs: FROM, reason: 'Aktualizacja jądra' }]]]),
    maintenanceNoticeMs: 0,
    ...rest,
  };
}

describe('customer PDF: drafts, revisions and evidence', () => {
  let dir: string;
  let serial = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'uc-report-pdf-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = async (data: CustomerReport) => {
    const path = join(dir, `report-${++serial}.pdf`);
    writeFileSync(path, await renderCustomerPdf(data));
    return path;
  };
  const pdftotext = (path: string, ...args: string[]) =>
    execFileSync('pdftotext', [...args, path, '-'], { encoding: 'utf8' });
  const pageText = (path: string, page: number, ...args: string[]) =>
    pdftotext(path, '-f', String(page), '-l', String(page), ...args);
  const pages = (path: string) =>
    Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [path], { encoding: 'utf8' }))![1]);
  /** Text with whitespace runs (line wraps included) collapsed to one space. */
  const flat = (text: string) => text.replace(/\s+/g, ' ');
  /**
   * The characters only diagonal text contributes: everything pdftotext extracts, less what it extracts with
   * -nodiag (which drops diagonal text), as a sorted string. The watermark is the only diagonal text.
   */
  const diagonalChars = (path: string, page: number) => {
    const chars = (text: string) => [...text.replace(/\s/g, '')].sort();
    const kept = chars(pageText(path, page, '-raw', '-nodiag'));
    const rest = chars(pageText(path, page, '-raw'));
    for (const c of kept) rest.splice(rest.indexOf(c), 1);
    return rest.join('');
  };

  it('the servers table shows the monitored share in the language notation, n/a without eligible time', async () => {
    const pl = pdftotext(await write(report({ language: 'pl', minMonitoredPercent: '92.5' })), '-layout');
    // Header words whole (no word broken across lines by a too narrow column).
    expect(pl).toMatch(/Serwer\s+Czas\s+Przerwy\s+Bez pomiaru\s+Pokrycie\s+Dostępność\s+Próg\s+Rekomp\.\s+Kwota/);
    expect(pl).toMatch(/rozliczany\s+\(h:mm:ss\)\s+\(h:mm:ss\)\s+pomiarem/);
    expect(pl).toMatch(
      /Sklep \(oci-1\)\s+743:00:00\s+3:00:00\s+24:50:00\s+96,66 %\s+99,5962 %\s+< 99,6\s+25 %\s+150,00 zł/,
    );
    expect(pl).toMatch(
      /Baza danych\s+745:00:00\s+8:00:00\s+0:00:00\s+100,00 %\s+98,9261 %\s+< 99\s+300 %\s+1 800,00 zł/,
    );
    expect(pl).toMatch(/Zapas \(oci-3\)\s+0:00:00\s+0:00:00\s+0:00:00\s+b\.d\.\s+brak czasu\s+brak\s+0 ?%\s+0,00 zł/);
    expect(pl).toContain('(Podstawa: 600,00 zł)');
    expect(flat(pl)).toContain(
      '• Pokrycie pomiarem to udział czasu rozliczanego ze świeżym pomiarem. Miesiąc, w którym dla któregoś serwera spada ono poniżej 92,5 %, przed rozliczeniem sprawdza człowiek.',
    );
    expect(pl).toContain('Kwoty netto; VAT dolicza faktura.');

    const en = pdftotext(await write(report({ language: 'en' })), '-layout');
    expect(en).toMatch(/Server\s+Eligible\s+Downtime\s+Unmonitored\s+Monitored\s+Uptime\s+Bracket\s+Credit %\s+Amount/);
    expect(en).toMatch(
      /Sklep \(oci-1\)\s+743:00:00\s+3:00:00\s+24:50:00\s+96\.66 %\s+99\.5962 %\s+< 99\.6\s+25 %\s+PLN 150\.00/,
    );
    expect(en).toMatch(/745:00:00\s+8:00:00\s+0:00:00\s+100\.00 %\s+98\.9261 %/);
    expect(en).toMatch(/Zapas \(oci-3\)\s+0:00:00\s+0:00:00\s+0:00:00\s+n\/a\s+no eligible\s+none\s+0 ?%\s+PLN 0\.00/);
    expect(en).toContain('(Base: PLN 600.00)');
    expect(flat(en)).toContain(
      "• The monitored share is the part of eligible time with a fresh observation. A month in which any server's share is below 90 % is reviewed by a person before it is issued.",
    );
    expect(en).toContain('Amounts are net; VAT is added by invoicing.');
  });

  it('a report that is neither a draft nor a revision says nothing of either', async () => {
    for (const language of ['pl', 'en'] as const) {
      const path = await write(report({ language, outages: 150 }));
      expect(pages(path)).toBeGreaterThanOrEqual(3);
      const text = pdftotext(path, '-layout');
      for (const absent of [
        'PROJEKT',
        'DRAFT',
        'Miesiąc w toku',
        'Month in progress',
        'Korekta',
        'Correction',
        'Wersja',
        'Revision',
      ])
        expect(text).not.toContain(absent);
      for (let page = 1; page <= pages(path); page++) expect(diagonalChars(path, page)).toBe('');
    }
  });

  it('a multi-page draft of a running month carries the mark, the header and the in-progress line on every page', async () => {
    const path = await write(report({ language: 'pl', outages: 150, draft: { asOfMs: AS_OF } }));
    const count = pages(path);
    expect(count).toBeGreaterThanOrEqual(3);
    for (let page = 1; page <= count; page++) {
      const lines = pageText(path, page, '-layout', '-nodiag')
        .split('\n')
        .filter((line) => line.trim() !== '');
      expect(lines[0]!.trim()).toBe(
        'PROJEKT – dokument roboczy, nie jest rozliczeniem i nie trafia do księgi rekompensat',
      );
      expect(lines[1]!.trim()).toBe(
        'Miesiąc w toku: dane do 15.10.2026 07:00:00 +02:00; czas, który jeszcze nie upłynął, nie jest liczony.',
      );
      expect(diagonalChars(path, page)).toBe([...'PROJEKT'].sort().join(''));
    }
    // The figures are all there, unchanged, under the marks.
    const text = pdftotext(path, '-layout', '-nodiag');
    expect(text).toMatch(
      /Sklep \(oci-1\)\s+743:00:00\s+3:00:00\s+24:50:00\s+96,66 %\s+99,5962 %\s+< 99,6\s+25 %\s+150,00 zł/,
    );
    expect(text).toMatch(/25\.10\.2026 00:00:00 \+02:00\s+25\.10\.2026 00:10:00 \+02:00\s+0 h 10 min 00 s/);
    expect(text).toContain('Łączna kwota rekompensaty: 1 950,00 zł');
  });

  it('an English draft without asOf: mark and header on every page, no in-progress line', async () => {
    const path = await write(report({ language: 'en', outages: 100, draft: {} }));
    const count = pages(path);
    expect(count).toBeGreaterThanOrEqual(2);
    for (let page = 1; page <= count; page++) {
      const text = pageText(path, page, '-layout', '-nodiag');
      expect(text.trimStart().split('\n')[0]!.trim()).toBe(
        'DRAFT – a working document, not an issued statement; it is not in the credit ledger',
      );
      expect(text).not.toContain('Month in progress');
      expect(diagonalChars(path, page)).toBe([...'DRAFT'].sort().join(''));
    }
  });

  it('the draft marks do not move any word of the report (page breaks inside tables and wrapped text alike)', async () => {
    /** Every word below the top margin with its box, from pdftotext -bbox. */
    const words = (path: string) =>
      [
        ...pdftotext(path, '-bbox', '-nodiag').matchAll(
          /<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g,
        ),
      ]
        .filter((m) => Number(m[2]) >= 45)
        .map((m) => m.slice(1).join(' '));
    // 150 outages break pages inside the outage table; 176 break one inside the wrapped "how" bullets.
    for (const count of [150, 176]) {
      const plain = words(await write(report({ language: 'pl', outages: count })));
      const draft = words(await write(report({ language: 'pl', outages: count, draft: { asOfMs: AS_OF } })));
      expect(plain.length).toBeGreaterThan(1_000);
      expect(draft).toEqual(plain);
    }
  });

  it('a restatement shows the correction box with its reason and the revision in the header', async () => {
    const revision = { number: 2, replaces: 1, replacesIssuedAtMs: Date.parse('2026-11-03T09:00:00Z'), reason: REASON };
    const pl = pdftotext(await write(report({ language: 'pl', revision, revisionNumber: 2 })), '-layout');
    expect(pl).toMatch(/Raport rekompensat SLA: 2026-10\s+Wersja 2\s+Klient:/);
    expect(flat(pl)).toContain(`Korekta: wersja 2 zastępuje wersję 1 z 03.11.2026. Powód: ${REASON}`);
    // Near the top: after the customer block, before the tier terms.
    expect(pl.indexOf('Korekta:')).toBeGreaterThan(pl.indexOf('Długość miesiąca'));
    expect(pl.indexOf('Korekta:')).toBeLessThan(pl.indexOf('Warunki pakietu'));

    // revision.number alone is enough for the header too.
    const en = pdftotext(await write(report({ language: 'en', revision })), '-layout');
    expect(en).toMatch(/SLA credit report: 2026-10\s+Revision 2\s+Customer:/);
    expect(flat(en)).toContain(`Correction: revision 2 replaces revision 1 of 2026-11-03. Reason: ${REASON}`);
  });

  it('a first issue shows its revision number and no correction; a contradictory revision is refused', async () => {
    const first = pdftotext(await write(report({ language: 'pl', revisionNumber: 1 })), '-layout');
    expect(first).toMatch(/Raport rekompensat SLA: 2026-10\s+Wersja 1\s+Klient:/);
    expect(first).not.toContain('Korekta');
    await expect(
      renderCustomerPdf(
        report({
          language: 'pl',
          revisionNumber: 3,
          revision: { number: 2, replaces: 1, replacesIssuedAtMs: TO, reason: 'x' },
        }),
      ),
    ).rejects.toThrow(/revisionNumber 3 differs/);
  });

  it('is byte-identical for the same input, and differs when the input does', async () => {
    const input = () =>
      report({
        language: 'pl',
        outages: 150,
        draft: { asOfMs: AS_OF },
        revisionNumber: 2,
        revision: { number: 2, replaces: 1, replacesIssuedAtMs: TO + 48 * H, reason: REASON },
      });
    const a = await renderCustomerPdf(input());
    const b = await renderCustomerPdf(input());
    expect(a.equals(b)).toBe(true);
    expect(
      (await renderCustomerPdf(report({ language: 'en' }))).equals(await renderCustomerPdf(report({ language: 'en' }))),
    ).toBe(true);
    const later = await renderCustomerPdf({ ...input(), draft: { asOfMs: AS_OF + H } });
    expect(later.equals(a)).toBe(false);
  });

  it('the first page is not blank: a sane share of its pixels is ink', async () => {
    /** Share of non-white pixels of page 1, from an 8-bit greyscale PGM (P5) rendered at 20 dpi. */
    const inkShare = (pdf: string) => {
      const out = join(dir, `page-${++serial}`);
      execFileSync('pdftoppm', ['-gray', '-r', '20', '-f', '1', '-l', '1', '-singlefile', pdf, out]);
      const pgm = readFileSync(`${out}.pgm`);
      const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(pgm.subarray(0, 64).toString('latin1'))!;
      const [width, height, max] = [Number(header[1]), Number(header[2]), Number(header[3])];
      expect(max).toBe(255);
      const pixels = pgm.subarray(header[0].length);
      expect(pixels.length).toBe(width * height);
      // A4 at 20 dpi: about 165 x 234 pixels.
      expect(Math.abs(width - 165)).toBeLessThanOrEqual(2);
      expect(Math.abs(height - 234)).toBeLessThanOrEqual(2);
      let ink = 0;
      for (const value of pixels) if (value < 250) ink++;
      return ink / pixels.length;
    };
    // Measured (pixels darker than 250 of 255): 0.248 for this Polish page, 0.299 with the draft watermark; a blank
    // page is 0, and text run over the whole page would be far more.
    const plain = inkShare(await write(report({ language: 'pl', outages: 3 })));
    expect(plain).toBeGreaterThan(0.18);
    expect(plain).toBeLessThan(0.32);
    const draft = inkShare(await write(report({ language: 'pl', outages: 3, draft: { asOfMs: AS_OF } })));
    expect(draft - plain).toBeGreaterThan(0.02); // the watermark and the header lines
    expect(draft).toBeLessThan(0.4);
  });
});
