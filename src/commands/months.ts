// `uptime-credits months`: the close state of each recent month, from the state database.
import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { recentMonthStatuses } from '../close/status.js';
import { SqliteCloseRecords } from '../state/close-records.js';
import { formatGrosze } from '../sla/money.js';
import { createLogger } from '../logging.js';
import { formatTextTable } from '../text-table.js';
import { loadCommandConfig } from './context.js';

/** Registers `months`. */
export function registerMonths(program: Command): void {
  program
    .command('months')
    .description(
      'show the close state of each recent month: held, needs-review, closed or restated, with the revision and total',
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const config = loadCommandConfig(command, createLogger());
      const records = SqliteCloseRecords.open(config.state.path);
      try {
        const months = recentMonthStatuses(records, config.timeZone, Date.now(), 120);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ months }, null, 2)}\n`);
          return;
        }
        if (months.length === 0) {
          process.stdout.write('no month has been closed or held yet\n');
          return;
        }
        const rows = months.map((m) => [
          m.month,
          m.state,
          String(m.revision),
          m.issued ? formatGrosze(m.issued.totalGrosze) : '-',
          m.issued
            ? DateTime.fromMillis(m.issued.closedAtMs, { zone: config.timeZone }).toFormat('yyyy-MM-dd HH:mm')
            : '-',
          m.issued?.closedBy ?? '-',
          m.reason ?? '',
        ]);
        const header = ['month', 'state', 'revision', 'total PLN', 'issued', 'by', 'held because'];
        process.stdout.write(`${formatTextTable(header, rows, { rightAligned: new Set([2, 3]) }).join('\n')}\n`);
      } finally {
        records.close();
      }
    });
}
