// Placeholder until its issue lands: registers `check` so the CLI builds; replaced by the real command.
import type { Command } from 'commander';

export function registerCheck(program: Command): void {
  program.command('check').description('(not built yet)').action(() => {
    throw new Error('check is not built yet');
  });
}
