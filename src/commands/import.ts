// Placeholder until its issue lands: registers `import` so the CLI builds; replaced by the real command.
import type { Command } from 'commander';

export function registerImport(program: Command): void {
  program.command('import').description('(not built yet)').action(() => {
    throw new Error('import is not built yet');
  });
}
