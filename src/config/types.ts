// The resolved configuration every other part receives: defaults applied, tiers merged with the seed's terms,
// coverage dates turned into instants in the configured time zone, cross-checks passed.
import type { CheckConfig, InfluxConfig, RawConfig } from './schema.js';
import type { AvailabilityRules, CreditBase, Interval, TierTerms } from '../sla/types.js';

export interface ResolvedCheck {
  /** Unique within its server: the configured name, or `<kind>` / `<kind>-<n>` when several share a kind. */
  name: string;
  config: CheckConfig;
  intervalMs: number;
  timeoutMs: number;
}

export interface ResolvedServer {
  id: string;
  name: string;
  customerId: string;
  /** Coverage start in epoch ms (inclusive); undefined = covered since forever. */
  sinceMs?: number;
  /** Coverage end in epoch ms (exclusive); undefined = covered for good. */
  untilMs?: number;
  checks: ResolvedCheck[];
  /** Announced maintenance windows of this server, sorted by start. */
  maintenance: MaintenanceWindow[];
}

export interface MaintenanceWindow extends Interval {
  server: string;
  reason: string;
}

export interface ResolvedCustomer {
  id: string;
  name: string;
  tier: TierTerms;
  language: 'pl' | 'en';
  address: string[];
  email?: string;
  servers: ResolvedServer[];
}

export interface AppConfig {
  /** Absolute path of the file this came from (for messages). */
  sourcePath: string;
  /** IANA time zone of the billing month. */
  timeZone: string;
  currency: 'PLN';
  provider: RawConfig['provider'];
  storage: {
    kind: 'embedded' | 'influxdb';
    /** Absolute path of the SQLite file (store or outbox). */
    path: string;
    influxdb?: InfluxConfig;
  };
  probing: {
    location: string;
    intervalMs: number;
    timeoutMs: number;
    concurrency: number;
  };
  availability: AvailabilityRules;
  sla: {
    creditBase: CreditBase;
    maxCreditPercentHundredths?: number;
    closeDelayMs: number;
  };
  http: RawConfig['http'];
  reports: { dir: string };
  tiers: Map<string, TierTerms>;
  customers: ResolvedCustomer[];
  /** Every server by id. */
  servers: Map<string, ResolvedServer>;
}
