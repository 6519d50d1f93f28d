// Placeholder until its issue lands: registers `credits` so the CLI builds; replaced by the real command.
import type { Command } from 'commander';

export function registerCredits(program: Command): void {
  program.command('credits').description('(not built yet)').action(() => {
    throw new Error('credits is not built yet');
  });
}
