// The daemon as it ships: `npm run build`, then `node dist/src/cli.js start` in a child process (no tsx loader in
// the measured process), its JSON log read from stderr for the address and for warnings.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MALLOC_ENV, NODE_FLAGS } from '../../src/commands/process-settings.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Log lines of level warn and above kept for the report (the rest are counted). */
const PROBLEMS_KEPT = 20;
/** How long a stopped daemon may take to finish its work before it is killed. */
const STOP_GRACE_MS = 60_000;

export interface BuiltDaemon {
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number;
  /** Log lines at warn (40) or above: how many, and the first few messages. */
  problems: { count: number; first: string[] };
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code (null when killed by a signal). */
  stop(): Promise<number | null>;
}

/** Compiles the tree as it is now into dist/; throws with the compiler's output when it does not build. */
export function buildDaemon(): void {
  const built = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}${built.stderr}`);
}

/**
 * Starts the built daemon on `configPath` (which must set http.port 0) and waits until it listens; its whole log
 * goes to `logPath`.
 */
export async function startBuiltDaemon(
  configPath: string,
  logPath: string,
  nodeFlags: readonly string[] = [],
): Promise<BuiltDaemon> {
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, ...nodeFlags, `${ROOT}/dist/src/cli.js`, 'start', '-c', configPath],
    {
      cwd: ROOT,
      // As npm start and the Docker image run it: with their node options and the allocator's settings.
      env: { ...process.env, ...MALLOC_ENV, LOG_LEVEL: 'info', UPTIME_CREDITS_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const problems = { count: 0, first: [] as string[] };
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logFile = createWriteStream(logPath);
  child.once('exit', () => logFile.end());
  let rest = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      logFile.write(chunk);
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const text of lines) {
        let line: { level?: number; msg?: string; address?: string; err?: { message?: string } };
        try {
          line = JSON.parse(text) as typeof line;
        } catch {
          line = { level: 60, msg: text };
        }
        if (line.msg === 'uptime-credits started' && line.address) resolve(line.address);
        if ((line.level ?? 0) >= 40) {
          problems.count++;
          if (problems.first.length < PROBLEMS_KEPT)
            problems.first.push(`${line.msg ?? ''}${line.err?.message ? `: ${line.err.message}` : ''}`);
        }
      }
    });
    void exited.then((code) =>
      reject(new Error(`the daemon exited (${code}) before it listened: ${problems.first.join('; ')}`)),
    );
  });
  return {
    url,
    pid: child.pid!,
    problems,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
