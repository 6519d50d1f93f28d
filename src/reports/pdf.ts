// The customer's PDF credit report, rendered with pdfkit from already-computed figures (no arithmetic here).
// Byte-identical for the same input: fixed document dates (the month's end), so pdfkit's file ID, which it
// derives from the document info, is fixed too; fonts are embedded from the dejavu-fonts-ttf package.
// A draft carries a diagonal watermark and a header line on every page (drawn first, behind the content, from
// pdfkit's pageAdded event for pages that long tables and texts add); a restatement carries a correction box.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';
import { at } from '../sla/at.js';
import type { CreditBase, CustomerCredit, Interval, TierTerms } from '../sla/types.js';
import { formatMicroPercent } from '../sla/money.js';
import {
  formatClockDuration,
  formatDecimalText,
  formatDuration,
  formatLocalDate,
  formatLocalTime,
  formatMoney,
  formatPercentHundredthsText,
  formatPercentText,
  type Language,
} from './format.js';
import { messagesFor } from './i18n.js';
import { methodLines } from './method-text.js';

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
  /** Locations that must see the server down (undefined: a strict majority). */
  quorum?: number;
  creditBase: CreditBase;
  /** The cap on a credit in hundredths of a percent (undefined: none). */
  maxCreditPercentHundredths?: number;
  credit: CustomerCredit;
  /** Maintenance reasons (and when each was announced, if known) by server id, matched to windows by start time. */
  maintenanceReasons: Map<string, { fromMs: number; reason: string; announcedAtMs?: number }[]>;
  /** The notice maintenance needs to be excluded (0: announced before it starts). */
  maintenanceNoticeMs: number;
  /** Monitored share (decimal percent, "90") below which a month is reviewed by a person before it is issued. */
  minMonitoredPercent: string;
  /** A working document, not an issued statement; `asOfMs` when the month is still running (figures up to then). */
  draft?: { asOfMs?: number };
  /** The issued revision this report is (1 = first issue), shown in the header. */
  revisionNumber?: number;
  /** A restatement: which issued revision this one replaces, and why. */
  revision?: { number: number; replaces: number; replacesIssuedAtMs: number; reason: string };
}

const PAGE = { margin: 50, width: 595.28 - 100 };

/** pdfkit's text state that a nested text call (the draft marks, drawn from inside a page break) must not disturb. */
interface TextState {
  x: number;
  y: number;
  _font: unknown;
  _fontSize: number;
  _fontSource: unknown;
  _fontFamily: unknown;
  _fillColor: unknown;
  _wrapper: unknown;
  _textOptions: unknown;
}
const TEXT_STATE_KEYS = [
  'x',
  'y',
  '_font',
  '_fontSize',
  '_fontSource',
  '_fontFamily',
  '_fillColor',
  '_wrapper',
  '_textOptions',
] as const;

/** Renders the report to PDF bytes. */
export function renderCustomerPdf(report: CustomerReport): Promise<Buffer> {
  const t = messagesFor(report.language);
  const lang = report.language;
  const revisionNumber = report.revisionNumber ?? report.revision?.number;
  if (report.revision && revisionNumber !== report.revision.number) {
    return Promise.reject(
      new Error(`revisionNumber ${revisionNumber} differs from the restatement's revision ${report.revision.number}`),
    );
  }
  const doc = new PDFDocument({
    size: 'A4',
    margin: PAGE.margin,
    compress: true,
    info: {
      Title: `${report.draft ? `${t.draftMark} ` : ''}${t.title} ${report.month} - ${report.customer.name}`,
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

  // Draft marks: drawn when a page starts, so they lie behind its content, inside the top margin, and with the
  // text state saved and restored (a page can start in the middle of a wrapped text).
  const draftMarks = () => {
    const state = doc as unknown as TextState;
    const saved = TEXT_STATE_KEYS.map((key) => state[key]);
    state._wrapper = null;
    state._textOptions = null;
    const { width, height } = doc.page;
    const line = (text: string, font: string, y: number, color: string) => {
      doc.font(font).fontSize(8);
      doc.fontSize(Math.min(8, (8 * PAGE.width) / doc.widthOfString(text)));
      doc.fillColor(color).text(text, left, y, { lineBreak: false });
    };
    doc.save();
    line(t.draftHeader, 'bold', 20, '#9b1c1c');
    if (report.draft?.asOfMs !== undefined)
      line(
        t.inProgress.replace('{asOf}', formatLocalTime(report.draft.asOfMs, report.timeZone, lang)),
        'regular',
        32,
        '#333333',
      );
    doc.restore();
    doc.save();
    const angle = (Math.atan2(height, width) * 180) / Math.PI;
    doc.font('bold').fontSize(1);
    const size = Math.min(150, (0.6 * Math.hypot(width, height)) / doc.widthOfString(t.draftMark));
    doc.fontSize(size);
    doc.translate(width / 2, height / 2).rotate(-angle);
    // The trailing space ends the mark's word for text extractors: pdftotext -nodiag drops diagonal characters and
    // would otherwise drop the next characters on the page with them, up to the next space.
    doc
      .fillColor('#e4e4e4')
      .text(`${t.draftMark} `, -doc.widthOfString(t.draftMark) / 2, -doc.currentLineHeight() / 2, { lineBreak: false });
    doc.restore();
    TEXT_STATE_KEYS.forEach((key, i) => {
      (state as unknown as Record<string, unknown>)[key] = saved[i];
    });
  };
  if (report.draft) {
    draftMarks();
    doc.on('pageAdded', draftMarks);
  }

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
      return (
        Math.max(
          ...cells.map((cell, i) => doc.heightOfString(cell, { width: at(columns, i, 'table column').width - 4 })),
        ) + 4
      );
    };
    const drawRow = (cells: string[], font: string, shade: boolean) => {
      const height = rowHeight(cells, font);
      if (doc.y + height > doc.page.height - PAGE.margin) doc.addPage();
      const y = doc.y;
      if (shade) doc.rect(left, y, PAGE.width, height).fill('#e8eef7').fillColor('black');
      let x = left;
      cells.forEach((cell, i) => {
        const column = at(columns, i, 'table column');
        doc
          .font(font)
          .fontSize(size)
          .text(cell, x + 2, y + 2, { width: column.width - 4, align: column.align ?? 'left' });
        x += column.width;
      });
      doc.x = left;
      doc.y = y + height;
    };
    drawRow(
      columns.map((c) => c.title),
      'bold',
      true,
    );
    for (const row of rows) drawRow(row, 'regular', false);
    doc
      .moveTo(left, doc.y)
      .lineTo(left + PAGE.width, doc.y)
      .lineWidth(0.5)
      .strokeColor('#9aa8bd')
      .stroke()
      .strokeColor('black');
    doc.moveDown(0.3);
  };

  // Provider and customer.
  doc.font('bold').fontSize(16).text(report.provider.name, left);
  doc.font('regular').fontSize(9);
  for (const line of report.provider.address) doc.text(line);
  doc
    .moveDown(0.8)
    .font('bold')
    .fontSize(14)
    .fillColor('#1a3c6e')
    .text(`${t.title}: ${report.month}`)
    .fillColor('black');
  if (revisionNumber !== undefined && revisionNumber >= 1)
    doc.font('bold').fontSize(10).fillColor('#1a3c6e').text(`${t.revision} ${revisionNumber}`).fillColor('black');
  doc.moveDown(0.4);
  pair(t.customer, report.customer.name);
  for (const line of report.customer.address) doc.font('regular').fontSize(9).text(line);
  pair(t.customerId, report.customer.id);
  pair(
    t.month,
    `${report.month} (${formatLocalTime(report.fromMs, report.timeZone, lang)} - ${formatLocalTime(report.toMs, report.timeZone, lang)})`,
  );
  pair(t.timeZone, report.timeZone);
  pair(t.monthLength, formatDuration(report.monthMs));

  // A restatement: which revision it replaces and why, framed.
  if (report.revision) {
    const r = report.revision;
    const text = t.correction
      .replace('{number}', String(r.number))
      .replace('{replaces}', String(r.replaces))
      .replace('{date}', formatLocalDate(r.replacesIssuedAtMs, report.timeZone, lang))
      .replace('{reason}', r.reason);
    const pad = 8;
    doc.moveDown(0.6).font('bold').fontSize(9);
    const height = doc.heightOfString(text, { width: PAGE.width - 2 * pad }) + 2 * pad;
    if (doc.y + height > doc.page.height - PAGE.margin) doc.addPage();
    const y = doc.y;
    doc
      .rect(left, y, PAGE.width, height)
      .lineWidth(1.2)
      .fillAndStroke('#fff4e0', '#b3640f')
      .fillColor('black')
      .strokeColor('black')
      .lineWidth(1);
    doc
      .font('bold')
      .fontSize(9)
      .fillColor('#6b3a00')
      .text(text, left + pad, y + pad, { width: PAGE.width - 2 * pad })
      .fillColor('black');
    doc.x = left;
    doc.y = y + height;
  }

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
    report.tier.brackets.map((b) => [
      formatPercentText(formatMicroPercent(b.belowMicroPercent), lang),
      formatPercentHundredthsText(b.creditPercentHundredths, lang),
    ]),
  );

  // Servers: nine columns in 7 pt, 495 pt in all. Widths are measured: every header word with its trailing space
  // (pdfkit's wrapper counts it) and every figure fit their column; a base that would still not fit on one line
  // breaks after its label, never inside the amount.
  heading(t.servers);
  const serverSize = 7;
  const amountWidth = 96;
  const baseText = (grosze: number) => {
    const oneLine = `(${t.creditBase}: ${formatMoney(grosze, lang)})`;
    doc.font('regular').fontSize(serverSize);
    return doc.widthOfString(oneLine) <= amountWidth - 4 ? oneLine : `(${t.creditBase}:\n${formatMoney(grosze, lang)})`;
  };
  table(
    [
      { title: t.server, width: 62 },
      { title: t.eligible, width: 48, align: 'right' },
      { title: t.downtime, width: 48, align: 'right' },
      { title: t.unmonitored, width: 59, align: 'right' },
      { title: t.monitored, width: 48, align: 'right' },
      { title: t.uptime, width: 54, align: 'right' },
      { title: t.bracket, width: 38, align: 'right' },
      { title: t.creditPercent, width: 42, align: 'right' },
      { title: t.creditAmount, width: amountWidth, align: 'right' },
    ],
    report.credit.servers.map((s) => [
      `${s.name} (${s.id})`,
      formatClockDuration(s.eligibleMs),
      formatClockDuration(s.downtimeMs),
      formatClockDuration(s.unmonitoredMs),
      s.monitoredPercent === null ? t.notAvailable : formatPercentText(s.monitoredPercent, lang),
      s.uptimePercent === null ? t.noEligible : formatPercentText(s.uptimePercent, lang),
      s.bracket ? `< ${formatDecimalText(formatMicroPercent(s.bracket.belowMicroPercent), lang)}` : t.none,
      formatPercentHundredthsText(s.creditPercentHundredths, lang),
      `${formatMoney(s.creditAmountGrosze, lang)}${s.creditAmountGrosze > 0 ? `\n${baseText(s.creditBaseGrosze)}` : ''}`,
    ]),
    serverSize,
  );

  // Outages and maintenance behind each figure.
  const intervalRow = (i: Interval) => [
    formatLocalTime(i.fromMs, report.timeZone, lang),
    formatLocalTime(i.toMs, report.timeZone, lang),
    formatDuration(i.toMs - i.fromMs),
  ];
  const intervalRows = (intervals: readonly Interval[]) => intervals.map(intervalRow);
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
      // When it was announced, so the customer can check the notice.
      table(
        [
          { title: t.start, width: 112 },
          { title: t.end, width: 112 },
          { title: t.duration, width: 62, align: 'right' as const },
          { title: t.announcedAt, width: 112 },
          { title: t.reason, width: 97 },
        ],
        server.maintenance.map((window) => {
          const known = reasons.filter((r) => r.fromMs <= window.fromMs).pop();
          return [
            ...intervalRow(window),
            known?.announcedAtMs === undefined ? '-' : formatLocalTime(known.announcedAtMs, report.timeZone, lang),
            known?.reason ?? '',
          ];
        }),
        7,
      );
    }
    // People's records behind the figure: what each changed, so it can be checked against the probes' outages.
    const effects = server.incidentEffects;
    if (effects) {
      heading(`${t.incidentsOf}: ${server.name} (${server.id})`);
      table(
        [
          { title: t.start, width: 108 },
          { title: t.end, width: 108 },
          { title: t.incidentKind, width: 112 },
          { title: t.effect, width: 62, align: 'right' as const },
          { title: t.reason, width: 105 },
        ],
        effects.incidents.map((i) => [
          formatLocalTime(i.fromMs, report.timeZone, lang),
          formatLocalTime(i.toMs, report.timeZone, lang),
          `${i.kind === 'reported' ? t.reportedOutage : t.monitoringFault}${i.ticket ? `, ${t.ticket} ${i.ticket}` : ''}`,
          `${i.kind === 'reported' ? '+' : '−'}${formatClockDuration(i.effectMs)}`,
          i.reason,
        ]),
        7,
      );
      doc
        .font('regular')
        .fontSize(8)
        .text(
          t.incidentTotals
            .replace('{reported}', formatDuration(effects.reportedDowntimeMs))
            .replace('{excluded}', formatDuration(effects.excludedDowntimeMs)),
          left,
          undefined,
          { width: PAGE.width },
        );
    }
    if (server.lateMaintenance) {
      heading(`${t.lateMaintenanceOf}: ${server.name} (${server.id})`);
      table(
        [
          { title: t.start, width: 125 },
          { title: t.end, width: 125 },
          { title: t.announcedAt, width: 125 },
          { title: t.reason, width: 120 },
        ],
        server.lateMaintenance.map((m) => [
          formatLocalTime(m.fromMs, report.timeZone, lang),
          formatLocalTime(m.toMs, report.timeZone, lang),
          m.announcedAtMs === undefined ? t.notAnnounced : formatLocalTime(m.announcedAtMs, report.timeZone, lang),
          m.reason,
        ]),
        7,
      );
      doc
        .font('regular')
        .fontSize(8)
        .text(t.noticeRequired.replace('{notice}', formatDuration(report.maintenanceNoticeMs)), left, undefined, {
          width: PAGE.width,
        });
    }
  }

  // Total, or the SLA met.
  doc.moveDown(0.6);
  if (report.credit.creditAmountGrosze > 0) {
    doc
      .font('bold')
      .fontSize(13)
      .text(`${t.total}: ${formatMoney(report.credit.creditAmountGrosze, lang)}`, left);
  } else {
    doc.font('bold').fontSize(11).fillColor('#1d6b2f').text(t.slaMet, left).fillColor('black');
    doc
      .font('regular')
      .fontSize(9)
      .text(`${t.total}: ${formatMoney(0, lang)}`);
  }

  // How it is computed.
  heading(t.howTitle);
  const how = methodLines({
    language: lang,
    confirmations: report.confirmations,
    ...(report.quorum !== undefined ? { quorum: report.quorum } : {}),
    creditBase: report.creditBase,
    ...(report.maxCreditPercentHundredths !== undefined
      ? { maxCreditPercentHundredths: report.maxCreditPercentHundredths }
      : {}),
    minMonitoredPercent: report.minMonitoredPercent,
    maintenanceNoticeMs: report.maintenanceNoticeMs,
    hasIncidents: report.credit.servers.some((s) => s.incidentEffects),
  });
  for (const text of how) {
    doc.font('regular').fontSize(8).text(`• ${text}`, left, undefined, { width: PAGE.width }).moveDown(0.2);
  }
  doc
    .moveDown(0.6)
    .font('regular')
    .fontSize(7)
    .fillColor('#555555')
    .text(t.footer, left)
    .text(t.netAmounts, left)
    .fillColor('black');

  doc.end();
  return done;
}
