// Placeholder until its issue lands: registers `start` so the CLI builds; replaced by the real command.
import type { Command } from 'commander';

export function registerStart(program: Command): void {
  program.command('start').description('(not built yet)').action(() => {
    throw new Error('start is not built yet');
  });
}
