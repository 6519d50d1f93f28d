// The customer's PDF credit report, rendered with pdfkit from already-computed figures (no arithmetic here).
// Byte-identical for the same input: fixed document dates (the month's end), so pdfkit's file ID, which it
// derives from the document info, is fixed too; fonts are embedded from the dejavu-fonts-ttf package.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';
import type { CreditBase, CustomerCredit, Interval, TierTerms } from '../sla/types.js';
import { formatMicroPercent } from '../sla/money.js';
import { formatClockDuration, formatDuration, formatLocalTime, formatMoney, formatPercentHundredthsText, formatPercentText, type Language } from './format.js';
import { messagesFor } from './i18n.js';

const FONT_DIR = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const REGULAR = join(FONT_DIR, 'DejaVuSans.ttf');
const BOLD = join(FONT_DIR, 'DejaVuSans-Bold.ttf');

/** Everything one customer's report shows, as plain data. */
export interface CustomerReport {
  language: Language;
  provider: { name: string; address: string[] };
  customer: { id: string; name: string; address: string[] };
  tier: TierTerms;
  month: string;
  timeZone: string;
  fromMs: number;
  toMs: number;
  monthMs: number;
  confirmations: number;
  creditBase: CreditBase;
  credit: CustomerCredit;
  /** Maintenance reasons by server id, matched to windows by start time. */
  maintenanceReasons: Map<string, { fromMs: number; reason: string }[]>;
}

const PAGE = { margin: 50, width: 595.28 - 100 };

/** Renders the report to PDF bytes. */
export function renderCustomerPdf(report: CustomerReport): Promise<Buffer> {
  const t = messagesFor(report.language);
  const lang = report.language;
  const doc = new PDFDocument({
    size: 'A4',
    margin: PAGE.margin,
    compress: true,
    info: {
      Title: `${t.title} ${report.month} - ${report.customer.name}`,
      Author: report.provider.name,
      Subject: `${report.customer.id} ${report.month}`,
      Creator: 'uptime-credits',
      Producer: 'uptime-credits',
      CreationDate: new Date(report.toMs),
      ModDate: new Date(report.toMs),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('regular', REGULAR);
  doc.registerFont('bold', BOLD);

  const left = PAGE.margin;
  const heading = (text: string) => {
    doc.moveDown(0.8).font('bold').fontSize(11).fillColor('#1a3c6e').text(text, left).fillColor('black').moveDown(0.3);
  };
  const pair = (label: string, value: string) => {
    doc.font('regular').fontSize(9).text(`${label}: `, left, undefined, { continued: true }).font('bold').text(value);
  };

  /** A table with fixed column widths; `align` per column; a header row in bold; new pages as needed. */
  const table = (columns: { title: string; width: number; align?: 'left' | 'right' }[], rows: string[][], size = 8) => {
    const rowHeight = (cells: string[], font: string) => {
      doc.font(font).fontSize(size);
      return Math.max(...cells.map((cell, i) => doc.heightOfString(cell, { width: columns[i]!.width - 4 }))) + 4;
    };
    const drawRow = (cells: string[], font: string, shade: boolean) => {
      const height = rowHeight(cells, font);
      if (doc.y + height > doc.page.height - PAGE.margin) doc.addPage();
      const y = doc.y;
      if (shade) doc.rect(left, y, PAGE.width, height).fill('#e8eef7').fillColor('black');
      let x = left;
      cells.forEach((cell, i) => {
        const column = columns[i]!;
        doc.font(font).fontSize(size).text(cell, x + 2, y + 2, { width: column.width - 4, align: column.align ?? 'left' });
        x += column.width;
      });
      doc.x = left;
      doc.y = y + height;
    };
    drawRow(columns.map((c) => c.title), 'bold', true);
    rows.forEach((row) => drawRow(row, 'regular', false));
    doc.moveTo(left, doc.y).lineTo(left + PAGE.width, doc.y).lineWidth(0.5).strokeColor('#9aa8bd').stroke().strokeColor('black');
    doc.moveDown(0.3);
  };

  // Provider and customer.
  doc.font('bold').fontSize(16).text(report.provider.name, left);
  doc.font('regular').fontSize(9);
  for (const line of report.provider.address) doc.text(line);
  doc.moveDown(0.8).font('bold').fontSize(14).fillColor('#1a3c6e').text(`${t.title}: ${report.month}`).fillColor('black').moveDown(0.4);
  pair(t.customer, report.customer.name);
  for (const line of report.customer.address) doc.font('regular').fontSize(9).text(line);
  pair(t.customerId, report.customer.id);
  pair(t.month, `${report.month} (${formatLocalTime(report.fromMs, report.timeZone, lang)} - ${formatLocalTime(report.toMs, report.timeZone, lang)})`);
  pair(t.timeZone, report.timeZone);
  pair(t.monthLength, formatDuration(report.monthMs));

  // Tier and its terms.
  heading(`${t.tierTerms}: ${report.tier.name}`);
  pair(t.baseFee, formatMoney(report.tier.baseFeeGrosze, lang));
  pair(t.serverFee, formatMoney(report.tier.serverFeeGrosze, lang));
  pair(t.monthlyFee, formatMoney(report.credit.monthlyFeeGrosze, lang));
  doc.moveDown(0.3);
  table(
    [
      { title: t.below, width: 150 },
      { title: t.credit, width: 150, align: 'right' },
    ],
    report.tier.brackets.map((b) => [formatPercentText(formatMicroPercent(b.belowMicroPercent), lang), formatPercentHundredthsText(b.creditPercentHundredths, lang)]),
  );

  // Servers.
  heading(t.servers);
  table(
    [
      { title: t.server, width: 77 },
      { title: t.eligible, width: 58, align: 'right' },
      { title: t.downtime, width: 62, align: 'right' },
      { title: t.unmonitored, width: 58, align: 'right' },
      { title: t.uptime, width: 60, align: 'right' },
      { title: t.bracket, width: 40, align: 'right' },
      { title: t.creditPercent, width: 48, align: 'right' },
      { title: t.creditAmount, width: 92, align: 'right' },
    ],
    report.credit.servers.map((s) => [
      `${s.name} (${s.id})`,
      formatClockDuration(s.eligibleMs),
      formatClockDuration(s.downtimeMs),
      formatClockDuration(s.unmonitoredMs),
      s.uptimePercent === null ? t.noEligible : formatPercentText(s.uptimePercent, lang),
      s.bracket ? `< ${formatMicroPercent(s.bracket.belowMicroPercent).replace('.', lang === 'pl' ? ',' : '.')}` : t.none,
      formatPercentHundredthsText(s.creditPercentHundredths, lang),
      `${formatMoney(s.creditAmountGrosze, lang)}${s.creditAmountGrosze > 0 ? `\n(${t.creditBase}: ${formatMoney(s.creditBaseGrosze, lang)})` : ''}`,
    ]),
  );

  // Outages and maintenance behind each figure.
  const intervalRows = (intervals: readonly Interval[]) =>
    intervals.map((i) => [formatLocalTime(i.fromMs, report.timeZone, lang), formatLocalTime(i.toMs, report.timeZone, lang), formatDuration(i.toMs - i.fromMs)]);
  const intervalColumns = [
    { title: t.start, width: 170 },
    { title: t.end, width: 170 },
    { title: t.duration, width: 155, align: 'right' as const },
  ];
  for (const server of report.credit.servers) {
    if (server.outages.length > 0) {
      heading(`${t.outagesOf} ${server.name} (${server.id})`);
      table(intervalColumns, intervalRows(server.outages));
    }
    if (server.maintenance.length > 0) {
      heading(`${t.maintenanceOf}: ${server.name} (${server.id})`);
      const reasons = report.maintenanceReasons.get(server.id) ?? [];
      table(
        [{ title: t.start, width: 150 }, { title: t.end, width: 150 }, { title: t.duration, width: 85, align: 'right' as const }, { title: t.reason, width: 110 }],
        server.maintenance.map((window) => [
          ...intervalRows([window])[0]!,
          reasons.filter((r) => r.fromMs <= window.fromMs).map((r) => r.reason).pop() ?? '',
        ]),
      );
    }
  }

  // Total, or the SLA met.
  doc.moveDown(0.6);
  if (report.credit.creditAmountGrosze > 0) {
    doc.font('bold').fontSize(13).text(`${t.total}: ${formatMoney(report.credit.creditAmountGrosze, lang)}`, left);
  } else {
    doc.font('bold').fontSize(11).fillColor('#1d6b2f').text(t.slaMet, left).fillColor('black');
    doc.font('regular').fontSize(9).text(`${t.total}: ${formatMoney(0, lang)}`);
  }

  // How it is computed.
  heading(t.howTitle);
  const how: string[] = [...t.how];
  if (report.creditBase === 'customer') how[how.length - 1] = `${how[how.length - 1]!.split('. ')[0]}. ${t.customerBase}`;
  for (const line of how) doc.font('regular').fontSize(8).text(`• ${line.replace('{confirmations}', String(report.confirmations))}`, left, undefined, { width: PAGE.width }).moveDown(0.2);
  doc.moveDown(0.6).font('regular').fontSize(7).fillColor('#555555').text(t.footer, left).fillColor('black');

  doc.end();
  return done;
}
