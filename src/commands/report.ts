// `uptime-credits report --month YYYY-MM`: closes the month into PDFs, the ledger and a manifest.
import type { Command } from 'commander';
import { computeCredits } from '../close/compute.js';
import { publishMonth } from '../close/publish.js';
import { monthOrPrevious, withConfiguredStore } from './context.js';

/** Registers `report`. Exit code 0 when published or unchanged, 3 when a closed month would change (use --force). */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('render the month\'s credit reports (PDF per customer), ledger.csv, ledger.json and manifest.json')
    .option('-m, --month <YYYY-MM>', 'the month (default: the previous month in the configured time zone)')
    .option('--customer <id>', 'render only this customer\'s PDF')
    .option('--out <dir>', 'output folder (default: reports.dir from the configuration)')
    .option('--force', 'replace a closed month\'s files even though they would change')
    .option('-c, --config <path>', 'configuration file')
    .action(async (options: { month?: string; customer?: string; out?: string; force?: boolean }, command: Command) => {
      await withConfiguredStore(command, async (config, store) => {
        const credits = await computeCredits(config, store, monthOrPrevious(options.month, config));
        const result = await publishMonth({ config, credits, outDir: options.out ?? config.reports.dir, customerId: options.customer, force: options.force });
        const lines = [`${result.status}: ${result.dir}`, ...result.written.map((f) => `  wrote ${f}`), ...result.differences.map((d) => `  differs: ${d}`)];
        if (result.status === 'refused') lines.push('the month is closed and its files would change; nothing was written (use --force to replace them)');
        process.stdout.write(`${lines.join('\n')}\n`);
        if (result.status === 'refused') process.exitCode = 3;
      });
    });
}
