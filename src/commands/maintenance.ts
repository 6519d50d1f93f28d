// `uptime-credits maintenance announce|list|cancel`: announced maintenance windows, with when they were announced.
// Only a window announced at least sla.maintenanceNotice before it starts is excluded from eligible time.
import type { Command } from 'commander';
import { cliActor } from '../close/month-closer.js';
import { maintenanceJson } from '../close/record-json.js';
import { formatClockDuration, formatDuration, formatLocalTime } from '../reports/format.js';
import { announcedInTime } from '../sla/maintenance.js';
import type { MaintenanceRecord } from '../state/operator-records.js';
import { formatTextTable } from '../text-table.js';
import { withEvidenceStores } from './context.js';
import { idArgument, instantOption, printChange, recordQuery, withRecordKeeper } from './records-context.js';

const describe = (m: MaintenanceRecord, timeZone: string) =>
  `maintenance ${m.id} of ${m.serverId}, ${formatLocalTime(m.fromMs, timeZone, 'en')} to ${formatLocalTime(m.toMs, timeZone, 'en')} (${formatClockDuration(m.toMs - m.fromMs)}), announced ${formatLocalTime(m.announcedAtMs, timeZone, 'en')}: ${m.reason}`;

/** Registers `maintenance` and its subcommands. */
export function registerMaintenance(program: Command): void {
  const maintenance = program
    .command('maintenance')
    .description('announce maintenance windows (excluded from eligible time when announced with the required notice)');

  maintenance
    .command('announce')
    .description(
      'record an announced maintenance window; it is excluded from eligible time if announced at least sla.maintenanceNotice before it starts',
    )
    .requiredOption('--server <id>', 'the server')
    .requiredOption('--from <time>', 'start, ISO-8601 with an offset (2026-10-03T02:00:00+02:00)')
    .requiredOption('--to <time>', 'end (exclusive), ISO-8601 with an offset')
    .requiredOption('--reason <text>', 'what is done (shown in the customer report)')
    .option('--announced-at <time>', 'when the customer was told, if earlier than now by other means (default: now)')
    .option('--json', 'print JSON')
    .action(
      async (
        options: { server: string; from: string; to: string; reason: string; announcedAt?: string; json?: boolean },
        command: Command,
      ) => {
        const fromMs = instantOption('--from', options.from);
        const toMs = instantOption('--to', options.to);
        const announcedAtMs =
          options.announcedAt === undefined ? undefined : instantOption('--announced-at', options.announcedAt);
        await withRecordKeeper(command, async (keeper, { config }) => {
          const change = await keeper.announceMaintenance(
            {
              serverId: options.server,
              fromMs,
              toMs,
              reason: options.reason,
              ...(announcedAtMs !== undefined ? { announcedAtMs } : {}),
            },
            cliActor(),
          );
          const notice = config.sla.maintenanceNoticeMs;
          const lines = [`announced ${describe(change.record, config.timeZone)}`];
          if (change.late) {
            lines.push(
              `  announced ${formatDuration(Math.max(0, change.record.fromMs - change.record.announcedAtMs))} before it starts, less than the ${formatDuration(notice)} notice sla.maintenanceNotice requires: its time is NOT excluded from eligible time (downtime in it counts), and the report says so`,
            );
          }
          printChange(
            config,
            change,
            lines,
            options.json ? { maintenance: maintenanceJson(change.record, notice), late: change.late } : undefined,
          );
        });
      },
    );

  maintenance
    .command('cancel')
    .description(
      'cancel an announced window: it stays in the record with who, when and why; months it touched are restated',
    )
    .argument('<id>', 'the announcement id (see `maintenance list`)')
    .requiredOption('--reason <text>', 'why it is cancelled')
    .option('--json', 'print JSON')
    .action(async (idText: string, options: { reason: string; json?: boolean }, command: Command) => {
      const id = idArgument('maintenance id', idText);
      await withRecordKeeper(command, async (keeper, { config }) => {
        const change = await keeper.cancelMaintenance(id, options.reason, cliActor());
        printChange(
          config,
          change,
          [`cancelled ${describe(change.record, config.timeZone)}`],
          options.json ? { maintenance: maintenanceJson(change.record, config.sla.maintenanceNoticeMs) } : undefined,
        );
      });
    });

  maintenance
    .command('list')
    .description(
      'list announced maintenance (cancelled windows too) of a month, or of every month; windows in the configuration file are listed there',
    )
    .option('-m, --month <YYYY-MM>', 'only windows touching this month')
    .option('--server <id>', 'only this server')
    .option('--json', 'print JSON')
    .action(async (options: { month?: string; server?: string; json?: boolean }, command: Command) => {
      await withEvidenceStores(command, async (config, { operatorRecords }) => {
        const notice = config.sla.maintenanceNoticeMs;
        const found = operatorRecords.maintenance(recordQuery(config, options));
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ maintenance: found.map((m) => maintenanceJson(m, notice)) }, null, 2)}\n`,
          );
          return;
        }
        if (found.length === 0) {
          process.stdout.write('no maintenance announced\n');
          return;
        }
        const local = (ms: number) => formatLocalTime(ms, config.timeZone, 'en');
        const rows = found.map((m) => [
          String(m.id),
          m.serverId,
          local(m.fromMs),
          local(m.toMs),
          formatClockDuration(m.toMs - m.fromMs),
          `${local(m.announcedAtMs)} by ${m.announcedBy}`,
          announcedInTime(m, notice) ? 'excluded' : 'late: counted',
          m.cancelled ? `cancelled ${local(m.cancelled.atMs)} by ${m.cancelled.by}: ${m.cancelled.reason}` : 'in force',
          m.reason,
        ]);
        const header = ['id', 'server', 'from', 'to', 'duration', 'announced', 'effect', 'state', 'reason'];
        process.stdout.write(`${formatTextTable(header, rows, { rightAligned: new Set([0, 4]) }).join('\n')}\n`);
      });
    });
}
