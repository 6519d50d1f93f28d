// Terms in force: a month is judged by the tier a customer has on the month's first day and by that tier's
// terms in force that month. Pure functions over the resolved configuration; months are 'YYYY-MM' strings,
// which compare correctly as strings.
import { parseMonth } from '../sla/month.js';
import type { TierTerms } from '../sla/types.js';
import type { AppConfig, ResolvedCustomer } from './types.js';

/** A customer in one month: its tier in force on the month's first day, with that tier's terms that month. */
export type MonthCustomer = ResolvedCustomer & { tier: TierTerms };

type TermsConfig = Pick<AppConfig, 'tiers' | 'tierVersions'>;

/** The last entry whose `fromMonth` is at or before the month; undefined when the month is before them all. */
function inForce<T extends { fromMonth: string }>(entries: readonly T[], month: string): T | undefined {
  let found: T | undefined;
  for (const entry of entries) {
    if (entry.fromMonth > month) break; // sorted by month
    found = entry;
  }
  return found;
}

function termsIn(config: TermsConfig, tierName: string, month: string): TierTerms {
  const undated = config.tiers.get(tierName);
  if (!undated) throw new Error(`"${tierName}" is not a tier (known: ${[...config.tiers.keys()].join(', ')})`);
  return inForce(config.tierVersions.get(tierName) ?? [], month)?.terms ?? undated;
}

const tierNameIn = (customer: Pick<ResolvedCustomer, 'tierName' | 'tierHistory'>, month: string): string =>
  inForce(customer.tierHistory, month)?.tier ?? customer.tierName;

const inMonth = (config: TermsConfig, customer: ResolvedCustomer, month: string): MonthCustomer => ({
  ...customer,
  tier: termsIn(config, tierNameIn(customer, month), month),
});

/** The tier's complete terms in force in the month; throws on a malformed month or an unknown tier. */
export function tierTermsForMonth(config: TermsConfig, tierName: string, month: string): TierTerms {
  parseMonth(month);
  return termsIn(config, tierName, month);
}

/** The name of the customer's tier on the month's first day; throws on a malformed month. */
export function tierNameForMonth(customer: Pick<ResolvedCustomer, 'tierName' | 'tierHistory'>, month: string): string {
  parseMonth(month);
  return tierNameIn(customer, month);
}

/** Every configured customer, in configuration order, with the tier and terms in force in the month. */
export function customersForMonth(config: TermsConfig & Pick<AppConfig, 'customers'>, month: string): MonthCustomer[] {
  parseMonth(month);
  return config.customers.map((customer) => inMonth(config, customer, month));
}

/** One customer with the tier and terms in force in the month; undefined when no customer has the id. */
export function customerForMonth(
  config: TermsConfig & Pick<AppConfig, 'customers'>,
  customerId: string,
  month: string,
): MonthCustomer | undefined {
  parseMonth(month);
  const customer = config.customers.find((c) => c.id === customerId);
  return customer && inMonth(config, customer, month);
}
