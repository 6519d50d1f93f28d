// The web pages as HTML strings from plain views: no IO, no JavaScript needed (tables and an SVG timeline). The
// ops pages and the customer portal share them; what a page may show is decided by the routes, not here.
import {
  fillTemplate,
  formatClockDuration,
  formatLocalDate,
  formatLocalTime,
  formatMoney,
  formatPercentHundredthsText,
  formatPercentText,
  type Language,
  monthTitle,
} from '../reports/format.js';
import { escapeHtml } from './html.js';
import type { MonthCredits } from '../sla/types.js';
import type { ServerTimeline } from '../close/server-timeline.js';
import { subtractIntervals, mergeIntervals } from '../sla/intervals.js';
import { webLabels, type WebLabels } from './i18n.js';

/** One server on the overview: its state now and its month to date. */
export interface FleetServerView {
  id: string;
  name: string;
  customerId: string;
  customerName: string;
  tier: string;
  state: 'up' | 'down' | 'unknown';
  monthToDate?: {
    uptimePercent: string | null;
    downtimeMs: number;
    unmonitoredMs: number;
    /** The bracket not yet crossed with the least downtime left before it applies; null when every one is crossed. */
    nextBracket: { belowPercent: string; creditPercentHundredths: number; remainingMs: number } | null;
    projectedCreditPercentHundredths: number;
    projectedCreditGrosze: number;
  };
}

export interface FleetView {
  month: string;
  /** The month to date's end; undefined before the first computation. */
  asOfMs?: number;
  servers: FleetServerView[];
}

/** A month's close as the month list shows it. */
export interface MonthListItem {
  month: string;
  state: string;
  revision: number;
  revisions: {
    revision: number;
    kind: string;
    closedAtMs: number;
    reason: string;
    totalGrosze: number;
    files: string[];
  }[];
}

/** Where a page lives and what it may link to. */
export interface PageFrame {
  language: Language;
  timeZone: string;
  /** '/ui' or '/portal'. */
  base: string;
  title: string;
  /** Navigation links: [href, text]. */
  nav: [string, string][];
  /** A logout form's action, if any. */
  logout?: string;
}

const STYLE = `
body{font-family:system-ui,Arial,Helvetica,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
header{background:#1d2733;color:#fff;padding:12px 24px;display:flex;gap:24px;align-items:center}
header a{color:#fff;text-decoration:none} header h1{font-size:18px;margin:0 24px 0 0}
header form{margin-left:auto} header button{background:none;border:1px solid #fff;color:#fff;padding:4px 10px;cursor:pointer}
main{padding:16px 24px}
table{border-collapse:collapse;background:#fff;margin:8px 0 24px}
th,td{padding:6px 12px;border-bottom:1px solid #dde1e6;text-align:left;vertical-align:top}
th{background:#eef1f4} td.num,th.num{text-align:right;font-variant-numeric:tabular-nums} td.num{white-space:nowrap}
.state-up{color:#1a7f37;font-weight:600} .state-down{color:#c62828;font-weight:600} .state-unknown{color:#6b7280}
.muted{color:#6b7280} .legend span{display:inline-block;margin-right:16px} .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
`;

export const TIMELINE_COLOURS = {
  up: '#2da44e',
  down: '#d1242f',
  unmonitored: '#9ca3af',
  maintenance: '#2f6feb',
  outside: '#e5e7eb',
} as const;
const LEGEND_LABELS = {
  up: 'legendUp',
  down: 'legendDown',
  unmonitored: 'legendUnmonitored',
  maintenance: 'legendMaintenance',
  outside: 'legendOutside',
} as const;

/** A whole page around `body`. */
export function page(frame: PageFrame, body: string): string {
  const nav = frame.nav.map(([href, text]) => `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`).join('');
  const logout = frame.logout
    ? `<form method="post" action="${escapeHtml(frame.logout)}"><button type="submit">${escapeHtml(webLabels(frame.language).logout)}</button></form>`
    : '';
  return `<!doctype html>
<html lang="${frame.language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(frame.title)}</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(frame.title)}</h1>${nav}${logout}</header><main>
${body}
</main></body></html>
`;
}

const stateCell = (state: FleetServerView['state'], l: WebLabels) =>
  `<td class="state-${state}" data-field="state">${escapeHtml(l[state])}</td>`;

/** The overview: every server given, with its state now and month to date. `showCustomer`: the ops view. */
export function overviewBody(view: FleetView, frame: PageFrame, showCustomer: boolean): string {
  const l = webLabels(frame.language);
  const heading =
    view.asOfMs === undefined
      ? `<p class="muted">${escapeHtml(l.noSnapshot)}</p>`
      : `<p>${escapeHtml(fillTemplate(l.monthToDate, { month: monthTitle(view.month, frame.language), asOf: formatLocalTime(view.asOfMs, frame.timeZone, frame.language) }))}</p>`;
  return heading + serversTable(view.servers, frame, showCustomer);
}

function serversTable(servers: readonly FleetServerView[], frame: PageFrame, showCustomer: boolean): string {
  const l = webLabels(frame.language);
  const lang = frame.language;
  const rows = servers.map((s) => {
    const m = s.monthToDate;
    const budget = !m
      ? ''
      : m.nextBracket === null
        ? l.budgetNone
        : `${formatClockDuration(Math.max(0, m.nextBracket.remainingMs))} (< ${formatPercentText(m.nextBracket.belowPercent, lang)})`;
    return `<tr data-server="${escapeHtml(s.id)}">${showCustomer ? `<td>${escapeHtml(s.customerName)}</td>` : ''}<td><a href="${frame.base}/servers/${encodeURIComponent(s.id)}">${escapeHtml(s.name)}</a> <span class="muted">${escapeHtml(s.id)}</span></td><td>${escapeHtml(s.tier)}</td>${stateCell(s.state, l)}<td class="num" data-field="uptime">${m ? (m.uptimePercent === null ? '–' : escapeHtml(formatPercentText(m.uptimePercent, lang))) : ''}</td><td class="num" data-field="downtime">${m ? formatClockDuration(m.downtimeMs) : ''}</td><td class="num">${m ? formatClockDuration(m.unmonitoredMs) : ''}</td><td class="num" data-field="budget">${escapeHtml(budget)}</td><td class="num" data-field="projected">${m ? `${escapeHtml(formatPercentHundredthsText(m.projectedCreditPercentHundredths, lang))} · ${escapeHtml(formatMoney(m.projectedCreditGrosze, lang))}` : ''}</td></tr>`;
  });
  return `<table id="servers"><thead><tr>${showCustomer ? `<th>${l.customer}</th>` : ''}<th>${l.server}</th><th>${l.tier}</th><th>${l.state}</th><th class="num">${l.uptime}</th><th class="num">${l.downtime}</th><th class="num">${l.unmonitored}</th><th class="num">${l.budget}</th><th class="num">${l.projected}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The SVG of a timeline: one bar per row (the SLA's, then each location's), a tick per day. */
export function timelineSvg(timeline: ServerTimeline, frame: PageFrame, nowMs: number): string {
  const l = webLabels(frame.language);
  const { window } = timeline;
  const width = 960;
  const labelWidth = 200;
  const barHeight = 18;
  const rowHeight = 28;
  const span = window.toMs - window.fromMs;
  const x = (ms: number) =>
    labelWidth + ((Math.min(Math.max(ms, window.fromMs), window.toMs) - window.fromMs) / span) * (width - labelWidth);
  const rects: string[] = [];
  timeline.rows.forEach((row, index) => {
    const y = 10 + index * rowHeight;
    const a = row.availability;
    const label = row.location === undefined ? l.slaRow : fillTemplate(l.location, { name: row.location });
    rects.push(`<text x="0" y="${y + 13}" font-size="12">${escapeHtml(label)}</text>`);
    const bar = (fromMs: number, toMs: number, colour: string, kind: string) => {
      if (toMs <= fromMs) return;
      rects.push(
        `<rect x="${x(fromMs).toFixed(2)}" y="${y}" width="${Math.max(0.5, x(toMs) - x(fromMs)).toFixed(2)}" height="${barHeight}" fill="${colour}" data-kind="${kind}"><title>${escapeHtml(`${kind}: ${formatLocalTime(fromMs, frame.timeZone, frame.language)} – ${formatLocalTime(toMs, frame.timeZone, frame.language)}`)}</title></rect>`,
      );
    };
    bar(window.fromMs, window.toMs, TIMELINE_COLOURS.outside, 'outside');
    // Covered time up to now is up unless down, unmonitored or in maintenance, each drawn in its own colour.
    const elapsedTo = Math.min(window.toMs, nowMs);
    const known = mergeIntervals([...a.outages, ...a.unmonitored, ...a.maintenance]);
    const coveredSoFar = { fromMs: timeline.covered.fromMs, toMs: Math.min(timeline.covered.toMs, elapsedTo) };
    const upParts = coveredSoFar.toMs > coveredSoFar.fromMs ? subtractIntervals([coveredSoFar], known) : [];
    for (const part of upParts) bar(part.fromMs, part.toMs, TIMELINE_COLOURS.up, 'up');
    for (const part of a.unmonitored)
      bar(part.fromMs, Math.min(part.toMs, elapsedTo), TIMELINE_COLOURS.unmonitored, 'unmonitored');
    for (const part of a.maintenance) bar(part.fromMs, part.toMs, TIMELINE_COLOURS.maintenance, 'maintenance');
    for (const part of a.outages) bar(part.fromMs, part.toMs, TIMELINE_COLOURS.down, 'down');
  });
  const height = 10 + timeline.rows.length * rowHeight + 16;
  const days = Math.round(span / 86_400_000);
  for (let d = 0; d <= days; d += 1) {
    const tx = x(window.fromMs + (d * span) / days);
    rects.push(
      `<line x1="${tx.toFixed(2)}" x2="${tx.toFixed(2)}" y1="6" y2="${height - 14}" stroke="#fff" stroke-width="${d % 7 === 0 ? 1 : 0.3}"/>`,
    );
    if (d < days && (d % 5 === 0 || d === 0))
      rects.push(`<text x="${(tx + 2).toFixed(2)}" y="${height - 2}" font-size="10" fill="#555">${d + 1}</text>`);
  }
  const legend = (Object.keys(LEGEND_LABELS) as (keyof typeof LEGEND_LABELS)[])
    .map((k) => `<span><i style="background:${TIMELINE_COLOURS[k]}"></i>${escapeHtml(l[LEGEND_LABELS[k]])}</span>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(l.timeline)}">${rects.join('')}</svg><p class="legend">${legend}</p>`;
}

/** A server's page: its line of the overview, the timeline per location and the SLA's outages. */
export function serverBody(
  server: FleetServerView,
  month: string,
  timeline: ServerTimeline,
  frame: PageFrame,
  nowMs: number,
  showCustomer: boolean,
): string {
  const l = webLabels(frame.language);
  const [slaRow] = timeline.rows;
  if (!slaRow) throw new Error(`the timeline of ${server.id} has no SLA row`);
  const sla = slaRow.availability;
  const outages =
    sla.outages.length === 0
      ? `<p class="muted">${l.none}</p>`
      : `<table id="outages"><thead><tr><th>${l.from}</th><th>${l.to}</th><th class="num">${l.duration}</th></tr></thead><tbody>${sla.outages
          .map(
            (o) =>
              `<tr><td>${escapeHtml(formatLocalTime(o.fromMs, frame.timeZone, frame.language))}</td><td>${escapeHtml(formatLocalTime(o.toMs, frame.timeZone, frame.language))}</td><td class="num">${formatClockDuration(o.toMs - o.fromMs)}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  return `${serversTable([server], frame, showCustomer)}<h2>${escapeHtml(l.timeline)}: ${escapeHtml(monthTitle(month, frame.language))}</h2>${timelineSvg(timeline, frame, nowMs)}<h2>${escapeHtml(l.outages)}</h2>${outages}`;
}

/** The list of months: state and each revision, with links `fileLink` makes (none for a file it leaves out). */
export function monthsBody(
  months: readonly MonthListItem[],
  frame: PageFrame,
  fileLink: (month: string, file: string) => string | undefined,
): string {
  const l = webLabels(frame.language);
  if (months.length === 0) return `<p class="muted">${escapeHtml(l.noReports)}</p>`;
  const rows = months.flatMap((m) =>
    m.revisions.length === 0
      ? [
          `<tr data-month="${m.month}"><td><a href="${frame.base}/months/${m.month}">${m.month}</a></td><td>${escapeHtml(l.states[m.state] ?? m.state)}</td><td colspan="5"></td></tr>`,
        ]
      : m.revisions.map((r, i) => {
          const links = r.files.flatMap((f) => {
            const href = fileLink(m.month, f);
            return href ? [`<a href="${escapeHtml(href)}">${escapeHtml(f)}</a>`] : [];
          });
          return `<tr data-month="${m.month}" data-revision="${r.revision}">${i === 0 ? `<td rowspan="${m.revisions.length}"><a href="${frame.base}/months/${m.month}">${m.month}</a></td><td rowspan="${m.revisions.length}">${escapeHtml(l.states[m.state] ?? m.state)}</td>` : ''}<td class="num">${r.revision}</td><td>${escapeHtml(l.kinds[r.kind] ?? r.kind)}</td><td>${escapeHtml(formatLocalTime(r.closedAtMs, frame.timeZone, frame.language))}</td><td>${escapeHtml(r.reason)}</td><td class="num">${escapeHtml(formatMoney(r.totalGrosze, frame.language))}</td><td>${links.join('<br>')}</td></tr>`;
        }),
  );
  return `<table id="months"><thead><tr><th>${l.month}</th><th>${l.state}</th><th class="num">${l.revision}</th><th>${l.kind}</th><th>${l.issuedAt}</th><th>${l.reason}</th><th class="num">${l.total}</th><th>${l.files}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** A closed month's figures (its latest revision) for the customers given: per server uptime, bracket, credit. */
export function monthFiguresBody(
  month: string,
  figures: { revision: number; credits: MonthCredits } | undefined,
  customerIds: readonly string[] | 'all',
  frame: PageFrame,
): string {
  const l = webLabels(frame.language);
  const lang = frame.language;
  if (!figures) return `<h2>${escapeHtml(monthTitle(month, lang))}</h2><p class="muted">${escapeHtml(l.notIssued)}</p>`;
  const customers = figures.credits.customers.filter((c) => customerIds === 'all' || customerIds.includes(c.id));
  const rows = customers.flatMap((c) =>
    c.servers.map(
      (s) =>
        `<tr data-server="${escapeHtml(s.id)}"><td>${escapeHtml(c.name)}</td><td>${escapeHtml(s.name)} <span class="muted">${escapeHtml(s.id)}</span></td><td class="num" data-field="uptime">${s.uptimePercent === null ? '–' : escapeHtml(formatPercentText(s.uptimePercent, lang))}</td><td class="num" data-field="downtime">${formatClockDuration(s.downtimeMs)}</td><td class="num" data-field="credit-percent">${escapeHtml(formatPercentHundredthsText(s.creditPercentHundredths, lang))}</td><td class="num" data-field="amount">${escapeHtml(formatMoney(s.creditAmountGrosze, lang))}</td></tr>`,
    ),
  );
  const total = customers.reduce((sum, c) => sum + c.creditAmountGrosze, 0);
  return `<h2>${escapeHtml(monthTitle(month, lang))} · ${escapeHtml(l.revision)} ${figures.revision}</h2><table id="figures"><thead><tr><th>${l.customer}</th><th>${l.server}</th><th class="num">${l.uptime}</th><th class="num">${l.downtime}</th><th class="num">${l.creditPercent}</th><th class="num">${l.amount}</th></tr></thead><tbody>${rows.join('')}</tbody><tfoot><tr><th colspan="5">${l.total}</th><th class="num" data-field="total">${escapeHtml(formatMoney(total, lang))}</th></tr></tfoot></table>`;
}

/** One of a customer's own PDFs, as the portal lists it. */
export interface CustomerReportLink {
  month: string;
  revision: number;
  /** The file, relative to the month's folder of the reports. */
  file: string;
  closedAtMs: number;
}

/** The portal's list of the customer's reports: month (its figures), revision, issue date, the PDF. */
export function customerReportsBody(reports: readonly CustomerReportLink[], frame: PageFrame): string {
  const l = webLabels(frame.language);
  if (reports.length === 0) return `<p class="muted">${escapeHtml(l.noReports)}</p>`;
  const rows = reports.map(
    (r) =>
      `<tr data-month="${r.month}" data-revision="${r.revision}"><td><a href="${frame.base}/months/${r.month}">${r.month}</a></td><td class="num">${r.revision}</td><td>${escapeHtml(formatLocalDate(r.closedAtMs, frame.timeZone, frame.language))}</td><td><a href="${frame.base}/reports/${r.month}/${r.revision}">${escapeHtml(l.pdf)}</a></td></tr>`,
  );
  return `<table id="reports"><thead><tr><th>${l.month}</th><th class="num">${l.revision}</th><th>${l.issuedAt}</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The ops login form (and why it failed, if it did). */
export function loginBody(frame: PageFrame, problem?: string): string {
  const l = webLabels(frame.language);
  return `${problem ? `<p class="state-down">${escapeHtml(problem)}</p>` : ''}<form method="post" action="${frame.base}/login"><label>${escapeHtml(l.loginToken)} <input type="password" name="token" autocomplete="current-password" required></label> <button type="submit">${escapeHtml(l.loginButton)}</button></form>`;
}
