// `uptime-credits credits --month YYYY-MM [--json]`: a month's figures as the store gives them now (issuing them is
// `report`'s job). Says so when observations of the month are still on their way to the store.
import type { Command } from 'commander';
import { computeCredits, monthReadRange } from '../close/compute.js';
import { creditsToJson, creditsToTable } from '../close/json.js';
import { monthOrPrevious, withEvidenceStores } from './context.js';
import { startPhaseProgress } from './progress-line.js';

/** Registers `credits`. */
export function registerCredits(program: Command): void {
  program
    .command('credits')
    .description("compute every customer's credit for a month from the stored observations and incidents")
    .option('-m, --month <YYYY-MM>', 'the month (default: the previous month in the configured time zone)')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { month?: string; json?: boolean }, command: Command) => {
      const progress = startPhaseProgress('credits');
      try {
        await withEvidenceStores(command, async (config, sources) => {
          const { store } = sources;
          const month = monthOrPrevious(options.month, config);
          const credits = await computeCredits(config, sources, month, undefined, progress.onProgress);
          progress.stop();
          const figures = options.json
            ? `${JSON.stringify(creditsToJson(credits), null, 2)}\n`
            : creditsToTable(credits);
          process.stdout.write(figures);
          const range = monthReadRange(config, month);
          const pending = await store.unconfirmed(range.fromMs, range.toMs);
          if (pending.waiting + pending.parked > 0) {
            process.stderr.write(
              `uptime-credits: these figures miss ${pending.waiting} observations of ${month} still waiting to reach the store and ${pending.parked} it refused; they count as unmonitored here\n`,
            );
          }
        });
      } finally {
        progress.stop();
      }
      process.stderr.write(`${progress.summary()}\n`);
    });
}
