// The report's "how uptime is computed" section, from the terms the month was closed under: the quorum when
// one is set (a majority otherwise), the credit base, the cap, the maintenance notice, incidents when the
// month has any. Pure text, so what a customer reads follows the configuration that produced the figures.
import {
  fillTemplate,
  formatDecimalText,
  formatDuration,
  formatPercentHundredthsText,
  type Language,
} from './format.js';
import { messagesFor } from './i18n.js';
import type { CreditBase } from '../sla/types.js';

/** What the method section depends on. */
export interface MethodTerms {
  language: Language;
  confirmations: number;
  /** Locations that must see the server down; undefined: a strict majority. */
  quorum?: number;
  creditBase: CreditBase;
  /** The cap on a credit, in hundredths of a percent of the base; undefined: no cap. */
  maxCreditPercentHundredths?: number;
  /** Decimal percent ("90"): a month with a server monitored less is reviewed before it is issued. */
  minMonitoredPercent: string;
  /** Notice maintenance needs to be excluded (0: announced before it starts). */
  maintenanceNoticeMs: number;
  /** Whether any server of the report has reported outages or monitoring faults. */
  hasIncidents: boolean;
}

/** The section's bullet points, in order. */
export function methodLines(terms: MethodTerms): string[] {
  const t = messagesFor(terms.language);
  const locations =
    terms.quorum === undefined ? t.howMajority : fillTemplate(t.howQuorum, { quorum: String(terms.quorum) });
  const base = terms.creditBase === 'customer' ? t.customerBase : t.serverBase;
  const cap =
    terms.maxCreditPercentHundredths === undefined
      ? ''
      : ` ${fillTemplate(t.howCap, { cap: formatPercentHundredthsText(terms.maxCreditPercentHundredths, terms.language) })}`;
  return [
    t.howMonth,
    t.howEligible,
    ...(terms.maintenanceNoticeMs > 0
      ? [fillTemplate(t.howNotice, { notice: formatDuration(terms.maintenanceNoticeMs) })]
      : []),
    `${fillTemplate(t.howDowntime, { confirmations: String(terms.confirmations) })} ${locations}`,
    t.howUnmonitored,
    fillTemplate(t.howMonitored, { min: formatDecimalText(terms.minMonitoredPercent, terms.language) }),
    ...(terms.hasIncidents ? [t.howIncidents] : []),
    t.howUptime,
    `${t.howAmount} ${base}${cap}`,
  ];
}
