#!/usr/bin/env node
// The command line: thin, each command lives in src/commands/ and registers itself here.
import { Command } from 'commander';
import { registerApprove } from './commands/approve.js';
import { registerCheck } from './commands/check.js';
import { registerCredits } from './commands/credits.js';
import { registerDeliver, registerPortalLink } from './commands/deliver.js';
import { registerImport } from './commands/import.js';
import { registerIncident } from './commands/incident.js';
import { registerMaintenance } from './commands/maintenance.js';
import { registerMonths } from './commands/months.js';
import { registerOutbox } from './commands/outbox.js';
import { registerReport } from './commands/report.js';
import { registerRules } from './commands/rules.js';
import { registerStart } from './commands/start.js';

const program = new Command('uptime-credits')
  .description('Probes covered servers and turns monthly uptime into SLA credits, reports and a ledger.')
  .showHelpAfterError()
  // Declared once here; every command reads it (before or after the command's name) through configPathOf.
  .option('-c, --config <path>', 'configuration file', 'config/uptime-credits.yaml')
  .configureHelp({ showGlobalOptions: true });

for (const register of [
  registerStart,
  registerCheck,
  registerImport,
  registerCredits,
  registerReport,
  registerApprove,
  registerIncident,
  registerMaintenance,
  registerMonths,
  registerDeliver,
  registerPortalLink,
  registerOutbox,
  registerRules,
])
  register(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`uptime-credits: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = process.exitCode || 1;
});
