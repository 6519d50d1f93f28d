// Probe throughput: our probe loop (in its own process) against N loopback HTTP targets at a 10 s interval.
import { forkChild } from './children.js';
import type { FigureLog } from './figures.js';
import { writeFleetConfig } from './fleet.js';
import type { ProberResult, ProberTask } from './prober.js';

/** Where the targets live, shared by our prober and the peer so both probe the same URLs. */
export interface Targets {
  ports: number[];
  url(i: number): string;
}

export interface ProbeBenchOptions {
  dir: string;
  targets: Targets;
  sizes: number[];
  warmupMs: number;
  windowMs: number;
  /** Figure name prefix: `probe`, or `probe_new_connections` when the targets close every connection. */
  label: string;
  /** Extra node flags for the prober (e.g. --cpu-prof). */
  nodeFlags: string[];
}

/** Runs the prober once per size and logs its figures. */
export async function benchProbing(options: ProbeBenchOptions, log: FigureLog): Promise<Map<number, number>> {
  const cpuPerThousand = new Map<number, number>();
  for (const n of options.sizes) {
    const configPath = writeFleetConfig({
      dir: options.dir,
      servers: n,
      targetUrl: options.targets.url,
      storage: { kind: 'embedded', path: `${options.dir}/unused-${n}.db` },
      fileName: `probe-${n}.yaml`,
    });
    const prober = forkChild<never, ProberResult>('prober', [], options.nodeFlags);
    prober.send({ configPath, warmupMs: options.warmupMs, windowMs: options.windowMs } satisfies ProberTask);
    const r = await prober.result;
    await new Promise((resolve) =>
      prober.process.exitCode !== null ? resolve(undefined) : prober.process.once('exit', resolve),
    );
    const seconds = r.windowMs / 1_000;
    const cpuSeconds = (r.cpuUserMs + r.cpuSystemMs) / 1_000;
    const perThousand = r.probes === 0 ? NaN : (cpuSeconds / r.probes) * 1_000;
    cpuPerThousand.set(n, perThousand);
    const at = `${options.label}.n${n}`;
    log.add(`${at}.probes_per_second`, r.probes / seconds, 'probes/s');
    log.add(`${at}.expected_per_second`, n / 10, 'probes/s');
    log.add(`${at}.up_ratio`, r.probes === 0 ? 0 : r.up / r.probes, 'ratio');
    log.add(`${at}.lag_p50`, r.lagP50Ms, 'ms');
    log.add(`${at}.lag_p99`, r.lagP99Ms, 'ms');
    log.add(`${at}.lag_max`, r.lagMaxMs, 'ms');
    log.add(`${at}.event_loop_delay_p99`, r.eventLoopDelayP99Ms, 'ms');
    log.add(`${at}.cpu_per_1000_probes`, perThousand, 's');
    log.add(`${at}.cpu_utilisation`, cpuSeconds / seconds, 'cores');
    log.add(`${at}.rss`, r.rssBytes / 1_048_576, 'MiB');
    log.add(`${at}.max_rss`, r.maxRssBytes / 1_048_576, 'MiB');
  }
  return cpuPerThousand;
}
