// The real Prometheus tools (promtool from Debian's prometheus, amtool from prometheus-alertmanager) for tests.
import { spawnSync } from 'node:child_process';

/** Runs `command` to its end; output is stdout then stderr. Throws when the tool cannot be started at all. */
export function runTool(
  command: 'promtool' | 'amtool',
  args: string[],
  cwd?: string,
  input?: string,
): { status: number | null; stdout: string; output: string } {
  const result = spawnSync(command, args, { cwd, input, encoding: 'utf8' });
  if (result.error)
    throw new Error(
      `cannot run ${command} (Debian package ${command === 'promtool' ? 'prometheus' : 'prometheus-alertmanager'}): ${result.error.message}`,
    );
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

/** promtool's complaints about an exposition text (`promtool check metrics`); empty when it is clean. */
export function promtoolProblems(exposition: string): string {
  return runTool('promtool', ['check', 'metrics'], undefined, exposition).output.trim();
}
