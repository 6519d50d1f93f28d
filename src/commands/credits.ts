// `uptime-credits credits --month YYYY-MM [--json]`: the month close, printed.
import type { Command } from 'commander';
import { computeCredits } from '../close/compute.js';
import { creditsToJson, creditsToTable } from '../close/json.js';
import { monthOrPrevious, withConfiguredStore } from './context.js';

/** Registers `credits`. */
export function registerCredits(program: Command): void {
  program
    .command('credits')
    .description('compute every customer\'s credit for a month from the stored observations')
    .option('-m, --month <YYYY-MM>', 'the month (default: the previous month in the configured time zone)')
    .option('--json', 'print JSON instead of a table')
    .option('-c, --config <path>', 'configuration file')
    .action(async (options: { month?: string; json?: boolean }, command: Command) => {
      await withConfiguredStore(command, async (config, store) => {
        const credits = await computeCredits(config, store, monthOrPrevious(options.month, config));
        process.stdout.write(options.json ? `${JSON.stringify(creditsToJson(credits), null, 2)}\n` : creditsToTable(credits));
      });
    });
}
