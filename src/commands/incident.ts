// `uptime-credits incident add|list|withdraw`: outages customers reported and our own monitoring's faults, as
// audited records. A change to a month already issued goes through a restatement (see close/record-changes.ts).
import type { Command } from 'commander';
import { cliActor } from '../close/month-closer.js';
import { incidentJson } from '../close/record-json.js';
import { formatClockDuration, formatLocalTime } from '../reports/format.js';
import type { IncidentKind } from '../sla/types.js';
import type { IncidentRecord } from '../state/operator-records.js';
import { formatTextTable } from '../text-table.js';
import { withEvidenceStores } from './context.js';
import { idArgument, instantOption, printChange, recordQuery, withRecordKeeper } from './records-context.js';

const KINDS: readonly IncidentKind[] = ['reported', 'monitoring-fault'];

const describe = (i: IncidentRecord, timeZone: string) =>
  `incident ${i.id}: ${i.kind === 'reported' ? 'reported outage' : 'monitoring fault'} of ${i.serverId}, ${formatLocalTime(i.fromMs, timeZone, 'en')} to ${formatLocalTime(i.toMs, timeZone, 'en')} (${formatClockDuration(i.toMs - i.fromMs)})${i.ticket ? `, ticket ${i.ticket}` : ''}: ${i.reason}`;

/** Registers `incident` and its subcommands. */
export function registerIncident(program: Command): void {
  const incident = program
    .command('incident')
    .description(
      'record outages customers reported and faults of our own monitoring (audited; changes to issued months are restated)',
    );

  incident
    .command('add')
    .description(
      'record an incident: a reported outage counts as downtime; a monitoring fault removes probe-confirmed downtime (the time counts as unmonitored)',
    )
    .requiredOption('--server <id>', 'the server')
    .requiredOption('--from <time>', 'start, ISO-8601 with an offset (2026-10-03T02:00:00+02:00)')
    .requiredOption('--to <time>', 'end (exclusive), ISO-8601 with an offset')
    .requiredOption('--kind <kind>', 'reported | monitoring-fault')
    .requiredOption('--reason <text>', 'what happened (shown in the customer report)')
    .option('--ticket <ref>', "the customer's ticket")
    .option('--json', 'print JSON')
    .action(
      async (
        options: {
          server: string;
          from: string;
          to: string;
          kind: string;
          reason: string;
          ticket?: string;
          json?: boolean;
        },
        command: Command,
      ) => {
        if (!KINDS.includes(options.kind as IncidentKind))
          throw new Error(`--kind: "${options.kind}" is not one of ${KINDS.join(', ')}`);
        const fromMs = instantOption('--from', options.from);
        const toMs = instantOption('--to', options.to);
        await withRecordKeeper(command, async (keeper, { config }) => {
          const change = await keeper.addIncident(
            {
              serverId: options.server,
              kind: options.kind as IncidentKind,
              fromMs,
              toMs,
              reason: options.reason,
              ...(options.ticket ? { ticket: options.ticket } : {}),
            },
            cliActor(),
          );
          printChange(
            config,
            change,
            [`recorded ${describe(change.record, config.timeZone)}`],
            options.json ? { incident: incidentJson(change.record) } : undefined,
          );
        });
      },
    );

  incident
    .command('withdraw')
    .description('withdraw an incident: it stays in the record with who, when and why; months it touched are restated')
    .argument('<id>', 'the incident id (see `incident list`)')
    .requiredOption('--reason <text>', 'why it is withdrawn')
    .option('--json', 'print JSON')
    .action(async (idText: string, options: { reason: string; json?: boolean }, command: Command) => {
      const id = idArgument('incident id', idText);
      await withRecordKeeper(command, async (keeper, { config }) => {
        const change = await keeper.withdrawIncident(id, options.reason, cliActor());
        printChange(
          config,
          change,
          [`withdrew ${describe(change.record, config.timeZone)}`],
          options.json ? { incident: incidentJson(change.record) } : undefined,
        );
      });
    });

  incident
    .command('list')
    .description('list incidents (withdrawn ones too) of a month, or of every month')
    .option('-m, --month <YYYY-MM>', 'only those touching this month')
    .option('--server <id>', 'only this server')
    .option('--json', 'print JSON')
    .action(async (options: { month?: string; server?: string; json?: boolean }, command: Command) => {
      await withEvidenceStores(command, async (config, { operatorRecords }) => {
        const found = operatorRecords.incidents(recordQuery(config, options));
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ incidents: found.map(incidentJson) }, null, 2)}\n`);
          return;
        }
        if (found.length === 0) {
          process.stdout.write('no incidents recorded\n');
          return;
        }
        const local = (ms: number) => formatLocalTime(ms, config.timeZone, 'en');
        const rows = found.map((i) => [
          String(i.id),
          i.serverId,
          i.kind,
          local(i.fromMs),
          local(i.toMs),
          formatClockDuration(i.toMs - i.fromMs),
          i.ticket ?? '-',
          i.withdrawn ? `withdrawn ${local(i.withdrawn.atMs)} by ${i.withdrawn.by}: ${i.withdrawn.reason}` : 'in force',
          `${local(i.recordedAtMs)} by ${i.recordedBy}`,
          i.reason,
        ]);
        const header = ['id', 'server', 'kind', 'from', 'to', 'duration', 'ticket', 'state', 'recorded', 'reason'];
        process.stdout.write(`${formatTextTable(header, rows, { rightAligned: new Set([0, 5]) }).join('\n')}\n`);
      });
    });
}
