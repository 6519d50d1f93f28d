// The resolved configuration every other part receives: defaults applied, tiers merged with the seed's terms,
// coverage dates turned into instants in the configured time zone, cross-checks passed.
import type { ApiScope, CheckConfig, DeliveryConfig, InfluxConfig, PortalConfig, RawConfig } from './schema.js';
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

/** A maintenance window from the configuration file. */
export interface MaintenanceWindow extends Interval {
  server: string;
  reason: string;
  /** When the customer was told; undefined when the file states it was announced (`announced: true`). */
  announcedAtMs?: number;
}

/** A change of a customer's tier, in force from the 1st of `fromMonth` ('YYYY-MM'). */
export interface TierChange {
  fromMonth: string;
  tier: string;
}

/** A tier's complete terms in force from the 1st of `fromMonth` ('YYYY-MM'), after inheritance. */
export interface TierVersion {
  fromMonth: string;
  terms: TierTerms;
}

/**
 * A customer as configured. Its tier depends on the month: use customersForMonth / customerForMonth
 * (config/terms.ts), which give the tier and terms in force on the month's first day.
 */
export interface ResolvedCustomer {
  id: string;
  name: string;
  /** The tier before the first tierHistory entry. */
  tierName: string;
  /** Tier changes, sorted by month; empty when the customer always had `tierName`. */
  tierHistory: TierChange[];
  language: 'pl' | 'en';
  address: string[];
  email?: string;
  servers: ResolvedServer[];
}

/** An API token as configured: its secret read from the environment (or the file, for the shorthand). */
export interface ConfiguredApiToken {
  /** Who acts: `api` for the shorthand http.token / http.tokenEnv. */
  name: string;
  scopes: readonly ApiScope[];
  /** Where the secret comes from, for messages: `http.token` or the environment variable's name. */
  source: string;
  /** Undefined when the environment variable is not set (the daemon refuses to start on a named token without it). */
  secret?: string;
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
  /** The state database of month closes. */
  state: {
    /** Absolute path of the SQLite file. */
    path: string;
  };
  /** What this instance does (the `roles` list). */
  roles: { probe: boolean; close: boolean; api: boolean };
  /** The agents the close waits for (names of their heartbeats); empty: only this process's own evidence. */
  agents: string[];
  probing: {
    location: string;
    concurrency: number;
    /** This agent's share of the location's checks: probes those with shardIndex(server, check, count) === index. */
    shard: { index: number; count: number };
    /** The name on this agent's heartbeats. */
    agent: string;
  };
  availability: AvailabilityRules;
  sla: {
    creditBase: CreditBase;
    maxCreditPercentHundredths?: number;
    closeDelayMs: number;
    /** Least monitored share of eligible time for a close without review, in millionths of a percent. */
    minMonitoredMicroPercent: number;
    /** Wait before retrying a failed close. */
    closeRetryMs: number;
    /** How long a close waits for observations still on their way to the store before it is held. */
    evidenceWaitMs: number;
    /** The notice maintenance needs to be excluded from eligible time (sla.maintenanceNotice). */
    maintenanceNoticeMs: number;
  };
  http: {
    listen: string;
    port: number;
    /** Every API token; empty when none is configured (the API then answers 503). */
    tokens: ConfiguredApiToken[];
    protectMetrics: boolean;
    publicMetrics: boolean;
    /** Fastify's trustProxy: whose X-Forwarded-For names the client (the wrong-token limit, the logs). */
    trustProxy: boolean | string[];
    /** Computing month queries per second per client (http.monthComputationsPerSecond). */
    monthComputationsPerSecond: number;
    publicUrl?: string;
  };
  reports: { dir: string };
  /** E-mail of issued months; undefined when not configured. */
  delivery?: DeliveryConfig;
  /** Signed links to the customer portal. */
  portal: PortalConfig;
  /** Each tier's undated terms (merged with the seed's): the terms before its first version. */
  tiers: Map<string, TierTerms>;
  /** Each tier's dated terms, sorted by month (empty for a tier without versions). See config/terms.ts. */
  tierVersions: Map<string, TierVersion[]>;
  /** Each tier's promised reaction to a failure, ms (the server-down alert's deadline). */
  reactionTimesMs: Map<string, number>;
  customers: ResolvedCustomer[];
  /** Every server by id. */
  servers: Map<string, ResolvedServer>;
}
