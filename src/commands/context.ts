// What every command needs first: the configuration file it names (or the default), loaded and checked.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { AppConfig } from '../config/types.js';
import { createLogger, type Logger } from '../logging.js';
import type { ProgressListener } from '../progress.js';
import { monthContaining, previousMonth } from '../sla/month.js';
import { createMonthCloser, type MonthCloser } from '../close/month-closer.js';
import type { EvidenceStores } from '../close/compute.js';
import { SqliteCloseRecords, type CloseRecords } from '../state/close-records.js';
import { SqliteOperatorRecords, type OperatorRecords } from '../state/operator-records.js';
import { createObservationStore } from '../store/create.js';
import type { ObservationStore } from '../store/store.js';
import { influxHeartbeats } from '../agents/influx-heartbeats.js';
import { agentEvidence } from '../close/agent-evidence.js';
import { influxConnection } from '../store/influx/connection.js';

export const DEFAULT_CONFIG_PATH = 'config/uptime-credits.yaml';
export const EXAMPLE_CONFIG_PATH = 'config/uptime-credits.example.yaml';

/**
 * The config path given with --config (before or after the command name); without one, the default path, or
 * the shipped example when no default file exists yet, so a fresh checkout runs with no set-up.
 */
export function configPathOf(command: Command, logger?: Logger): string {
  const given = command.optsWithGlobals<{ config?: string }>().config;
  const explicit = command.getOptionValueSourceWithGlobals('config') === 'cli';
  if (given && (explicit || existsSync(given))) return given;
  if (existsSync(DEFAULT_CONFIG_PATH)) return DEFAULT_CONFIG_PATH;
  logger?.warn({ config: EXAMPLE_CONFIG_PATH }, `no ${DEFAULT_CONFIG_PATH}: using the example configuration`);
  return EXAMPLE_CONFIG_PATH;
}

/** Loads the command's configuration (throws ConfigError naming file, key and reason). */
export function loadCommandConfig(command: Command, logger?: Logger): AppConfig {
  return loadConfig(configPathOf(command, logger));
}

/** The month the user named, or the previous month in the configured time zone. */
export function monthOrPrevious(month: string | undefined, config: AppConfig): string {
  return month ?? previousMonth(monthContaining(Date.now(), config.timeZone));
}

/** Loads the command's configuration, opens its store, runs `work`, and always closes the store. */
export async function withConfiguredStore<T>(
  command: Command,
  work: (config: AppConfig, store: ObservationStore, logger: Logger) => Promise<T>,
): Promise<T> {
  const logger = createLogger();
  const config = loadCommandConfig(command, logger);
  const store = await createObservationStore(config, logger);
  try {
    return await work(config, store, logger);
  } finally {
    await store.close();
  }
}

/** Loads the configuration, opens the store and the people's records (state database), runs `work`, closes both. */
export async function withEvidenceStores<T>(
  command: Command,
  work: (
    config: AppConfig,
    sources: EvidenceStores & { store: ObservationStore; operatorRecords: OperatorRecords },
    logger: Logger,
  ) => Promise<T>,
): Promise<T> {
  return withConfiguredStore(command, async (config, store, logger) => {
    const operatorRecords = SqliteOperatorRecords.open(config.state.path);
    try {
      return await work(config, { store, operatorRecords }, logger);
    } finally {
      operatorRecords.close();
    }
  });
}

/** What a month-close command works with: the evidence, the close records and the closer over them. */
export interface CloseContext {
  config: AppConfig;
  store: ObservationStore;
  operatorRecords: OperatorRecords;
  records: CloseRecords;
  closer: MonthCloser;
  logger: Logger;
}

/**
 * Opens the store and the state database, builds the closer (its evidence: the store's outbox), runs `work`.
 * `onProgress` hears the closer's phases.
 */
export async function withMonthCloser<T>(
  command: Command,
  work: (context: CloseContext) => Promise<T>,
  onProgress?: ProgressListener,
): Promise<T> {
  return withEvidenceStores(command, async (config, { store, operatorRecords }, logger) => {
    const records = SqliteCloseRecords.open(config.state.path);
    // The expected agents' heartbeats (config agents): a close from here waits for them as the daemon's does.
    const heartbeats =
      config.agents.length > 0 && config.storage.influxdb
        ? influxHeartbeats(influxConnection(config.storage.influxdb))
        : undefined;
    try {
      const evidence = [
        { name: store.description, unconfirmed: store.unconfirmed.bind(store) },
        ...(heartbeats ? [agentEvidence(config.agents, () => heartbeats.latest())] : []),
      ];
      const closer = createMonthCloser({
        config,
        store,
        operatorRecords,
        pendingRevisions: operatorRecords,
        records,
        evidence,
        logger,
        onProgress,
      });
      return await work({ config, store, operatorRecords, records, closer, logger });
    } finally {
      records.close();
      await heartbeats?.close();
    }
  });
}
