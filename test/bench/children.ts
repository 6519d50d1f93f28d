// Child processes of the benchmark: each part that is measured runs alone in its own process, so its CPU
// and memory are its own. Children are TypeScript run through tsx and answer with one IPC message.
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The environment variable that asks a child to lower its priority (see yieldCpuIfAsked). */
const NICE_ENV = 'BENCH_NICE';

/** A running child and its first message of each kind. */
export interface Child<Ready, Result> {
  process: ChildProcess;
  /** The child's first 'ready' message (e.g. the ports it listens on). */
  ready: Promise<Ready>;
  /** The child's 'result' message. */
  result: Promise<Result>;
  send(message: unknown): void;
  /** Ends the child (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Forks `test/bench/<script>.ts` with extra node flags; rejects its promises if it exits before answering. `nice`:
 * the child runs at that nice value, if it calls yieldCpuIfAsked.
 */
export function forkChild<Ready = unknown, Result = unknown>(
  script: string,
  args: string[] = [],
  nodeFlags: string[] = [],
  nice = 0,
): Child<Ready, Result> {
  const path = fileURLToPath(new URL(`./${script}.ts`, import.meta.url));
  const child = fork(path, args, {
    execArgv: ['--import', 'tsx', ...nodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { LOG_LEVEL: 'warn', ...process.env, [NICE_ENV]: String(nice) },
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new Error(`bench child ${script} exited (code ${code}, signal ${signal}) before answering`)),
    ),
  );
  exited.catch(() => undefined);
  const message = <T>(kind: string) =>
    Promise.race([
      new Promise<T>((resolve) => {
        const listener = (m: { kind: string; body: T }) => {
          if (m.kind !== kind) return;
          child.off('message', listener);
          resolve(m.body);
        };
        child.on('message', listener);
      }),
      exited,
    ]);
  const ready = message<Ready>('ready');
  const result = message<Result>('result');
  ready.catch(() => undefined);
  result.catch(() => undefined);
  return {
    process: child,
    ready,
    result,
    send: (m) => child.send(m as never),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** Sends a message to the parent (inside a child). */
export function tellParent(kind: 'ready' | 'result', body: unknown): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!({ kind, body }, (error: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** Resolves with the next message the parent sends (inside a child). */
export function fromParent<T>(): Promise<T> {
  return new Promise((resolve) => process.once('message', (m) => resolve(m as T)));
}

/**
 * Inside a child that stands in for a party on another machine (the targets, API clients): lowers every thread of
 * this process to the nice value its parent asked for, so it takes only the CPU the measured process leaves. Linux
 * keeps a nice value per thread, and threads started later inherit their creator's.
 */
export function yieldCpuIfAsked(): void {
  const nice = Number(process.env[NICE_ENV] ?? 0);
  if (nice === 0) return;
  for (const thread of readdirSync('/proc/self/task')) setPriority(Number(thread), nice);
}
