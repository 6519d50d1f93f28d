// `uptime-credits check`: runs every configured check once and prints a table; a new user's first try.
import type { Command } from 'commander';
import { createLogger } from '../logging.js';
import { closeHttpDispatchers, runCheck } from '../probes/index.js';
import { loadCommandConfig } from './context.js';

/** Registers `check`. Exit code 0 when every check is up, 1 when any is down. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('run every configured check once and print the results')
    .option('-c, --config <path>', 'configuration file')
    .action(async (_options: unknown, command: Command) => {
      const config = loadCommandConfig(command, createLogger());
      const checks = [...config.servers.values()].flatMap((server) => server.checks.map((check) => ({ server, check })));
      const results = await Promise.all(checks.map(async ({ server, check }) => ({ server, check, result: await runCheck(check.config, check.timeoutMs) })));
      await closeHttpDispatchers();
      const rows = results.map(({ server, check, result }) => [
        server.customerId,
        server.id,
        check.name,
        check.config.kind,
        result.up ? 'up' : 'DOWN',
        String(result.latencyMs),
        result.up ? (result.httpStatus ? `status ${result.httpStatus}` : '') : `${result.error}: ${result.detail ?? ''}`,
      ]);
      const header = ['customer', 'server', 'check', 'kind', 'state', 'ms', 'detail'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (cells: string[]) => cells.map((c, i) => (i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
      process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
      const down = results.filter((r) => !r.result.up).length;
      process.stdout.write(`${results.length - down} up, ${down} down\n`);
      if (down > 0) process.exitCode = 1;
    });
}
