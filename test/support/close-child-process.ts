// Runs test/support/close-child.ts: a month close in a process of its own (node itself, tsx as a loader, so a
// SIGKILL it sends itself is seen as its own end).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CloseStep } from '../../src/close/month-closer.js';

const CHILD = fileURLToPath(new URL('./close-child.ts', import.meta.url));

/** Closes `month` in a child process that kills itself right after `crashAfter` ('never': runs to the end). */
export function runCloseChild(
  configPath: string,
  month: string,
  crashAfter: CloseStep | 'never',
  nowIso: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, configPath, month, crashAfter, nowIso], {
      env: { ...process.env, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout }));
  });
}
