// A pino logger whose lines a test reads back, parsed: what the code under test logged, in order.
import { pino, type LevelWithSilent, type Logger } from 'pino';

/** One logged line: pino's level number, the message and whatever fields the call gave. */
export type LoggedLine = { level: number; msg: string } & Record<string, unknown>;

/** A logger at `level` (info unless given) and the lines it has written so far, parsed. */
export function capturedLog(level: LevelWithSilent = 'info'): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as LoggedLine) });
  return { logger, lines };
}
