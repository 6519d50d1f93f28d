// The e-mails of an issued revision, as plain data: a customer's (their PDF and a short summary, in their language)
// and finance's (the revision's ledger CSV and journal rows). No IO: the caller reads the files and sends.
import { journalCsv } from '../close/journal-files.js';
import {
  fillTemplate,
  formatLocalDate,
  formatMoney,
  formatPercentHundredthsText,
  formatPercentText,
  type Language,
  monthTitle,
} from '../reports/format.js';
import { escapeHtml } from '../web/html.js';
import type { JournalRow } from '../state/close-records.js';
import type { MonthCredits } from '../sla/types.js';

export interface MailAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

export interface MailContent {
  subject: string;
  text: string;
  html: string;
  attachments: MailAttachment[];
}

/** Which revision is being sent, and why it exists. */
export interface RevisionNote {
  month: string;
  revision: number;
  /** The restatement's reason (revision 2 and later). */
  reason: string;
}

const words = {
  pl: {
    subject: 'Raport SLA za {month}: rekompensata {total}',
    correctedSubject: 'Korekta raportu SLA za {month} (wersja {revision}): rekompensata {total}',
    greeting: 'Dzień dobry,',
    intro: 'w załączniku przesyłamy raport dostępności serwerów objętych wsparciem zaawansowanym ({tier}) za {month}.',
    correction: 'To jest wersja {revision} raportu, zastępująca poprzednią. Powód korekty: {reason}',
    server: 'Serwer',
    uptime: 'Dostępność',
    creditPercent: 'Rekompensata',
    amount: 'Kwota',
    total: 'Łączna rekompensata',
    noCredit: 'Poziom dostępności został dotrzymany: rekompensata nie przysługuje.',
    portal: 'Szczegóły i poprzednie raporty: {link} (link ważny do {until}).',
    footer: 'Wiadomość wysłana automatycznie przez {provider}. Kwoty netto; VAT dolicza faktura.',
    noUptime: 'b.d.',
  },
  en: {
    subject: 'SLA report for {month}: credit {total}',
    correctedSubject: 'Corrected SLA report for {month} (revision {revision}): credit {total}',
    greeting: 'Hello,',
    intro: 'attached is the availability report of your servers under advanced support ({tier}) for {month}.',
    correction: 'This is revision {revision} of the report and replaces the previous one. Reason: {reason}',
    server: 'Server',
    uptime: 'Uptime',
    creditPercent: 'Credit',
    amount: 'Amount',
    total: 'Total credit',
    noCredit: 'The availability level was met: no credit is due.',
    portal: 'Details and earlier reports: {link} (the link works until {until}).',
    footer: 'Sent automatically by {provider}. Amounts are net; the invoice adds VAT.',
    noUptime: 'n/a',
  },
} as const;

/** A customer's report file name in an e-mail: the month and revision in it, so saved attachments never collide. */
export const customerAttachmentName = (customerId: string, month: string, revision: number) =>
  `${customerId}-${month}${revision > 1 ? `-rev-${revision}` : ''}.pdf`;

export interface CustomerMailInput {
  note: RevisionNote;
  credits: MonthCredits;
  customerId: string;
  language: Language;
  providerName: string;
  /** The customer's PDF of this revision: attached as it is on disk. */
  pdf: Buffer;
  portal?: { url: string; expiresAtMs: number };
}

/** A customer's e-mail: summary per server, total, the PDF, and the portal link. */
export function customerMail(input: CustomerMailInput): MailContent {
  const { note, credits, language } = input;
  const w = words[language];
  const customer = credits.customers.find((c) => c.id === input.customerId);
  if (!customer) throw new Error(`customer "${input.customerId}" is not in the ${note.month} figures`);
  const month = monthTitle(note.month, language);
  const total = formatMoney(customer.creditAmountGrosze, language);
  const subject = fillTemplate(note.revision > 1 ? w.correctedSubject : w.subject, {
    month,
    total,
    revision: note.revision,
  });
  const rows = customer.servers.map((s) => ({
    server: `${s.name} (${s.id})`,
    uptime: s.uptimePercent === null ? w.noUptime : formatPercentText(s.uptimePercent, language),
    credit: formatPercentHundredthsText(s.creditPercentHundredths, language),
    amount: formatMoney(s.creditAmountGrosze, language),
  }));
  const paragraphs = [fillTemplate(w.intro, { tier: customer.tier, month })];
  if (note.revision > 1) paragraphs.push(fillTemplate(w.correction, { revision: note.revision, reason: note.reason }));
  const closing: string[] = [];
  if (customer.creditAmountGrosze === 0) closing.push(w.noCredit);
  if (input.portal)
    closing.push(
      fillTemplate(w.portal, {
        link: input.portal.url,
        until: formatLocalDate(input.portal.expiresAtMs, credits.timeZone, language),
      }),
    );
  const footer = fillTemplate(w.footer, { provider: input.providerName });

  const text = [
    w.greeting,
    '',
    ...paragraphs.flatMap((p) => [p, '']),
    ...rows.map(
      (r) =>
        `- ${r.server}: ${w.uptime.toLowerCase()} ${r.uptime}, ${w.creditPercent.toLowerCase()} ${r.credit}, ${r.amount}`,
    ),
    '',
    `${w.total}: ${total}`,
    '',
    ...closing.flatMap((p) => [p, '']),
    footer,
    '',
  ].join('\n');

  const cell = (value: string, align = 'left') =>
    `<td style="padding:4px 10px;border-bottom:1px solid #ddd;text-align:${align}">${escapeHtml(value)}</td>`;
  const head = (value: string, align = 'left') =>
    `<th style="padding:4px 10px;border-bottom:2px solid #333;text-align:${align}">${escapeHtml(value)}</th>`;
  const linkText = (p: string) =>
    input.portal
      ? escapeHtml(p).replace(
          escapeHtml(input.portal.url),
          `<a href="${escapeHtml(input.portal.url)}">${escapeHtml(input.portal.url)}</a>`,
        )
      : escapeHtml(p);
  const html = [
    '<!doctype html>',
    `<html lang="${language}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family:Arial,Helvetica,sans-serif;color:#222;max-width:720px">',
    `<p>${escapeHtml(w.greeting)}</p>`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    '<table style="border-collapse:collapse">',
    `<thead><tr>${head(w.server)}${head(w.uptime, 'right')}${head(w.creditPercent, 'right')}${head(w.amount, 'right')}</tr></thead>`,
    '<tbody>',
    ...rows.map(
      (r) => `<tr>${cell(r.server)}${cell(r.uptime, 'right')}${cell(r.credit, 'right')}${cell(r.amount, 'right')}</tr>`,
    ),
    '</tbody>',
    `<tfoot><tr><th colspan="3" style="padding:4px 10px;text-align:left">${escapeHtml(w.total)}</th><th style="padding:4px 10px;text-align:right">${escapeHtml(total)}</th></tr></tfoot>`,
    '</table>',
    ...closing.map((p) => `<p>${linkText(p)}</p>`),
    `<p style="color:#666;font-size:small">${escapeHtml(footer)}</p>`,
    '</body></html>',
    '',
  ].join('\n');

  return {
    subject,
    text,
    html,
    attachments: [
      {
        filename: customerAttachmentName(input.customerId, note.month, note.revision),
        content: input.pdf,
        contentType: 'application/pdf',
      },
    ],
  };
}

const financeWords = {
  pl: {
    subject: 'Księga rekompensat {month}, wersja {revision}: {rows} pozycji dziennika, do wypłaty {delta}',
    body: 'W załączniku księga rekompensat za {month} (wersja {revision}, łącznie {total}) i pozycje dziennika tej wersji. Do wypłaty (saldo pozycji): {delta}.',
    reason: 'Powód: {reason}',
    none: 'Ta wersja nie zmienia żadnej rekompensaty: dziennik nie ma nowych pozycji.',
  },
  en: {
    subject: 'Credit ledger {month}, revision {revision}: {rows} journal rows, payable {delta}',
    body: "Attached: the credit ledger of {month} (revision {revision}, total {total}) and the journal rows of this revision. Payable (the rows' sum): {delta}.",
    reason: 'Reason: {reason}',
    none: 'This revision changes no credit: the journal has no new rows.',
  },
} as const;

export interface FinanceMailInput {
  note: RevisionNote;
  totalGrosze: number;
  language: Language;
  /** The revision's ledger.csv as it is on disk. */
  ledgerCsv: Buffer;
  /** The journal rows this revision appended. */
  journalRows: readonly JournalRow[];
  providerName: string;
}

/** Finance's e-mail: the ledger CSV of the revision and its journal rows (what to pay or claw back). */
export function financeMail(input: FinanceMailInput): MailContent {
  const { note, language } = input;
  const w = financeWords[language];
  const delta = formatMoney(
    input.journalRows.filter((r) => r.entry === 'payable').reduce((sum, r) => sum + r.deltaGrosze, 0),
    language,
  );
  const values = {
    month: note.month,
    revision: note.revision,
    rows: input.journalRows.length,
    delta,
    total: formatMoney(input.totalGrosze, language),
    reason: note.reason,
  };
  const paragraphs = [fillTemplate(w.body, values), fillTemplate(w.reason, values)];
  if (input.journalRows.length === 0) paragraphs.push(w.none);
  const suffix = `${note.month}-rev-${note.revision}`;
  const subject = fillTemplate(w.subject, values);
  return {
    subject,
    text: `${paragraphs.join('\n\n')}\n\n${input.providerName}\n`,
    html: `<!doctype html>\n<html lang="${language}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:Arial,Helvetica,sans-serif">${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('')}<p>${escapeHtml(input.providerName)}</p></body></html>\n`,
    attachments: [
      { filename: `ledger-${suffix}.csv`, content: input.ledgerCsv, contentType: 'text/csv; charset=utf-8' },
      {
        filename: `journal-${suffix}.csv`,
        content: Buffer.from(journalCsv(input.journalRows)),
        contentType: 'text/csv; charset=utf-8',
      },
    ],
  };
}
