// Lints a Prometheus exposition with the real `promtool check metrics`.
import { spawnSync } from 'node:child_process';

/** promtool's complaints about the exposition text; empty when it is clean. */
export function promtoolProblems(exposition: string): string {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  if (result.error) throw new Error(`cannot run promtool (Debian package prometheus): ${result.error.message}`);
  return `${result.stdout}${result.stderr}`.trim();
}
