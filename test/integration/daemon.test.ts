// The real daemon on loopback: probes real targets, serves health and a promtool-clean /metrics.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging.js';
import { startDaemon, type Daemon } from '../../src/main.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { promtoolProblems } from '../support/promtool.js';
import { closedPort, startHttpTarget, type Target } from '../support/targets.js';

async function waitFor<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('daemon', () => {
  let dir: string;
  let target: Target;
  let daemon: Daemon;
  let dbPath: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uc-daemon-'));
    target = await startHttpTarget();
    const downPort = await closedPort();
    dbPath = join(dir, 'store.db');
    writeFileSync(
      join(dir, 'config.yaml'),
      `
storage: { kind: embedded, path: ${dbPath} }
probing: { location: waw, interval: 1s, timeout: 500ms }
http: { listen: 127.0.0.1, port: 0 }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers:
      - { id: up-1, name: Up, checks: [{ kind: http, url: "${target.url}/ok" }] }
      - { id: down-1, name: Down, checks: [{ kind: tcp, host: 127.0.0.1, port: ${downPort} }] }
`,
    );
    daemon = await startDaemon({ config: loadConfig(join(dir, 'config.yaml')), logger: createLogger() });
  });
  afterAll(async () => {
    await daemon?.stop();
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${daemon.address}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${daemon.address}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('serves live probe and SLA series that promtool accepts', async () => {
    const text = await waitFor('both probes in /metrics', async () => {
      const body = await (await fetch(`${daemon.address}/metrics`)).text();
      const probed = body.includes('probe_success{customer="acme",server="up-1"') && body.includes('probe_success{customer="acme",server="down-1"');
      return probed && body.includes('uptime_credits_sla_uptime_ratio') ? body : undefined;
    });
    expect(text).toContain('probe_success{customer="acme",server="up-1",check="http",location="waw"} 1');
    expect(text).toContain('probe_success{customer="acme",server="down-1",check="tcp",location="waw"} 0');
    expect(text).toContain('probe_http_status_code{customer="acme",server="up-1",check="http",location="waw"} 200');
    expect(text).toMatch(/uptime_credits_sla_downtime_budget_seconds\{customer="acme",server="up-1",below="99.8"\} \d/);
    expect(text).toContain('process_cpu_seconds_total');
    expect(promtoolProblems(text)).toBe('');
  });

  it('stores every probe as an observation', async () => {
    await daemon.stop();
    const store = EmbeddedObservationStore.open(dbPath);
    try {
      const up = await store.readObservations('up-1', 0, Date.now() + 1);
      const down = await store.readObservations('down-1', 0, Date.now() + 1);
      expect(up.length).toBeGreaterThan(0);
      expect(up.every((o) => o.up && o.location === 'waw' && o.check === 'http')).toBe(true);
      expect(down.every((o) => !o.up && o.error === 'refused')).toBe(true);
    } finally {
      await store.close();
    }
  });
});
