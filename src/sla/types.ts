// Domain types of the SLA core. Pure data: no IO, no library types. Times are integer epoch milliseconds,
// money is integer grosze (1/100 PLN), percentages are exact decimals carried as scaled integers.

/** A half-open time interval [fromMs, toMs) in epoch milliseconds. */
export interface Interval {
  fromMs: number;
  toMs: number;
}

/** One probe result as stored: a server seen up or down from one location by one check at one instant. */
export interface Observation {
  timeMs: number;
  server: string;
  location: string;
  /** Check name; '' when the source does not name one (e.g. imported files). */
  check: string;
  up: boolean;
  latencyMs?: number;
  /** Closed failure class when down (timeout, refused, dns, tls, status, body, ...). */
  error?: string;
}

/**
 * A run of consecutive observations of one server by one (location, check) with the same outcome, where each
 * observation is less than staleAfter after the previous one. A single observation is a run of count 1.
 * Stores may hand the core runs instead of raw rows so that a month is not pulled row by row.
 */
export interface ObservationRun {
  location: string;
  check: string;
  up: boolean;
  firstMs: number;
  lastMs: number;
  /**
   * How many observations the run holds: exact for a down run (an outage is confirmed by it). For an up run at least
   * 1 and at most that: a store may answer clean hours from aggregates without counting their points.
   */
  count: number;
}

/** A calendar month in a time zone, with its real elapsed length (DST-exact). */
export interface MonthWindow {
  /** 'YYYY-MM' */
  month: string;
  timeZone: string;
  fromMs: number;
  toMs: number;
}

/** One compensation bracket: uptime strictly below `belowMicroPercent` earns `creditPercentHundredths`. */
export interface Bracket {
  /** Threshold in millionths of a percent: 99.8 % is 99_800_000. */
  belowMicroPercent: number;
  /** Credit in hundredths of a percent: 10 % is 1_000, 300 % is 30_000. */
  creditPercentHundredths: number;
}

/** A support tier's money terms. */
export interface TierTerms {
  name: string;
  baseFeeGrosze: number;
  serverFeeGrosze: number;
  brackets: Bracket[];
}

export type CreditBase = 'server' | 'customer';

/** The availability rule knobs (sla-terms.md rules 3 and 4). */
export interface AvailabilityRules {
  confirmations: number;
  staleAfterMs: number;
  /** Locations that must see the server down; undefined = strict majority of those with fresh data. */
  quorum?: number;
}

/**
 * A person's record that changes what the probes alone say (the contract counts failures "from a monitoring alert
 * or a report"): a `reported` outage is downtime even where the probes saw the server up or saw nothing; a
 * `monitoring-fault` window is our own monitoring's failure, so probe-confirmed downtime inside it does not count
 * and the time is unmonitored (rule 4), not up. Where both cover an instant, the report wins.
 */
export type IncidentKind = 'reported' | 'monitoring-fault';

export interface IncidentWindow extends Interval {
  id: number;
  kind: IncidentKind;
  /** Carried through to the report unchanged. */
  reason: string;
  ticket?: string;
}

/** A maintenance window announced with less notice than the contract requires: its time counts as eligible. */
export interface LateMaintenance extends Interval {
  reason: string;
  announcedAtMs?: number;
}

/**
 * One incident inside a window: its part of the window, and what it alone changed in eligible time (downtime a
 * report added beyond what the probes confirmed, or probe-confirmed downtime a monitoring fault removed). Two
 * overlapping incidents of one kind each show the overlap; the server's totals count it once.
 */
export interface IncidentEffect extends IncidentWindow {
  effectMs: number;
}

/** What the availability computation found for one server in one window. */
export interface ServerAvailability {
  /** Covered time within the window (since/until), before maintenance is removed. */
  coveredMs: number;
  /** Maintenance time that fell inside coverage. */
  maintenanceMs: number;
  /** coveredMs - maintenanceMs. */
  eligibleMs: number;
  downtimeMs: number;
  unmonitoredMs: number;
  /** Confirmed downtime intervals clipped to eligible time, sorted. */
  outages: Interval[];
  /** Eligible intervals with no fresh observation, sorted. */
  unmonitored: Interval[];
  /** Maintenance windows clipped to coverage, sorted and merged. */
  maintenance: Interval[];
  /** Whether the server is down at the window's end (an outage still open). */
  downAtEnd: boolean;
  /** Set only when incidents touch the window: see IncidentEffect. */
  incidentEffects?: IncidentEffects;
  /** Maintenance announced with less notice than the contract requires, clipped to coverage: counted, not excluded. */
  lateMaintenance?: LateMaintenance[];
}

/** What incidents changed in a server's figures. */
export interface IncidentEffects {
  /** Downtime only reports show (reported outages beyond what the probes confirmed), in eligible time. */
  reportedDowntimeMs: number;
  /** Probe-confirmed downtime removed by monitoring-fault windows (now unmonitored), in eligible time. */
  excludedDowntimeMs: number;
  incidents: IncidentEffect[];
}

/** One server's line in a month close: every number a reader needs to check the credit by hand. */
export interface ServerCredit {
  id: string;
  name: string;
  coveredMs: number;
  maintenanceMs: number;
  eligibleMs: number;
  downtimeMs: number;
  unmonitoredMs: number;
  /** 100 x (eligible - downtime) / eligible, rounded down to 4 places ("99.7999"); null without eligible time. */
  uptimePercent: string | null;
  /**
   * Share of eligible time with fresh observations, 100 x (eligible - unmonitored) / eligible rounded down to 2
   * places ("96.66"); null without eligible time. The evidence behind the uptime.
   */
  monitoredPercent: string | null;
  /** The bracket the uptime fell into, or null when it earns nothing. */
  bracket: Bracket | null;
  /** Credit percentage after any cap, in hundredths (10 % = 1_000). */
  creditPercentHundredths: number;
  /** The base the percentage applies to (server fee prorated by coverage, or the customer's whole fee). */
  creditBaseGrosze: number;
  creditAmountGrosze: number;
  outages: Interval[];
  unmonitored: Interval[];
  maintenance: Interval[];
  /** Present only when incidents touch the month (so the figures of months without any are as before). */
  incidentEffects?: IncidentEffects;
  /** Present only when maintenance was announced too late to be excluded. */
  lateMaintenance?: LateMaintenance[];
}

export interface CustomerCredit {
  id: string;
  name: string;
  tier: string;
  /** Base fee plus every covered server's fee prorated by coverage: the month's advanced-support fee. */
  monthlyFeeGrosze: number;
  servers: ServerCredit[];
  creditAmountGrosze: number;
}

/** The month close: every customer's credit, as computed by the pure core. */
export interface MonthCredits {
  month: string;
  timeZone: string;
  fromMs: number;
  toMs: number;
  monthMs: number;
  creditBase: CreditBase;
  customers: CustomerCredit[];
  creditAmountGrosze: number;
}
