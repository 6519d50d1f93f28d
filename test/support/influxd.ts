// A real InfluxDB 1.x server (Debian's influxd) on a free loopback port with a temporary data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface Influxd {
  url: string;
  database: string;
  /** Kills the server abruptly (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Runs an InfluxQL statement against the database. */
  query(statement: string): Promise<{ columns: string[]; values: unknown[][] }[]>;
  stop(): Promise<void>;
}

/** Starts influxd; fails loudly when it is not installed (.ci/run installs Debian's influxdb package). */
export async function startInfluxd(database = 'uptime'): Promise<Influxd> {
  const dir = mkdtempSync(join(tmpdir(), 'uc-influxd-'));
  const [httpPort, bindPort] = [await freePort(), await freePort()];
  const configPath = join(dir, 'influxdb.conf');
  writeFileSync(
    configPath,
    `reporting-disabled = true
bind-address = "127.0.0.1:${bindPort}"
[meta]
  dir = "${join(dir, 'meta')}"
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`,
  );
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;

  const launch = async () => {
    child = spawn('influxd', ['run', '-config', configPath], { stdio: 'ignore' });
    const spawned = child;
    const failed = new Promise<never>((_, reject) =>
      spawned.once('error', (error) =>
        reject(new Error(`cannot start influxd (install Debian's influxdb package): ${error.message}`)),
      ),
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await Promise.race([
        fetch(`${url}/ping`).then(
          (r) => r.status === 204,
          () => false,
        ),
        failed,
      ]);
      if (ok) return;
      if (Date.now() > deadline) throw new Error('influxd did not answer /ping within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const query = async (statement: string) => {
    const response = await fetch(`${url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ db: database, q: statement, epoch: 'ms' }),
    });
    const json = (await response.json()) as {
      results: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[];
    };
    if (json.results[0]?.error) throw new Error(json.results[0].error);
    return json.results[0]?.series ?? [];
  };
  const kill = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGKILL');
    await exited;
  };

  await launch();
  await query(`CREATE DATABASE "${database}"`);
  return {
    url,
    database,
    kill,
    restart: launch,
    query,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
