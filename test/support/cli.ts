// Runs the real CLI in a child process, as a user would (through tsx, so no build step is needed).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Whether `script` (util-linux, in Debian's essential bsdutils) is here to run a command on a pseudo-terminal. */
export const terminalAvailable = existsSync('/usr/bin/script');

const shellQuoted = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/**
 * Runs `uptime-credits ...args` on a pseudo-terminal (through `script`), as a person at a terminal would: stdout and
 * stderr are the terminal, merged into `output`, with the terminal's CRLF line ends turned back into LF.
 */
export function runCliInTerminal(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; output: string }> {
  return runInTerminal([TSX, `${ROOT}/src/cli.ts`, ...args], options);
}

/** Runs a command on a pseudo-terminal (see runCliInTerminal). */
export function runInTerminal(
  command: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command.map(shellQuoted).join(' '), '/dev/null'], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.replaceAll('\r\n', '\n') }));
  });
}

/** Runs `uptime-credits ...args` with the working directory `cwd` (default: the repository). */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [`${ROOT}/src/cli.ts`, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface CliWorkspace {
  /** A temporary directory of the suite, removed after its last test. */
  dir: string;
  /** `dir`/config.yaml, written before the suite's first test. */
  config: string;
  /** Runs `uptime-credits ...args -c config`. */
  cli(...args: string[]): Promise<CliResult>;
}

/**
 * A temporary directory with a config.yaml for the calling suite: the directory exists at once (so its paths can
 * be used anywhere), the file is written from `yaml(dir)` in a beforeAll hook (so it can name servers an earlier
 * hook started, such as influxd), and both go in afterAll (unless KEEP_TEST_DIR is set).
 */
export function cliWorkspace(prefix: string, yaml: (dir: string) => string): CliWorkspace {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const config = join(dir, 'config.yaml');
  beforeAll(() => writeFileSync(config, yaml(dir)));
  afterAll(() => {
    if (!process.env.KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  });
  return { dir, config, cli: (...args) => runCli([...args, '-c', config]) };
}
