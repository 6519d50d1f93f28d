// `uptime-credits check`: runs every configured check once and prints a table; a new user's first try.
import type { Command } from 'commander';
import { mapWithLimit } from '../concurrency.js';
import type { AppConfig, ResolvedCheck, ResolvedServer } from '../config/types.js';
import { createLogger } from '../logging.js';
import { closeHttpDispatchers, runCheck } from '../probes/index.js';
import type { ProbeResult } from '../probes/probe.js';
import { formatTextTable } from '../text-table.js';
import { loadCommandConfig } from './context.js';

/** Exit codes of `check`: every check up, at least one down, or the checks could not run (bad configuration). */
export const CHECK_EXIT = { allUp: 0, someDown: 1, notRun: 2 } as const;

interface CheckRow {
  server: ResolvedServer;
  check: ResolvedCheck;
  result: ProbeResult;
}

/** Runs every check of every configured server once, at most probing.concurrency at a time, in config order. */
export async function runEveryCheckOnce(config: AppConfig): Promise<CheckRow[]> {
  const work = [...config.servers.values()].flatMap((server) => server.checks.map((check) => ({ server, check })));
  try {
    return await mapWithLimit(work, config.probing.concurrency, async ({ server, check }) => ({
      server,
      check,
      result: await runCheck(check.config, check.timeoutMs),
    }));
  } finally {
    await closeHttpDispatchers();
  }
}

/** The table `check` prints: one line per check, then a summary line. */
export function formatCheckTable(rows: readonly CheckRow[]): string {
  const cells = rows.map(({ server, check, result }) => [
    server.customerId,
    server.id,
    check.name,
    check.config.kind,
    result.up ? 'up' : 'DOWN',
    String(result.latencyMs),
    result.up ? (result.httpStatus ? `status ${result.httpStatus}` : '') : `${result.error}: ${result.detail ?? ''}`,
  ]);
  const header = ['customer', 'server', 'check', 'kind', 'state', 'ms', 'detail'];
  const down = rows.filter((r) => !r.result.up).length;
  return `${[...formatTextTable(header, cells, { rightAligned: new Set([5]) }), `${rows.length - down} up, ${down} down`].join('\n')}\n`;
}

/** Registers `check`. Exit code 0 when every check is up, 1 when any is down, 2 when the configuration is bad. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'run every configured check once and print the results (exit 0 all up, 1 some down, 2 bad configuration)',
    )
    .action(async (_options: unknown, command: Command) => {
      let config: AppConfig;
      try {
        config = loadCommandConfig(command, createLogger());
      } catch (error) {
        process.stderr.write(`uptime-credits: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = CHECK_EXIT.notRun;
        return;
      }
      const rows = await runEveryCheckOnce(config);
      process.stdout.write(formatCheckTable(rows));
      process.exitCode = rows.every((r) => r.result.up) ? CHECK_EXIT.allUp : CHECK_EXIT.someDown;
    });
}
