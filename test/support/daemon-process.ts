// The real daemon (`uptime-credits start`) in a child process, so a test can SIGKILL it, fill its disk or cut
// its InfluxDB while it runs, and read its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface DaemonProcess {
  /** http://127.0.0.1:PORT */
  url: string;
  child: ChildProcess;
  logs: LogLine[];
  /** GET with a client timeout (and a bearer token); resolves with status and body text, rejects on timeout. */
  get(path: string, timeoutMs?: number, token?: string): Promise<{ status: number; body: string }>;
  /** One sample of a metric series from /metrics (the line that starts with `series `). */
  metric(series: string): Promise<number>;
  /** Sends `signal` and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `uptime-credits start -c configPath` and waits until it listens (its config must set `http.port: 0`). */
export async function startDaemonProcess(configPath: string, env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  // node itself with tsx as a loader: the tsx binary would run the daemon in a child of its own, which a SIGKILL
  // of the parent leaves running.
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}/src/cli.ts`, 'start', '-c', configPath], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: LogLine[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let rest = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const text of lines) {
        try {
          const line = JSON.parse(text) as LogLine;
          logs.push(line);
          if (line.msg === 'uptime-credits started') resolve(line.address as string);
        } catch {
          logs.push({ level: 60, msg: text });
        }
      }
    });
    void exited.then((code) =>
      reject(new Error(`the daemon exited (${code}) before it listened:\n${logs.map((l) => l.msg).join('\n')}`)),
    );
  });
  const get = async (path: string, timeoutMs = 2_000, token?: string) => {
    const response = await fetch(`${url}${path}`, {
      signal: AbortSignal.timeout(timeoutMs),
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
    return { status: response.status, body: await response.text() };
  };
  return {
    url,
    child,
    logs,
    get,
    async metric(series) {
      const { body } = await get('/metrics', 5_000);
      const line = body.split('\n').find((l) => l.startsWith(`${series} `));
      if (!line) throw new Error(`no series ${series} in /metrics`);
      return Number(line.slice(series.length + 1));
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** An HTTP target that answers 200 on /s/<id> and counts the requests per id: the probes really made. */
export async function startCountingTarget(): Promise<{
  url: string;
  count(id?: string): number;
  close(): Promise<void>;
}> {
  const counts = new Map<string, number>();
  const server = createServer((request, response) => {
    const id = request.url!.slice(3);
    counts.set(id, (counts.get(id) ?? 0) + 1);
    response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: (id) => (id === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(id) ?? 0)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A daemon configuration with `servers` servers probed over HTTP at 1 s against a counting target's /s/<id>,
 * storing as `storage` (a YAML flow mapping), with its state and reports in `dir`, listening on a free port.
 */
export function fleetConfigYaml(servers: number, storage: string, dir: string, targetUrl: string): string {
  const list = Array.from(
    { length: servers },
    (_, i) => `      - { id: s${i}, name: S${i}, checks: [{ kind: http, url: "${targetUrl}/s/s${i}" }] }`,
  ).join('\n');
  return `storage: ${storage}
state: { path: ${join(dir, 'state.db')} }
probing: { location: waw, interval: 1s, timeout: 800ms }
http: { listen: 127.0.0.1, port: 0 }
reports: { dir: ${join(dir, 'reports')} }
customers:
  - id: fleet
    name: Fleet
    tier: gold
    servers:
${list}
`;
}
