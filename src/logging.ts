// The one logger factory: pino, as fastify uses, JSON lines on stderr so stdout stays for command output.
import { pino, destination, type Logger } from 'pino';

export type { Logger };

/** Creates the process logger; level from LOG_LEVEL (default info), silent under vitest unless asked. */
export function createLogger(name = 'uptime-credits'): Logger {
  const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  return pino({ name, level, redact: ['token', '*.token', 'password', '*.password', 'authorization', '*.authorization'] }, destination(2));
}
