// roles: with one daemon per probing location, only the instance with the close role closes months and exports the
// SLA series the alert rules read; an agent without the api role serves no API. Two real daemons on stores that hold last month's observations:
// the one with the role records a close at once (held for review: last month was barely observed), the other
// records nothing and says it has no role.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging.js';
import { startDaemon, type Daemon } from '../../src/main.js';
import { monthContaining, monthWindow, previousMonth } from '../../src/sla/month.js';
import { SqliteCloseRecords } from '../../src/state/close-records.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function daemonWithLastMonth(
  closeRole: boolean,
): Promise<{ daemon: Daemon; statePath: string; lastMonth: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'uc-role-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'config.yaml'),
    `
storage: { kind: embedded, path: ${join(dir, 'store.db')} }
reports: { dir: ${join(dir, 'reports')} }
probing: { location: ${closeRole ? 'waw' : 'fra'}, interval: 60s }
roles: ${closeRole ? '[probe, close, api]' : '[probe]'}
sla: { closeDelay: 0s, evidenceWait: 0s }
http: { listen: 127.0.0.1, port: 0 }
customers:
  - { id: acme, name: ACME, tier: gold, servers: [{ id: web-1, name: Web }] }
`,
  );
  const config = loadConfig(join(dir, 'config.yaml'));
  const lastMonth = previousMonth(monthContaining(Date.now(), config.timeZone));
  const store = EmbeddedObservationStore.open(config.storage.path);
  const fromMs = monthWindow(lastMonth, config.timeZone).fromMs + 3_600_000;
  await store.write(
    Array.from({ length: 10 }, (_, i) => ({
      timeMs: fromMs + i * 60_000,
      server: 'web-1',
      location: 'waw',
      check: 'http',
      up: true,
    })),
  );
  await store.close();
  const daemon = await startDaemon({ config, logger: createLogger() });
  return { daemon, statePath: config.state.path, lastMonth };
}

async function metricsOf(daemon: Daemon): Promise<string> {
  return (await fetch(`${daemon.address}/metrics`)).text();
}

describe('roles', () => {
  it('only the instance with the close role closes a due month and says so in /metrics', async () => {
    const closer = await daemonWithLastMonth(true);
    const prober = await daemonWithLastMonth(false);
    try {
      const records = SqliteCloseRecords.open(closer.statePath);
      try {
        const deadline = Date.now() + 15_000;
        while (!records.month(closer.lastMonth) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(records.month(closer.lastMonth)?.state).toBe('needs-review');
      } finally {
        records.close();
      }
      expect(await metricsOf(closer.daemon)).toContain('uptime_credits_close_role 1\n');
      expect(await metricsOf(prober.daemon)).toContain('uptime_credits_close_role 0\n');
      // The SLA series once per deployment: the closer has them after its first refresh, the prober never.
      const deadline = Date.now() + 15_000;
      while (!(await metricsOf(closer.daemon)).includes('uptime_credits_sla_uptime_ratio{') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(await metricsOf(closer.daemon)).toMatch(/^uptime_credits_sla_uptime_ratio\{/m);
      expect(await metricsOf(prober.daemon)).not.toMatch(/^uptime_credits_sla_\w+\{/m);
      const api = await fetch(`${prober.daemon.address}/api/v1/servers`);
      expect(api.status).toBe(404);
      expect(await api.json()).toEqual({
        error: {
          code: 'NOT_FOUND',
          message: 'this instance does not have the api role (see roles in its configuration)',
        },
      });
    } finally {
      await closer.daemon.stop();
      await prober.daemon.stop();
    }
    // The closer's run started at once; the prober had as long and recorded nothing.
    const proberRecords = SqliteCloseRecords.open(prober.statePath);
    try {
      expect(proberRecords.months()).toEqual([]);
    } finally {
      proberRecords.close();
    }
  });
});
