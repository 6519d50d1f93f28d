// The process logger as a person and a machine meet it: JSON lines when stderr is a pipe, pino-pretty's lines on a
// terminal (a real pseudo-terminal, through `script`), the override either way, and every line written before
// process.exit in both formats (a pino-pretty transport loses them all, its stream most).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LOG_FORMAT_ENV } from '../../src/logging.js';
import { runInTerminal, terminalAvailable } from '../support/cli.js';

const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const CHILD = fileURLToPath(new URL('../support/log-child.ts', import.meta.url));
// Under vitest the logger is silent unless a level is asked for.
const LOGGING = { LOG_LEVEL: 'info', [LOG_FORMAT_ENV]: '' };

function logThroughPipe(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CHILD], {
      env: { ...process.env, ...LOGGING, ...env },
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

const FILLER_LINES = 500; // as test/support/log-child.ts logs before its last line
/** pino-pretty's lines of the child: its filler lines, then the last one. */
const PRETTY = new RegExp(
  `^(\\[[-\\d :.]{23}\\] INFO: filler\\n {4}n: \\d+\\n){${FILLER_LINES}}` +
    '\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO: probe loop started\\n {4}server: "oci-101"\\n {4}token: "\\[Redacted\\]"\\n$',
);
const ESCAPE = '\x1b[';
const CONTROL_SEQUENCE = new RegExp(`${ESCAPE.replace('[', '\\[')}[0-9;]*[A-Za-z]`, 'g');
/** The text a terminal shows: colours and line clearing left out. */
const plain = (text: string) => text.replace(CONTROL_SEQUENCE, '').replaceAll('\r', '');

describe('log format', () => {
  it('is one JSON object a line on stderr when stderr is not a terminal, every line logged before exit', async () => {
    const result = await logThroughPipe({});
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(FILLER_LINES + 1);
    expect(lines.slice(0, -1).map((line) => JSON.parse(line).n)).toEqual(
      Array.from({ length: FILLER_LINES }, (_, i) => i + 1),
    );
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      level: 30,
      name: 'uptime-credits',
      msg: 'probe loop started',
      server: 'oci-101',
      token: '[Redacted]',
    });
  });

  it(`is pino-pretty's text with ${LOG_FORMAT_ENV}=pretty on a pipe: time, level, message, a field a line, no colour`, async () => {
    const result = await logThroughPipe({ [LOG_FORMAT_ENV]: 'pretty' });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(PRETTY);
    expect(result.stderr).not.toContain(ESCAPE);
  });

  it.skipIf(!terminalAvailable)(
    'is pino-pretty in colour on a terminal, and JSON there with the override',
    async () => {
      const pretty = await runInTerminal([TSX, CHILD], { env: LOGGING });
      expect(pretty.code).toBe(0);
      expect(pretty.output).toContain(ESCAPE);
      expect(plain(pretty.output)).toMatch(PRETTY);

      const json = await runInTerminal([TSX, CHILD], { env: { ...LOGGING, [LOG_FORMAT_ENV]: 'json' } });
      expect(json.code).toBe(0);
      expect(JSON.parse(json.output.trim().split('\n').at(-1)!)).toMatchObject({
        msg: 'probe loop started',
        server: 'oci-101',
      });
    },
  );

  it.skipIf(!terminalAvailable)(
    'follows stderr, where the lines go: pretty with stdout in a file, JSON with stderr in one',
    async () => {
      const stdoutAway = await runInTerminal(['sh', '-c', `'${TSX}' '${CHILD}' > /dev/null`], { env: LOGGING });
      expect(plain(stdoutAway.output)).toMatch(PRETTY);

      const dir = mkdtempSync(join(tmpdir(), 'uc-log-'));
      try {
        const file = join(dir, 'stderr.log');
        const stderrAway = await runInTerminal(['sh', '-c', `'${TSX}' '${CHILD}' 2> '${file}'`], { env: LOGGING });
        expect(stderrAway.output).toBe('');
        expect(JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1)!)).toMatchObject({
          msg: 'probe loop started',
          server: 'oci-101',
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it(`refuses a ${LOG_FORMAT_ENV} it does not know`, async () => {
    const result = await logThroughPipe({ [LOG_FORMAT_ENV]: 'xml' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${LOG_FORMAT_ENV}: "xml" is neither json nor pretty`);
  });
});
