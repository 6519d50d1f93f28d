// The fault drill of issue 13, by hand at the fault run's scale: the daemon with 300 checks at 1 s against a
// loopback target, writing to a real influxd through the fault proxy. InfluxDB answers 503 for 15 s, 413 over
// 200 KB for 30 s and 400 for 15 s; the daemon is SIGKILLed, restarted and SIGKILLed again. A second daemon runs
// on a 6 MB tmpfs that fills up for 20 s. Prints probes made against observations stored.
// Run as root: `npx tsx test/bench/fault-drill.ts`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/logging.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { influxConnection } from '../../src/store/influx/connection.js';
import { OutboxedInfluxStore } from '../../src/store/influx/influx-store.js';
import {
  fleetConfigYaml,
  startCountingTarget,
  startDaemonProcess,
  type DaemonProcess,
} from '../support/daemon-process.js';
import { startFaultProxy, type FaultMode } from '../support/fault-proxy.js';
import { startInfluxd } from '../support/influxd.js';
import { mountSmallDisk } from '../support/small-disk.js';

const CHECKS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (text: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);

async function health(daemon: DaemonProcess): Promise<string> {
  const started = performance.now();
  const ready = await daemon.get('/readyz', 2_000).then(
    (r) => `${r.status} ${r.body.slice(0, 140)}`,
    (e: Error) => `no answer: ${e.message}`,
  );
  const backlog = await daemon.metric('uptime_credits_outbox_backlog_observations').catch(() => NaN);
  return `readyz ${ready} (${Math.round(performance.now() - started)} ms), backlog ${backlog}`;
}

const errorLogs = (daemon: DaemonProcess) => daemon.logs.filter((l) => l.level >= 50).length;

async function influxDrill(target: Awaited<ReturnType<typeof startCountingTarget>>): Promise<void> {
  const influxd = await startInfluxd('uptime');
  const proxy = await startFaultProxy(influxd.url);
  const dir = mkdtempSync(join(tmpdir(), 'uc-drill-'));
  try {
    writeFileSync(
      join(dir, 'config.yaml'),
      fleetConfigYaml(
        CHECKS,
        `{ kind: influxdb, path: ${join(dir, 'outbox.db')}, influxdb: { url: "${proxy.url}", apiVersion: 1, database: uptime, timeout: 5s } }`,
        dir,
        target.url,
      ),
    );
    const from = target.count();
    let daemon = await startDaemonProcess(join(dir, 'config.yaml'));
    await sleep(10_000);
    say(`normal: ${await health(daemon)}`);
    const phase = async (mode: FaultMode, text: string, seconds: number) => {
      proxy.setMode(mode);
      say(text);
      for (let i = 0; i < seconds / 5; i++) {
        await sleep(5_000);
        say(`  ${await health(daemon)}`);
      }
    };
    // InfluxDB down first, so a backlog builds up and its batches (~530 KB at 5,000 lines) meet the 413.
    await phase({ kind: 'status', status: 503 }, 'InfluxDB answers 503 for 15 s', 15);
    await phase({ kind: 'max-body', bytes: 200_000 }, 'InfluxDB answers 413 over 200 KB for 30 s', 30);
    await phase({ kind: 'status', status: 400 }, 'InfluxDB answers 400 (naming no line) for 15 s', 15);
    proxy.setMode({ kind: 'pass' });
    await sleep(5_000);
    say(`pass: ${await health(daemon)}; error log lines so far ${errorLogs(daemon)}`);
    await daemon.stop('SIGKILL');
    say('SIGKILL; restart');
    daemon = await startDaemonProcess(join(dir, 'config.yaml'));
    await sleep(5_000);
    await daemon.stop('SIGKILL');
    say('SIGKILL again');
    const probed = target.count() - from;
    const connection = influxConnection({
      url: influxd.url,
      apiVersion: 1,
      database: 'uptime',
      org: '',
      measurement: 'uptime_observation',
      batchSize: 5_000,
      timeout: 10_000,
    });
    const store = OutboxedInfluxStore.open(join(dir, 'outbox.db'), connection, createLogger(), {
      batchSize: 5_000,
      gapFloorMs: 90_000,
    });
    await store.drain(120_000);
    const parked = store.health().parked;
    await store.close();
    const count = async (where: string) =>
      Number(
        (await influxd.query(`SELECT count("up") FROM "uptime".."uptime_observation" WHERE ${where}`))[0]
          ?.values[0]?.[1] ?? 0,
      );
    const [ups, downs] = [await count('"up" = 1'), await count('"up" = 0')];
    say(
      `InfluxDB drill: ${probed} probes made, ${ups + downs} stored (${downs} down), ${parked} parked, ${probed - ups - downs - parked} lost over two SIGKILLs; write requests ${proxy.stats.writeRequests} (${[...proxy.stats.byStatus].map(([s, n]) => `${s}: ${n}`).join(', ')})`,
    );
  } finally {
    await proxy.close();
    await influxd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function diskDrill(target: Awaited<ReturnType<typeof startCountingTarget>>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'uc-drill-disk-'));
  const disk = mountSmallDisk(6);
  try {
    writeFileSync(
      join(dir, 'config.yaml'),
      fleetConfigYaml(CHECKS, `{ kind: embedded, path: ${join(disk.path, 'store.db')} }`, dir, target.url),
    );
    const from = target.count();
    const daemon = await startDaemonProcess(join(dir, 'config.yaml'));
    await sleep(5_000);
    disk.fill();
    say('disk full for 20 s');
    const fullFrom = target.count();
    for (let i = 0; i < 4; i++) {
      await sleep(5_000);
      say(
        `  ${await health(daemon)}, healthz ${await daemon.get('/healthz', 2_000).then(
          (r) => r.status,
          () => 'no answer',
        )}`,
      );
    }
    say(`  probes while full: ${target.count() - fullFrom} in 20 s`);
    disk.free();
    await sleep(20_000);
    say(`space back: ${await health(daemon)}; error log lines ${errorLogs(daemon)}`);
    await daemon.stop('SIGTERM');
    const probed = target.count() - from;
    const store = EmbeddedObservationStore.open(join(disk.path, 'store.db'));
    let stored = 0;
    let down = 0;
    for (let i = 0; i < CHECKS; i++) {
      const observations = await store.readObservations(`s${i}`, 0, Date.now() + 1);
      stored += observations.length;
      down += observations.filter((o) => !o.up).length;
    }
    await store.close();
    say(
      `disk drill: ${probed} probes made, ${stored} stored, ${down} down (false downtime), ${probed - stored} not stored`,
    );
  } finally {
    disk.unmount();
    rmSync(dir, { recursive: true, force: true });
  }
}

const target = await startCountingTarget();
try {
  await influxDrill(target);
  await diskDrill(target);
} finally {
  await target.close();
}
