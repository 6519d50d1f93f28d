// From availability to money (sla-terms.md rules 5-7). Two roundings, each shown in the output so that a
// reader can redo the sum by hand: the credit base is rounded to the grosz first, then base x percent / 100.
import { at } from './at.js';
import { creditBracket } from './brackets.js';
import { monitoredPercentText, percentOfGrosze, prorateGrosze, uptimePercentText } from './money.js';
import type {
  CreditBase,
  CustomerCredit,
  MonthCredits,
  MonthWindow,
  ServerAvailability,
  ServerCredit,
  TierTerms,
} from './types.js';

/** The customer data the credit computation needs (a ResolvedCustomer fits). */
export interface CreditCustomer {
  id: string;
  name: string;
  tier: TierTerms;
  servers: readonly { id: string; name: string }[];
}

export interface MonthCreditsInput {
  window: MonthWindow;
  creditBase: CreditBase;
  maxCreditPercentHundredths?: number;
  customers: readonly CreditCustomer[];
  availability: ReadonlyMap<string, ServerAvailability>;
}

/** The figures of a server with nothing covered in the window (a credit line of a server without computed figures). */
export const NO_AVAILABILITY: ServerAvailability = {
  coveredMs: 0,
  maintenanceMs: 0,
  eligibleMs: 0,
  downtimeMs: 0,
  unmonitoredMs: 0,
  outages: [],
  unmonitored: [],
  maintenance: [],
  downAtEnd: false,
};

/**
 * Credits of every customer for the month. creditBase 'server': each server's credit is its bracket's percent
 * of its own fee, prorated by its covered share of the month. creditBase 'customer': the customer's whole monthly
 * fee (base fee + prorated server fees) times the highest percent among its servers, paid once and shown on the
 * worst server (first in configuration order on a tie), so the fee is never credited several times over.
 */
export function computeMonthCredits(input: MonthCreditsInput): MonthCredits {
  const monthMs = input.window.toMs - input.window.fromMs;
  const cap = input.maxCreditPercentHundredths;

  const customers: CustomerCredit[] = input.customers.map((customer) => {
    const lines = customer.servers.map((server) => {
      const availability = input.availability.get(server.id) ?? NO_AVAILABILITY;
      const bracket = creditBracket(availability.eligibleMs, availability.downtimeMs, customer.tier.brackets);
      const percent = bracket ? Math.min(bracket.creditPercentHundredths, cap ?? Infinity) : 0;
      const proratedFeeGrosze = prorateGrosze(customer.tier.serverFeeGrosze, availability.coveredMs, monthMs);
      return { server, availability, bracket, percent, proratedFeeGrosze };
    });
    const monthlyFeeGrosze = customer.tier.baseFeeGrosze + lines.reduce((sum, line) => sum + line.proratedFeeGrosze, 0);

    let worst = -1;
    if (input.creditBase === 'customer') {
      lines.forEach((line, index) => {
        if (line.percent > 0 && (worst < 0 || line.percent > at(lines, worst, 'credit line').percent)) worst = index;
      });
    }

    const servers: ServerCredit[] = lines.map((line, index) => {
      const creditBaseGrosze = input.creditBase === 'customer' ? monthlyFeeGrosze : line.proratedFeeGrosze;
      const pays = input.creditBase === 'server' || index === worst;
      const { availability } = line;
      return {
        id: line.server.id,
        name: line.server.name,
        coveredMs: availability.coveredMs,
        maintenanceMs: availability.maintenanceMs,
        eligibleMs: availability.eligibleMs,
        downtimeMs: availability.downtimeMs,
        unmonitoredMs: availability.unmonitoredMs,
        uptimePercent: uptimePercentText(availability.eligibleMs, availability.downtimeMs),
        monitoredPercent: monitoredPercentText(availability.eligibleMs, availability.unmonitoredMs),
        bracket: line.bracket,
        creditPercentHundredths: line.percent,
        creditBaseGrosze,
        creditAmountGrosze: pays ? percentOfGrosze(creditBaseGrosze, line.percent) : 0,
        outages: availability.outages,
        unmonitored: availability.unmonitored,
        maintenance: availability.maintenance,
        ...(availability.incidentEffects ? { incidentEffects: availability.incidentEffects } : {}),
        ...(availability.lateMaintenance ? { lateMaintenance: availability.lateMaintenance } : {}),
      };
    });

    return {
      id: customer.id,
      name: customer.name,
      tier: customer.tier.name,
      monthlyFeeGrosze,
      servers,
      creditAmountGrosze: servers.reduce((sum, server) => sum + server.creditAmountGrosze, 0),
    };
  });

  return {
    month: input.window.month,
    timeZone: input.window.timeZone,
    fromMs: input.window.fromMs,
    toMs: input.window.toMs,
    monthMs,
    creditBase: input.creditBase,
    customers,
    creditAmountGrosze: customers.reduce((sum, customer) => sum + customer.creditAmountGrosze, 0),
  };
}
