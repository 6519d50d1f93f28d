// Bench child: our probe loop alone in a process, probing a generated fleet. Reports what happened inside a
// measured window after a warm-up: probes, schedule lag of each, CPU of this process only, memory.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging.js';
import { createProbeLoop } from '../../src/scheduler/probe-loop.js';
import type { Observation } from '../../src/sla/types.js';
import { fromParent, tellParent } from './children.js';
import { percentile, sleep } from './figures.js';

/** What the parent asks the prober to do. */
export interface ProberTask {
  configPath: string;
  warmupMs: number;
  windowMs: number;
}

/** What the prober measured in its window. */
export interface ProberResult {
  checks: number;
  probes: number;
  up: number;
  windowMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  eventLoopDelayP99Ms: number;
  rssBytes: number;
  maxRssBytes: number;
  observationsWritten: number;
}

const task = await fromParent<ProberTask>();
const config = loadConfig(task.configPath);
let measuring = false;
const lags: number[] = [];
let up = 0;
let observationsWritten = 0;
// Observations are counted and dropped: this measures probing, as blackbox_exporter (which stores nothing) does.
const sink = {
  async write(observations: readonly Observation[]) {
    observationsWritten += observations.length;
    return { stored: observations.length, duplicates: 0, conflicts: 0 };
  },
};
const loop = createProbeLoop({
  config,
  store: sink,
  logger: createLogger('bench-prober'),
  onOutcome(outcome) {
    if (!measuring) return;
    lags.push(outcome.lagMs);
    if (outcome.up) up++;
  },
});
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loop.start();
await sleep(task.warmupMs);
loopDelay.enable();
measuring = true;
const cpuBefore = process.cpuUsage();
const startedMs = performance.now();
await sleep(task.windowMs);
const cpu = process.cpuUsage(cpuBefore);
const windowMs = performance.now() - startedMs;
measuring = false;
loopDelay.disable();
const rssBytes = process.memoryUsage().rss;
await loop.stop();
const result: ProberResult = {
  checks: loop.stats().checks,
  probes: lags.length,
  up,
  windowMs,
  cpuUserMs: cpu.user / 1_000,
  cpuSystemMs: cpu.system / 1_000,
  lagP50Ms: percentile(lags, 50),
  lagP99Ms: percentile(lags, 99),
  lagMaxMs: percentile(lags, 100),
  eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  rssBytes,
  maxRssBytes: process.resourceUsage().maxRSS * 1_024,
  observationsWritten,
};
await tellParent('result', result);
process.disconnect();
