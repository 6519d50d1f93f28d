// Loads the YAML configuration: parse, validate against the schema, cross-check, resolve. Every problem found is
// reported at once, each naming the file, the key path and the reason; nothing starts on a bad file.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CORE_SCHEMA, load as parseYaml, YAMLException } from 'js-yaml';
import type { z } from 'zod';
import { DEFAULT_TIERS } from '../sla/brackets.js';
import { assertTimeZone, localDateStartMs } from '../sla/month.js';
import type { Bracket, TierTerms } from '../sla/types.js';
import { resolveHttp } from './http.js';
import { configSchema, parseIsoInstantMs, type RawConfig } from './schema.js';
import type {
  AppConfig,
  MaintenanceWindow,
  ResolvedCheck,
  ResolvedCustomer,
  ResolvedServer,
  TierVersion,
} from './types.js';
import { describeZodIssue, formatKeyPath, plainErrorMap } from './zod-messages.js';

/** A configuration that cannot be used; the message lists every problem as `file: key.path: reason`. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return [`${formatKeyPath(issue.path)}: must be one of http, tcp, tls, dns`];
  }
  return describeZodIssue(issue);
}

/**
 * Reads and resolves the configuration file; throws ConfigError with every problem found. `env` holds the API
 * tokens the file names by variable (their length is checked here, like a token in the file).
 */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const sourcePath = resolve(path);
  let text: string;
  try {
    text = readFileSync(sourcePath, 'utf8');
  } catch (error) {
    throw new ConfigError(sourcePath, [
      `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    ]);
  }
  return parseConfig(text, sourcePath, env);
}

/** Parses configuration text (YAML); `sourcePath` names it in messages. */
export function parseConfig(text: string, sourcePath: string, env: NodeJS.ProcessEnv = process.env): AppConfig {
  let document: unknown;
  try {
    // js-yaml, not `yaml`: for a 10,000-server file it needs a fifth of the memory and a tenth of the time, and a
    // prober's peak RSS is set by this parse. The core schema reads YAML 1.2 scalars (no dates, no merge keys).
    document = parseYaml(text, { schema: CORE_SCHEMA, filename: sourcePath });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    // Some problems are of the whole file (a second document) and carry no position.
    const at = error.mark ? `line ${error.mark.line + 1}, column ${error.mark.column + 1}: ` : '';
    throw new ConfigError(sourcePath, [`${at}${error.reason}`]);
  }
  const parsed = configSchema.safeParse(document ?? {}, { error: plainErrorMap });
  if (!parsed.success) throw new ConfigError(sourcePath, parsed.error.issues.flatMap(describeIssue));
  return resolveConfig(parsed.data, sourcePath, env);
}

/** The seed's reaction to a failure ("alert z monitoringu lub zgłoszenie, 24/7/365"): < 2 h, < 1 h, < 30 min. */
export const SEED_REACTION_TIMES_MS: ReadonlyMap<string, number> = new Map([
  ['silver', 2 * 3_600_000],
  ['gold', 3_600_000],
  ['platinum', 30 * 60_000],
]);

/** Each tier's reaction time: the file's, else the seed's, else the shortest of the seed's (pages soonest). */
function resolveReactionTimes(raw: RawConfig, tierNames: Iterable<string>): Map<string, number> {
  const shortest = Math.min(...SEED_REACTION_TIMES_MS.values());
  return new Map(
    [...tierNames].map((name) => [name, raw.tiers[name]?.reactionTime ?? SEED_REACTION_TIMES_MS.get(name) ?? shortest]),
  );
}

/** Configured brackets, from the highest threshold down. */
function resolveBrackets(brackets: readonly { below: number; creditPercent: number }[]): Bracket[] {
  return brackets
    .map((b) => ({ belowMicroPercent: b.below, creditPercentHundredths: b.creditPercent }))
    .sort((a, b) => b.belowMicroPercent - a.belowMicroPercent);
}

/**
 * The undated terms of every tier (the seed's, with the file's keys over them) and each tier's versions: a
 * version's omitted keys are inherited from the version before it, or from the undated terms for the first.
 */
function resolveTiers(raw: RawConfig): { tiers: Map<string, TierTerms>; tierVersions: Map<string, TierVersion[]> } {
  const tiers = new Map<string, TierTerms>();
  for (const [name, terms] of DEFAULT_TIERS) tiers.set(name, { ...terms, brackets: [...terms.brackets] });
  for (const [name, override] of Object.entries(raw.tiers)) {
    const base = tiers.get(name);
    const baseFeeGrosze = override.baseFee ?? base?.baseFeeGrosze;
    const serverFeeGrosze = override.serverFee ?? base?.serverFeeGrosze;
    const brackets = override.brackets ? resolveBrackets(override.brackets) : base?.brackets;
    if (baseFeeGrosze === undefined || serverFeeGrosze === undefined || brackets === undefined) continue; // reported by crossCheck
    tiers.set(name, { name, baseFeeGrosze, serverFeeGrosze, brackets: [...brackets] });
  }
  const tierVersions = new Map<string, TierVersion[]>();
  for (const [name, undated] of tiers) {
    let terms = undated;
    const versions = (raw.tiers[name]?.versions ?? []).map((version): TierVersion => {
      terms = {
        name,
        baseFeeGrosze: version.baseFee ?? terms.baseFeeGrosze,
        serverFeeGrosze: version.serverFee ?? terms.serverFeeGrosze,
        brackets: version.brackets ? resolveBrackets(version.brackets) : [...terms.brackets],
      };
      return { fromMonth: version.from, terms };
    });
    tierVersions.set(name, versions);
  }
  return { tiers, tierVersions };
}

function resolveConfig(raw: RawConfig, sourcePath: string, env: NodeJS.ProcessEnv): AppConfig {
  const problems: string[] = [];
  const timeZone = raw.timezone;
  let zoneValid = true;
  try {
    assertTimeZone(timeZone);
  } catch (error) {
    zoneValid = false;
    problems.push(`timezone: ${(error as Error).message}`);
  }

  for (const [name, override] of Object.entries(raw.tiers)) {
    if (!DEFAULT_TIERS.has(name)) {
      for (const key of ['baseFee', 'serverFee', 'brackets'] as const) {
        if (override[key] === undefined)
          problems.push(`tiers.${name}.${key}: is required for a tier that is not silver, gold or platinum`);
      }
    }
    override.versions.forEach((version, vi) => {
      const previous = override.versions[vi - 1];
      if (previous && version.from <= previous.from) {
        problems.push(
          `tiers.${name}.versions[${vi}].from: must be after the previous version's month (${previous.from})`,
        );
      }
    });
  }
  const { tiers, tierVersions } = resolveTiers(raw);
  const unknownTier = (name: string) => `"${name}" is not a tier (known: ${[...tiers.keys()].join(', ')})`;

  const intervalMs = raw.probing.interval;
  const staleAfterMs = raw.probing.staleAfter ?? 3 * intervalMs;
  if (staleAfterMs <= intervalMs)
    problems.push(`probing.staleAfter: must be longer than probing.interval (${intervalMs} ms)`);
  if (raw.probing.timeout > intervalMs) problems.push('probing.timeout: must not be longer than probing.interval');

  const boundary = (text: string | undefined, key: string): number | undefined => {
    if (text === undefined) return undefined;
    if (text.length === 10) {
      if (!zoneValid) return undefined;
      try {
        return localDateStartMs(text, timeZone);
      } catch (error) {
        problems.push(`${key}: ${(error as Error).message}`);
        return undefined;
      }
    }
    const ms = parseIsoInstantMs(text);
    if (ms === undefined) problems.push(`${key}: "${text}" is not a valid time`);
    return ms;
  };

  const servers = new Map<string, ResolvedServer>();
  const customerIds = new Set<string>();
  const creditKeys = new Map<string, { customer: string; server: string }>();
  const customers: ResolvedCustomer[] = raw.customers.map((customer, ci) => {
    const at = `customers[${ci}]`;
    if (customerIds.has(customer.id)) problems.push(`${at}.id: "${customer.id}" is used by another customer`);
    customerIds.add(customer.id);
    if (!tiers.has(customer.tier)) problems.push(`${at}.tier: ${unknownTier(customer.tier)}`);
    customer.tierHistory.forEach((change, hi) => {
      if (!tiers.has(change.tier)) problems.push(`${at}.tierHistory[${hi}].tier: ${unknownTier(change.tier)}`);
      const previous = customer.tierHistory[hi - 1];
      if (previous && change.from <= previous.from) {
        problems.push(`${at}.tierHistory[${hi}].from: must be after the previous entry's month (${previous.from})`);
      }
    });

    const resolvedServers = customer.servers.map((server, si): ResolvedServer => {
      const serverAt = `${at}.servers[${si}]`;
      if (servers.has(server.id)) problems.push(`${serverAt}.id: "${server.id}" is used by another server`);
      const sinceMs = boundary(server.since, `${serverAt}.since`);
      const untilMs = boundary(server.until, `${serverAt}.until`);
      if (sinceMs !== undefined && untilMs !== undefined && untilMs <= sinceMs)
        problems.push(`${serverAt}.until: must be after since`);

      const kindCounts = new Map<string, number>();
      const names = new Set<string>();
      const checks = server.checks.map((check, ki): ResolvedCheck => {
        const seen = (kindCounts.get(check.kind) ?? 0) + 1;
        kindCounts.set(check.kind, seen);
        const name = check.name ?? (seen === 1 ? check.kind : `${check.kind}-${seen}`);
        if (names.has(name))
          problems.push(`${serverAt}.checks[${ki}].name: "${name}" is used by another check of this server`);
        names.add(name);
        const checkIntervalMs = check.interval ?? intervalMs;
        const timeoutMs = check.timeout ?? raw.probing.timeout;
        if (timeoutMs > checkIntervalMs)
          problems.push(`${serverAt}.checks[${ki}].timeout: must not be longer than the check's interval`);
        if (check.kind === 'http' && check.bodyRegex !== undefined) {
          try {
            new RegExp(check.bodyRegex);
          } catch (error) {
            problems.push(`${serverAt}.checks[${ki}].bodyRegex: ${(error as Error).message}`);
          }
        }
        return { name, config: check, intervalMs: checkIntervalMs, timeoutMs };
      });
      const resolved: ResolvedServer = {
        id: server.id,
        name: server.name,
        customerId: customer.id,
        sinceMs,
        untilMs,
        checks,
        maintenance: [],
      };
      servers.set(server.id, resolved);
      // Credit ids (UC-<month>-<customer>-<server>) key the ledger and the journal: two servers must never share one.
      const creditKey = `${customer.id}-${server.id}`;
      const sharing = creditKeys.get(creditKey);
      if (sharing)
        problems.push(
          `${serverAt}.id: its credit id UC-<month>-${creditKey} is the same as that of server "${sharing.server}" of customer "${sharing.customer}"; rename one`,
        );
      else creditKeys.set(creditKey, { customer: customer.id, server: server.id });
      return resolved;
    });
    return {
      id: customer.id,
      name: customer.name,
      tierName: customer.tier,
      tierHistory: customer.tierHistory.map((change) => ({ fromMonth: change.from, tier: change.tier })),
      language: customer.language,
      address: customer.address,
      email: customer.email,
      servers: resolvedServers,
    };
  });

  raw.maintenance.forEach((window, mi) => {
    const server = servers.get(window.server);
    if (!server) {
      problems.push(`maintenance[${mi}].server: "${window.server}" is not a configured server`);
      return;
    }
    const resolved: MaintenanceWindow = {
      server: window.server,
      fromMs: window.from,
      toMs: window.to,
      reason: window.reason,
      ...(window.announcedAt !== undefined ? { announcedAtMs: window.announcedAt } : {}),
    };
    server.maintenance.push(resolved);
  });
  for (const server of servers.values()) server.maintenance.sort((a, b) => a.fromMs - b.fromMs);

  if (raw.storage.kind === 'influxdb' && raw.storage.influxdb) {
    const influx = raw.storage.influxdb;
    if (influx.apiVersion === 1 && !influx.database)
      problems.push('storage.influxdb.database: is required with apiVersion 1');
    if (influx.apiVersion !== 1 && !influx.bucket && !influx.database)
      problems.push('storage.influxdb.bucket: is required with apiVersion 2 or 3');
  }

  const [shardIndex = 1, shardCount = 1] = raw.probing.shard.split('/').map(Number);
  const shard = { index: shardIndex, count: shardCount };
  const agent =
    raw.probing.agent ??
    (shardCount === 1 ? raw.probing.location : `${raw.probing.location}-${shardIndex}-of-${shardCount}`);
  if (raw.agents.length > 0 && !raw.roles.includes('close'))
    problems.push('agents: only the instance with the close role waits for agents; remove it or add close to roles');
  if (new Set(raw.agents).size !== raw.agents.length) problems.push('agents: names an agent twice');
  if (raw.agents.length > 0 && raw.storage.kind !== 'influxdb')
    problems.push(
      'agents: agents share one InfluxDB (storage.kind: influxdb); the embedded store has only this process',
    );

  if (raw.delivery && raw.http.publicUrl === undefined)
    problems.push('http.publicUrl: is required with delivery (the e-mails link to the customer portal)');
  const http = resolveHttp(raw.http, env, problems);

  if (problems.length > 0) throw new ConfigError(sourcePath, problems);

  return {
    sourcePath,
    timeZone,
    currency: raw.currency,
    provider: raw.provider,
    storage: { kind: raw.storage.kind, path: resolve(raw.storage.path), influxdb: raw.storage.influxdb },
    // Beside the observations by default, so one data folder (or volume) holds both.
    state: {
      path:
        raw.state.path === undefined
          ? resolve(dirname(resolve(raw.storage.path)), 'state.db')
          : resolve(raw.state.path),
    },
    roles: { probe: raw.roles.includes('probe'), close: raw.roles.includes('close'), api: raw.roles.includes('api') },
    agents: raw.agents,
    probing: { location: raw.probing.location, concurrency: raw.probing.concurrency, shard, agent },
    availability: { confirmations: raw.probing.confirmations, staleAfterMs, quorum: raw.sla.quorum },
    sla: {
      creditBase: raw.sla.creditBase,
      maxCreditPercentHundredths: raw.sla.maxCreditPercent,
      closeDelayMs: raw.sla.closeDelay,
      minMonitoredMicroPercent: raw.sla.minMonitoredPercent,
      closeRetryMs: raw.sla.closeRetry,
      evidenceWaitMs: raw.sla.evidenceWait,
      maintenanceNoticeMs: raw.sla.maintenanceNotice,
    },
    http,
    reports: { dir: resolve(raw.reports.dir) },
    ...(raw.delivery ? { delivery: raw.delivery } : {}),
    portal: raw.portal,
    tiers,
    tierVersions,
    reactionTimesMs: resolveReactionTimes(raw, tiers.keys()),
    customers,
    servers,
  };
}
