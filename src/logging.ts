// The one logger factory: pino, as fastify uses, on stderr so stdout stays for command output. JSON lines for
// machines; pino-pretty's lines when a person reads them at a terminal.
import { pino, destination, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type { Logger };

/** How log lines look: `json` (one object a line) or `pretty` (pino-pretty: time, level, message, fields). */
export type LogFormat = 'json' | 'pretty';

/** The environment variable that overrides the format the terminal chose: `json` or `pretty`. */
export const LOG_FORMAT_ENV = 'UPTIME_CREDITS_LOG_FORMAT';

/**
 * The format asked for in the environment, else pretty when stderr is a terminal. Stderr, not stdout: it is where
 * the lines go, so `credits --json > file` at a terminal still logs for a person, and `2> log` logs JSON.
 */
function logFormat(): LogFormat {
  const asked = process.env[LOG_FORMAT_ENV];
  if (asked === undefined || asked === '') return process.stderr.isTTY === true ? 'pretty' : 'json';
  if (asked === 'json' || asked === 'pretty') return asked;
  throw new Error(`${LOG_FORMAT_ENV}: "${asked}" is neither json nor pretty`);
}

/** Creates the process logger; level from LOG_LEVEL (default info), silent under vitest unless asked. */
export function createLogger(name = 'uptime-credits'): Logger {
  const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  const options = {
    name,
    level,
    redact: ['token', '*.token', 'password', '*.password', 'authorization', '*.authorization'],
  };
  const stderr = destination(2);
  if (logFormat() === 'json') return pino(options, stderr);
  // Formatted in this thread, into the same destination pino flushes at exit: lines logged just before
  // process.exit or a crash are lost by a pino-pretty transport (a worker thread: all of them) and by its stream
  // (an asynchronous pipeline: most of them), as test/integration/logging.test.ts shows.
  const terminal = process.stderr.isTTY === true;
  const prettify = prettyFactory({
    colorize: terminal && process.env.NO_COLOR === undefined,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname,name',
  });
  // On a terminal a line starts by clearing the one it lands on: a command's progress line (commands/progress-line.ts)
  // is there, and is redrawn below at its next tick.
  const startOfLine = terminal ? '\r\x1b[K' : '';
  return pino(options, { write: (line: string) => stderr.write(startOfLine + prettify(line)) });
}
