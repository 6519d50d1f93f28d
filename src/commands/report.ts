// Placeholder until its issue lands: registers `report` so the CLI builds; replaced by the real command.
import type { Command } from 'commander';

export function registerReport(program: Command): void {
  program.command('report').description('(not built yet)').action(() => {
    throw new Error('report is not built yet');
  });
}
