// The peer: Debian's prometheus-blackbox-exporter probing the same targets at the same rate through /probe,
// driven by a loop here. Its CPU is read from /proc/<pid>/stat (utime + stime), so the driver's is not counted.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { FigureLog } from './figures.js';
import { sleep } from './figures.js';
import type { Targets } from './probe.js';
import { freePort } from '../support/ports.js';

const EXPORTER = '/usr/bin/prometheus-blackbox-exporter';
const INTERVAL_MS = 10_000;
const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux architecture Debian ships

export interface PeerBenchOptions {
  dir: string;
  targets: Targets;
  sizes: number[];
  warmupMs: number;
  windowMs: number;
  /** Our CPU seconds per 1,000 probes by size, for the ratio. */
  ours: Map<number, number>;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND; // fields 14 and 15 of proc(5)
}

function rssBytesOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1_024 : 0;
}

/** Runs blackbox_exporter once per size and logs its figures beside ours. */
export async function benchPeer(options: PeerBenchOptions, log: FigureLog): Promise<void> {
  if (!existsSync(EXPORTER)) throw new Error(`${EXPORTER} is missing: apt-get install prometheus-blackbox-exporter`);
  const configPath = join(options.dir, 'blackbox.yml');
  writeFileSync(
    configPath,
    'modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n',
  );
  const port = await freePort();
  const exporter = spawn(
    EXPORTER,
    [`--config.file=${configPath}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const pid = exporter.pid!;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 256, keepAliveTimeout: 30_000 });
  try {
    for (let attempt = 0; ; attempt++) {
      const ok = await pool.request({ path: '/-/healthy', method: 'GET' }).then(
        async (r) => {
          await r.body.dump();
          return r.statusCode === 200;
        },
        () => false,
      );
      if (ok) break;
      if (attempt > 100) throw new Error('blackbox_exporter did not become healthy within 10 s');
      await sleep(100);
    }
    for (const n of options.sizes) {
      const paths = Array.from(
        { length: n },
        (_, i) => `/probe?module=http_2xx&target=${encodeURIComponent(options.targets.url(i))}`,
      );
      let measuring = false;
      let probes = 0;
      let up = 0;
      let failedRequests = 0;
      const probeOnce = async (path: string) => {
        try {
          const response = await pool.request({ path, method: 'GET' });
          const text = await response.body.text();
          if (!measuring) return;
          probes++;
          if (/^probe_success 1$/m.test(text)) up++;
        } catch {
          failedRequests++;
        }
      };
      // Target i is due at i * interval / n within each interval: the same even spread as our phases give.
      const startedMs = performance.now();
      const endMs = startedMs + options.warmupMs + options.windowMs;
      let launched = 0;
      let cpuBefore = 0;
      let windowStartMs = 0;
      while (performance.now() < endMs) {
        const now = performance.now();
        if (!measuring && now - startedMs >= options.warmupMs) {
          measuring = true;
          cpuBefore = cpuSecondsOf(pid);
          windowStartMs = now;
        }
        const due = Math.floor(((now - startedMs) * n) / INTERVAL_MS);
        for (; launched < due; launched++) void probeOnce(paths[launched % n]!);
        await sleep(5);
      }
      const cpuSeconds = cpuSecondsOf(pid) - cpuBefore;
      const seconds = (performance.now() - windowStartMs) / 1_000;
      measuring = false;
      const rss = rssBytesOf(pid);
      await sleep(500); // let the last probes finish before the next size starts
      const perThousand = probes === 0 ? NaN : (cpuSeconds / probes) * 1_000;
      const at = `peer.n${n}`;
      log.add(`${at}.probes_per_second`, probes / seconds, 'probes/s');
      log.add(`${at}.up_ratio`, probes === 0 ? 0 : up / probes, 'ratio');
      log.add(`${at}.failed_requests`, failedRequests, 'requests');
      log.add(`${at}.cpu_per_1000_probes`, perThousand, 's');
      log.add(`${at}.cpu_utilisation`, cpuSeconds / seconds, 'cores');
      log.add(`${at}.rss`, rss / 1_048_576, 'MiB');
      const ours = options.ours.get(n);
      if (ours !== undefined) log.add(`peer.n${n}.ours_to_peer_cpu_ratio`, ours / perThousand, 'ratio');
    }
  } finally {
    await pool.close();
    const exited = new Promise((resolve) => exporter.once('exit', resolve));
    exporter.kill('SIGTERM');
    await exited;
  }
}
