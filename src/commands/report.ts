// `uptime-credits report --month YYYY-MM`: closes an ended month (revision 1), restates a closed one, or renders
// drafts of any month. One path with the daemon's schedule and the API: close/month-closer.ts.
import type { Command } from 'commander';
import { cliActor } from '../close/month-closer.js';
import { parseDurationMs } from '../config/schema.js';
import { CLOSE_EXIT, describeCloseOutcome } from './close-output.js';
import { monthOrPrevious, withMonthCloser } from './context.js';
import { startPhaseProgress } from './progress-line.js';

interface ReportOptions {
  month?: string;
  draft?: boolean;
  customer?: string;
  restate?: boolean;
  reason?: string;
  wait?: string;
  json?: boolean;
}

/** Registers `report`. Exit codes: see CLOSE_EXIT (0 done, 2 refused, 3 differs, 4 needs review, 5 try later). */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('close a month into PDFs, the ledger and the journal (revision 1), restate it, or render drafts')
    .option('-m, --month <YYYY-MM>', 'the month (default: the previous month in the configured time zone)')
    .option('--draft', 'render marked drafts of any month (month to date for a running one); nothing is issued')
    .option('--customer <id>', "render only this customer's report, as a draft")
    .option('--restate', 'issue the next revision of a closed month from the evidence as it is now (needs --reason)')
    .option('--reason <text>', 'why the month is restated (shown to the customers concerned and in the journal)')
    .option(
      '--wait <duration>',
      'how long to wait for observations still on their way to the store (default sla.evidenceWait)',
    )
    .option('--json', 'print the outcome as JSON')
    .action(async (options: ReportOptions, command: Command) => {
      if (options.restate && (options.draft || options.customer))
        throw new Error('--restate issues a revision; it cannot be combined with --draft or --customer');
      if (options.restate && !options.reason?.trim())
        throw new Error('--restate needs --reason "why the figures change"');
      if (options.reason && !options.restate) throw new Error('--reason goes with --restate');
      const waitMs = options.wait === undefined ? undefined : parseDurationMs(options.wait);
      if (options.wait !== undefined && waitMs === undefined)
        throw new Error(`--wait: "${options.wait}" is not a duration such as 30s, 5m`);
      const progress = startPhaseProgress('report');
      try {
        await withMonthCloser(
          command,
          async ({ config, closer }) => {
            const month = monthOrPrevious(options.month, config);
            if (options.customer !== undefined && !config.customers.some((c) => c.id === options.customer)) {
              // Wrong input, like a month that cannot be closed yet: refused (2), not a failure to retry (1).
              progress.stop();
              process.stderr.write(
                `uptime-credits: customer "${options.customer}" is not in the configuration (${config.sourcePath})\n`,
              );
              process.exitCode = CLOSE_EXIT.refused;
              return;
            }
            const by = cliActor();
            const outcome =
              options.draft || options.customer
                ? await closer.draft(month, options.customer ? { customerId: options.customer } : {})
                : options.restate && options.reason !== undefined
                  ? await closer.restate(month, {
                      by,
                      reason: options.reason,
                      ...(waitMs !== undefined ? { waitMs } : {}),
                    })
                  : await closer.close(month, { by, ...(waitMs !== undefined ? { waitMs } : {}) });
            progress.stop();
            const { lines, exitCode } = describeCloseOutcome(outcome, config.timeZone);
            process.stdout.write(options.json ? `${JSON.stringify(outcome, null, 2)}\n` : `${lines.join('\n')}\n`);
            process.exitCode = exitCode;
          },
          progress.onProgress,
        );
      } finally {
        progress.stop();
      }
      process.stderr.write(`${progress.summary()}\n`);
    });
}
