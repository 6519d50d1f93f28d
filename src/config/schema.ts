// The one configuration schema: types, runtime validation and defaults. Loading and cross-checks live in load.ts.
import { z } from 'zod';

const DURATION_RE = /^(\d+)(ms|s|m|h|d)$/;
const DURATION_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses '500ms', '30s', '5m', '1h', '2d' into integer milliseconds; undefined when malformed. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION_RE.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const ms = value * DURATION_UNIT_MS[match[2] as keyof typeof DURATION_UNIT_MS];
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** A duration written like `30s`, `5m`, `1h`, `500ms`, `2d`, parsed to integer milliseconds. */
export const duration = z.string({ error: 'must be a duration such as 30s, 5m, 1h' }).transform((text, ctx) => {
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration such as 500ms, 30s, 5m, 1h, 2d` });
    return z.NEVER;
  }
  return ms;
});

const positiveDuration = duration.refine((ms) => ms > 0, 'must be longer than 0');

/** Money as a decimal with at most 2 places ("150.00" or 150), parsed to integer grosze. */
export const money = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not an amount with at most 2 decimal places` });
    return z.NEVER;
  }
  const grosze = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  if (!Number.isSafeInteger(grosze)) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is too large` });
    return z.NEVER;
  }
  return grosze;
});

/** A decimal percentage parsed to an integer count of 10^-places percent; rejects more places. */
function scaledPercent(places: number, max: number) {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const text = typeof value === 'number' ? String(value) : value.trim();
    const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
    if (!match || (match[2] ?? '').length > places) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a percentage with at most ${places} decimal places` });
      return z.NEVER;
    }
    const scaled = Number(match[1]) * 10 ** places + Number((match[2] ?? '').padEnd(places, '0'));
    if (scaled > max * 10 ** places) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is above ${max}` });
      return z.NEVER;
    }
    return scaled;
  });
}

/** Uptime threshold in millionths of a percent (99.8 -> 99_800_000). */
export const thresholdPercent = scaledPercent(6, 100);
/** Credit percentage in hundredths (10 -> 1_000). */
export const creditPercent = scaledPercent(2, 100_000);

const ISO_INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Epoch ms of an ISO-8601 time with Z or an offset ('2026-10-03T02:00:00+02:00'); undefined when malformed or
 * not on the calendar (Date.parse alone would roll 2026-02-30 over into March).
 */
export function parseIsoInstantMs(text: string): number | undefined {
  if (!ISO_INSTANT_RE.test(text)) return undefined;
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** An instant as epoch ms, or the one description of what is wrong with it (config, CLI and API alike). */
export function parseInstant(text: string): { ms: number } | { problem: string } {
  if (!ISO_INSTANT_RE.test(text))
    return { problem: `"${text}" is not an ISO-8601 time with an offset (e.g. 2026-10-03T02:00:00+02:00)` };
  const ms = parseIsoInstantMs(text);
  return ms === undefined ? { problem: `"${text}" is not a valid time` } : { ms };
}

/** An instant written in ISO-8601 with an explicit offset or Z, parsed to epoch ms. */
export const instant = z.string().transform((text, ctx) => {
  const parsed = parseInstant(text);
  if ('problem' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed.ms;
});

/**
 * A coverage boundary: a date 'YYYY-MM-DD' (local midnight in the configured time zone, resolved in load.ts)
 * or an ISO-8601 instant with offset. Kept as text here because the zone is only known after parsing.
 */
export const coverageBoundary = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/,
    'must be a date YYYY-MM-DD or an ISO-8601 time with an offset',
  );

const MONTH_RE = /^\d{4}-(0[1-9]|1[0-2])$/;

/** A calendar month 'YYYY-MM' (month 01-12), kept as text: such months compare correctly as strings. */
export const calendarMonth = z.string().superRefine((text, ctx) => {
  if (!MONTH_RE.test(text)) ctx.addIssue({ code: 'custom', message: `"${text}" is not a month in the form YYYY-MM` });
});

export const identifier = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 characters of letters, digits, ".", "_" or "-"');

const httpCheck = z.strictObject({
  kind: z.literal('http'),
  name: identifier.optional(),
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  method: z.enum(['GET', 'HEAD']).default('GET'),
  /** Status codes that count as up; default any 2xx. */
  expectStatus: z.array(z.number().int().min(100).max(599)).min(1).optional(),
  bodyContains: z.string().min(1).optional(),
  bodyRegex: z.string().min(1).optional(),
  /** Maximum redirects to follow; 0 means a redirect is answered as is (and judged by expectStatus). */
  maxRedirects: z.number().int().min(0).max(20).default(0),
  tlsVerify: z.boolean().default(true),
  maxBodyBytes: z
    .number()
    .int()
    .min(0)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  headers: z.record(z.string(), z.string()).default({}),
  timeout: positiveDuration.optional(),
  interval: positiveDuration.optional(),
});

const tcpCheck = z.strictObject({
  kind: z.literal('tcp'),
  name: identifier.optional(),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  tls: z.boolean().default(false),
  tlsVerify: z.boolean().default(true),
  servername: z.string().optional(),
  timeout: positiveDuration.optional(),
  interval: positiveDuration.optional(),
});

const tlsCheck = z.strictObject({
  kind: z.literal('tls'),
  name: identifier.optional(),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(443),
  servername: z.string().optional(),
  tlsVerify: z.boolean().default(true),
  /** Down when the certificate expires in fewer days than this. */
  minDaysLeft: z.number().int().min(0).default(0),
  timeout: positiveDuration.optional(),
  interval: positiveDuration.optional(),
});

const dnsCheck = z.strictObject({
  kind: z.literal('dns'),
  name: identifier.optional(),
  /** The name to resolve. */
  query: z.string().min(1),
  recordType: z.enum(['A', 'AAAA']).default('A'),
  /** Resolver as host or host:port; default the system resolver. */
  resolver: z.string().optional(),
  /** Up only when one of these addresses is among the answers. */
  expectAddresses: z.array(z.string()).min(1).optional(),
  timeout: positiveDuration.optional(),
  interval: positiveDuration.optional(),
});

export const checkSchema = z.discriminatedUnion('kind', [httpCheck, tcpCheck, tlsCheck, dnsCheck]);

const serverSchema = z.strictObject({
  id: identifier,
  name: z.string().min(1),
  since: coverageBoundary.optional(),
  /** Exclusive: the first date (or instant) no longer covered. */
  until: coverageBoundary.optional(),
  checks: z.array(checkSchema).default([]),
});

/** A change of a customer's tier, in force from the 1st of `from`. */
const tierChangeSchema = z.strictObject({
  from: calendarMonth,
  tier: z.string().min(1),
});

const customerSchema = z.strictObject({
  id: identifier,
  name: z.string().min(1),
  /** The tier before the first tierHistory entry (the only tier without one). */
  tier: z.string().min(1),
  /** Tier changes, each from the 1st of its month, in increasing month order (checked in load.ts). */
  tierHistory: z.array(tierChangeSchema).default([]),
  language: z.enum(['pl', 'en']).default('pl'),
  address: z.array(z.string()).default([]),
  /** Where the month's report is e-mailed (delivery); without it the customer is listed as undeliverable. */
  email: z.email({ error: 'must be an e-mail address' }).optional(),
  servers: z.array(serverSchema).min(1),
});

const bracketSchema = z.strictObject({
  below: thresholdPercent,
  creditPercent: creditPercent,
});

/** A dated change of a tier's terms from the 1st of `from`; omitted keys are inherited from the terms before. */
const tierVersionSchema = z.strictObject({
  from: calendarMonth,
  baseFee: money.optional(),
  serverFee: money.optional(),
  brackets: z.array(bracketSchema).min(1).optional(),
});

const tierSchema = z.strictObject({
  /** The terms before the first version (the seed's terms for keys a seed tier omits). */
  baseFee: money.optional(),
  serverFee: money.optional(),
  brackets: z.array(bracketSchema).min(1).optional(),
  /**
   * The promised reaction to a failure (24/7/365): the deadline the server-down alert carries. Seed tiers default
   * to the seed's (Silver 2h, Gold 1h, Platinum 30m); a new tier to the shortest, 30m. Not dated: it is not money.
   */
  reactionTime: positiveDuration.optional(),
  /** Dated changes, in increasing month order (checked in load.ts). */
  versions: z.array(tierVersionSchema).default([]),
});

const maintenanceSchema = z
  .strictObject({
    server: identifier,
    from: instant,
    to: instant,
    reason: z.string().default(''),
    /** When the customer was told: checked against sla.maintenanceNotice. */
    announcedAt: instant.optional(),
    /** `true` states the window was announced in time without saying when (checked against no notice). */
    announced: z.literal(true, { error: 'must be true (or give announcedAt, when the customer was told)' }).optional(),
  })
  .refine((window) => window.to > window.from, { message: '"to" must be after "from"', path: ['to'] })
  .refine((window) => window.announcedAt !== undefined || window.announced === true, {
    message:
      'only announced maintenance is excluded from eligible time: give announcedAt (when the customer was told), or announced: true',
    path: ['announcedAt'],
  })
  .refine((window) => !(window.announcedAt !== undefined && window.announced === true), {
    message: 'give announcedAt or announced: true, not both',
    path: ['announced'],
  });

const influxSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  /** 1 = InfluxDB 1.x before 1.8 (/write?db=&rp=); 2 = 1.8+, 2.x, Cloud (/api/v2/write); 3 = InfluxDB 3. */
  apiVersion: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(2),
  token: z.string().optional(),
  /** Read the token from this environment variable instead of the file. */
  tokenEnv: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  passwordEnv: z.string().optional(),
  org: z.string().default(''),
  /** 2.x bucket; for 1.x/3.x the database (and `database/rp`). */
  bucket: z.string().optional(),
  database: z.string().optional(),
  retentionPolicy: z.string().optional(),
  measurement: identifier.default('uptime_observation'),
  batchSize: z.number().int().min(1).max(100_000).default(5_000),
  /** Removed (it was never read): named here so that an older file gets a reason rather than "unknown key". */
  flushInterval: z
    .never({ error: 'no longer used (the outbox forwards lines as soon as they are committed); remove it' })
    .optional(),
  timeout: positiveDuration.default(10_000),
});

const storageSchema = z
  .strictObject({
    kind: z.enum(['embedded', 'influxdb']).default('embedded'),
    /** The embedded SQLite database: the store itself, or the durable outbox in front of InfluxDB. */
    path: z.string().min(1).default('data/uptime-credits.db'),
    influxdb: influxSchema.optional(),
  })
  .refine((storage) => storage.kind !== 'influxdb' || storage.influxdb !== undefined, {
    message: 'storage.kind is influxdb but the storage.influxdb section is missing',
    path: ['influxdb'],
  });

const probingSchema = z.strictObject({
  location: identifier.default('default'),
  interval: positiveDuration.default(30_000),
  timeout: positiveDuration.default(10_000),
  confirmations: z.number().int().min(1).max(100).default(3),
  /** Default: 3 probe intervals. */
  staleAfter: positiveDuration.optional(),
  concurrency: z.number().int().min(1).max(100_000).default(512),
  /**
   * This agent's share of the checks when several agents probe one location: "2/4" probes the checks whose stable
   * hash of server and check falls in the 2nd of 4 shares. Default: all of them ("1/1").
   */
  shard: z
    .string()
    .regex(/^[1-9][0-9]{0,3}\/[1-9][0-9]{0,3}$/, 'must be "index/count", e.g. "2/4"')
    .refine((shard) => {
      const [index, count] = shard.split('/').map(Number);
      // A malformed value is the regex's to name.
      return index === undefined || count === undefined || Number.isNaN(count) || index <= count;
    }, 'the index must be between 1 and the count, e.g. "2/4"')
    .default('1/1'),
  /** The name this agent's heartbeats carry. Default: the location, with the shard when there are several. */
  agent: identifier.optional(),
});

const slaSchema = z.strictObject({
  creditBase: z.enum(['server', 'customer']).default('server'),
  /** Locations that must see a server down; default a strict majority of those with fresh data. */
  quorum: z.number().int().min(1).optional(),
  maxCreditPercent: creditPercent.optional(),
  /** How long after local midnight on the 1st the previous month is closed (late probes still arrive). */
  closeDelay: duration.default(900_000),
  /**
   * The least share of a server's eligible time with fresh observations for a month to close without a
   * person's review (millionths of a percent, 90 -> 90_000_000); below it the close is held.
   */
  minMonitoredPercent: thresholdPercent.default(90_000_000),
  /** How long after a failed close attempt the next one starts. */
  closeRetry: positiveDuration.default(300_000),
  /** How long a close waits for observations still on their way to the store before the month is held. */
  evidenceWait: duration.default(120_000),
  /**
   * Whether this instance closes months (and its series are the ones the alert rules read). With one daemon per
   * probing location on one InfluxDB, leave it true on exactly one of them and set it false on the others.
   */
  /** Removed: `roles` says what an instance does. Named here so that an older file gets a reason. */
  closeRole: z
    .never({
      error:
        'replaced by the top-level `roles` (e.g. roles: [probe, api] on agents, roles: [probe, close, api] on the one instance that closes); remove it',
    })
    .optional(),
  /**
   * The notice the contract requires before maintenance (e.g. 48h): a window announced later than that before it
   * starts is not excluded from eligible time, and the report says so. Default 0s: announced before it starts.
   */
  maintenanceNotice: duration.default(0),
});

const stateSchema = z.strictObject({
  /** The SQLite file recording month closes. */
  /** Default: state.db beside storage.path (data/state.db with the default storage). */
  path: z.string().min(1).optional(),
});

/** The least length of an API token, in the file or in the environment. */
export const MIN_API_TOKEN_LENGTH = 16;

/**
 * What an API token may do: `read` every GET of /api/ (and log in to the ops pages), `metrics` /metrics when
 * protectMetrics is on, `close` every POST of /api/ (close, restate, approve, draft, incidents
 * and maintenance: each of them writes reports or changes what is or will be issued).
 */
export const API_SCOPES = ['read', 'metrics', 'close'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** A named token: its secret in an environment variable, never in the file. */
const apiTokenSchema = z.strictObject({
  /** Who acts: the journal's and the records' "by" for what this token closes or records. */
  name: identifier,
  secretEnv: z.string().min(1),
  scopes: z.array(z.enum(API_SCOPES)).min(1),
});

const httpSchema = z.strictObject({
  listen: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(9464),
  /** Shorthand for one token with every scope, named `api`; or set the environment variable named by tokenEnv. */
  token: z.string().min(MIN_API_TOKEN_LENGTH, `must be at least ${MIN_API_TOKEN_LENGTH} characters`).optional(),
  /** Default UPTIME_CREDITS_TOKEN, applied in load.ts: left unset here so that giving it beside `tokens` is seen. */
  tokenEnv: z.string().min(1).optional(),
  /** Named tokens with scopes, instead of the shorthand. */
  tokens: z.array(apiTokenSchema).min(1).optional(),
  /**
   * Require a token with the metrics scope on /metrics. /healthz and /readyz stay open for health checks that
   * cannot send a token; /readyz gives its reasons only to a request with a valid token.
   */
  protectMetrics: z.boolean().default(false),
  /** Serve /metrics (customers, PLN amounts) without a token on an address beyond loopback, on purpose. */
  publicMetrics: z.boolean().default(false),
  /**
   * Behind a reverse proxy: trust its X-Forwarded-For (true, or the proxy addresses/CIDRs), so the limit on wrong
   * tokens and the logs see each client's own address rather than the proxy's. Fastify's trustProxy.
   */
  trustProxy: z.union([z.boolean(), z.array(z.string().min(1)).min(1)]).default(false),
  /**
   * Month queries that compute (credits, outages, a server page's timeline) each client may ask per second: the
   * token's name, else its address (see trustProxy); on the web pages the ops login's token or the portal's
   * customer. Answers already cached for the data as it is are free; over it: 429.
   */
  monthComputationsPerSecond: z.number().positive().max(1_000).default(1),
  /** The address people reach this daemon at (portal links in e-mails are built from it), e.g. https://sla.example.com. */
  publicUrl: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
});

const smtpSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** true: TLS from the first byte (usually port 465); false: plain, upgraded by STARTTLS when the server offers it. */
  secure: z.boolean().default(false),
  /** With secure false: refuse to send unless the server upgrades the connection by STARTTLS (always so with a user). */
  requireTls: z.boolean().default(false),
  /** false accepts any certificate (a test relay); keep true in production. */
  tlsVerify: z.boolean().default(true),
  user: z.string().optional(),
  /** The environment variable holding the SMTP password (never in the file). */
  passwordEnv: z.string().default('UPTIME_CREDITS_SMTP_PASSWORD'),
  timeout: positiveDuration.default(30_000),
});

const deliverySchema = z.strictObject({
  smtp: smtpSchema,
  /** The sender, e.g. "Oktawave SLA <sla@oktawave.example>". */
  from: z.string().min(3),
  /** Finance's address: the ledger CSV and the journal rows of every issued revision. */
  financeEmail: z.email({ error: 'must be an e-mail address' }),
  /** The language of finance's e-mail. */
  financeLanguage: z.enum(['pl', 'en']).default('pl'),
  /** The first wait after a temporary failure (SMTP 4xx, no connection); doubled each time up to retryMax. */
  retryAfter: positiveDuration.default(60_000),
  retryMax: positiveDuration.default(3_600_000),
});

const portalSchema = z.strictObject({
  /** The environment variable holding the secret portal links are signed with (32+ characters). */
  secretEnv: z.string().default('UPTIME_CREDITS_PORTAL_SECRET'),
  /** How long a link works from when it was made. */
  linkValidity: positiveDuration.default(45 * 86_400_000),
});

const providerSchema = z.strictObject({
  name: z.string().default('Oktawave'),
  address: z.array(z.string()).default([]),
});

const reportsSchema = z.strictObject({
  dir: z.string().default('reports'),
});

/** What an instance does: probe its share of the checks, close the months (exactly one instance), serve the API. */
export const ROLES = ['probe', 'close', 'api'] as const;

export const configSchema = z.strictObject({
  roles: z
    .array(z.enum(ROLES))
    .min(1)
    .refine((roles) => new Set(roles).size === roles.length, 'lists a role twice')
    .default([...ROLES]),
  /**
   * The agents (probing.agent names) whose observations the months are closed on: the close waits until each has
   * forwarded everything up to the month's end to InfluxDB. Only on the instance with the close role.
   */
  agents: z.array(identifier).default([]),
  timezone: z.string().default('Europe/Warsaw'),
  currency: z.literal('PLN').default('PLN'),
  provider: providerSchema.default(providerSchema.parse({})),
  storage: storageSchema.default(storageSchema.parse({})),
  state: stateSchema.default(stateSchema.parse({})),
  probing: probingSchema.default(probingSchema.parse({})),
  sla: slaSchema.default(slaSchema.parse({})),
  http: httpSchema.default(httpSchema.parse({})),
  reports: reportsSchema.default(reportsSchema.parse({})),
  /** E-mail of issued months to customers and finance; off when absent. */
  delivery: deliverySchema.optional(),
  portal: portalSchema.default(portalSchema.parse({})),
  tiers: z.record(z.string(), tierSchema).default({}),
  customers: z.array(customerSchema).default([]),
  maintenance: z.array(maintenanceSchema).default([]),
});

/** The configuration as parsed from YAML, before cross-checks resolve tiers, coverage and defaults. */
export type RawConfig = z.output<typeof configSchema>;
export type CheckConfig = z.output<typeof checkSchema>;
export type CheckKind = CheckConfig['kind'];
export type HttpCheckConfig = z.output<typeof httpCheck>;
export type TcpCheckConfig = z.output<typeof tcpCheck>;
export type TlsCheckConfig = z.output<typeof tlsCheck>;
export type DnsCheckConfig = z.output<typeof dnsCheck>;
export type InfluxConfig = z.output<typeof influxSchema>;
export type DeliveryConfig = z.output<typeof deliverySchema>;
export type PortalConfig = z.output<typeof portalSchema>;
