// Several agents on one InfluxDB, as deployed: waw closes (roles probe, close, api), ams probes, and fra is split
// in two shards. Real daemon processes, one real influxd, a loopback target that fails for chosen locations. The
// closing instance's outages apply the quorum (2 of 3 fresh locations, the SLA core's default), the two fra shards
// probe every check exactly once between them, and a close waits for every expected agent and names the one behind.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { computeServersAvailability } from '../../src/close/compute.js';
import { shardOf } from '../../src/scheduler/shard.js';
import { monthContaining, previousMonth } from '../../src/sla/month.js';
import { SqliteOperatorRecords } from '../../src/state/operator-records.js';
import { InfluxQLClient } from '../../src/store/influx/influxql.js';
import { InfluxRunReader } from '../../src/store/influx/run-reader.js';
import { CLOSE_EXIT } from '../../src/commands/close-output.js';
import { runCli } from '../support/cli.js';
import { type DaemonProcess, startDaemonProcess } from '../support/daemon-process.js';
import { influxSuite, testConnection } from '../support/influx-suite.js';

const TOKEN = 'agents-token-0123456789abcdef';
const SERVERS = ['s-ok', 's-one', 's-two', 's-all', 's-5', 's-6', 's-7', 's-8'];
/** Where each server fails during the failure phase. */
const FAILS_AT: Record<string, string[]> = {
  's-one': ['ams'],
  's-two': ['ams', 'fra'],
  's-all': ['waw', 'ams', 'fra'],
};

const suite = influxSuite();
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Answers /<agent>/<location>/<server>: 503 while the server fails at that location, else 200; counts per path. */
async function startLocationTarget() {
  let failing = false;
  const counts = new Map<string, number>();
  const server = createServer((request, response) => {
    const [, agent = '', location = '', id = ''] = (request.url ?? '').split('/');
    counts.set(`${agent}/${id}`, (counts.get(`${agent}/${id}`) ?? 0) + 1);
    response.statusCode = failing && FAILS_AT[id]?.includes(location) ? 503 : 200;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fail: (on: boolean) => {
      failing = on;
    },
    count: (agent: string, id: string) => counts.get(`${agent}/${id}`) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function agentConfig(options: {
  agent: string;
  location: string;
  shard?: string;
  roles: string;
  agents?: string[];
  influxUrl: string;
  database: string;
  targetUrl: string;
}): string {
  const dir = mkdtempSync(join(tmpdir(), `uc-agent-${options.agent}-`));
  dirs.push(dir);
  const path = join(dir, 'config.yaml');
  writeFileSync(
    path,
    `roles: ${options.roles}
${options.agents ? `agents: [${options.agents.join(', ')}]` : ''}
storage:
  kind: influxdb
  path: ${join(dir, 'outbox.db')}
  influxdb: { url: "${options.influxUrl}", apiVersion: 1, database: ${options.database} }
state: { path: ${join(dir, 'state.db')} }
reports: { dir: ${join(dir, 'reports')} }
probing: { location: ${options.location}, shard: "${options.shard ?? '1/1'}", interval: 1s, timeout: 800ms }
sla: { evidenceWait: 0s }
http: { listen: 127.0.0.1, port: 0, token: "${TOKEN}" }
customers:
  - id: acme
    name: ACME
    tier: gold
    servers:
${SERVERS.map((id) => `      - { id: ${id}, name: ${id}, checks: [{ kind: http, url: "${options.targetUrl}/${options.agent}/${options.location}/${id}" }] }`).join('\n')}
`,
  );
  return path;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('three locations, one of them in two shards, on one InfluxDB', () => {
  it('the closing instance applies the quorum to every location; shards split the checks; a close waits for every agent', async () => {
    const database = await suite.database('agents');
    const target = await startLocationTarget();
    const common = { influxUrl: suite.influxd.url, database, targetUrl: target.url };
    const expected = ['waw', 'ams', 'fra-1-of-2', 'fra-2-of-2'];
    const closerConfig = agentConfig({
      ...common,
      agent: 'waw',
      location: 'waw',
      roles: '[probe, close, api]',
      agents: [...expected, 'lis'], // lis never runs: a close must name it
    });
    const daemons: DaemonProcess[] = [];
    try {
      const started = await Promise.all([
        startDaemonProcess(closerConfig),
        startDaemonProcess(agentConfig({ ...common, agent: 'ams', location: 'ams', roles: '[probe]' })),
        startDaemonProcess(
          agentConfig({ ...common, agent: 'fra-1-of-2', location: 'fra', shard: '1/2', roles: '[probe]' }),
        ),
        startDaemonProcess(
          agentConfig({ ...common, agent: 'fra-2-of-2', location: 'fra', shard: '2/2', roles: '[probe]' }),
        ),
      ]);
      daemons.push(...started);
      const [closer] = started as [DaemonProcess, ...DaemonProcess[]];
      const fromMs = Date.now();
      await sleep(4_000);
      target.fail(true);
      await sleep(7_000);
      target.fail(false);
      await sleep(4_000);
      const toMs = Date.now();

      // A close of last month waits for every expected agent: lis never wrote a heartbeat, so it is held.
      const lastMonth = previousMonth(monthContaining(Date.now(), 'Europe/Warsaw'));
      const held = await fetch(`${closer.url}/api/v1/months/${lastMonth}/close`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(held.status).toBe(503);
      const heldBody = (await held.json()) as { error: { code: string; message: string } };
      expect(heldBody.error.code).toBe('EVIDENCE_INCOMPLETE');
      expect(heldBody.error.message).toContain('agent lis has written no heartbeat to InfluxDB');
      for (const agent of expected) expect(heldBody.error.message).not.toContain(`agent ${agent} `);

      // Every agent stops the way a deploy stops it: what it probed reaches InfluxDB, its last heartbeat says so.
      for (const daemon of started.slice(1)) expect(await daemon.stop()).toBe(0);

      // Heartbeats: one series per agent with its location and shard, forwarded through the end of the run.
      const influxql = new InfluxQLClient(testConnection({ url: suite.influxd.url, database }));
      const beats = await influxql.query('SELECT * FROM uptime_credits_agents GROUP BY * ORDER BY time DESC LIMIT 1');
      const byAgent = new Map(beats.map((s) => [s.tags?.agent, s]));
      expect([...byAgent.keys()].sort()).toEqual([...expected].sort());
      expect(byAgent.get('fra-2-of-2')?.tags).toEqual({ agent: 'fra-2-of-2', location: 'fra', shard: '2/2' });
      for (const agent of expected.slice(1)) {
        const series = byAgent.get(agent)!;
        const forwarded = Number(series.values[0]![series.columns.indexOf('forwarded_through_ms')]);
        expect(forwarded).toBeGreaterThanOrEqual(toMs);
        expect(Number(series.values[0]![series.columns.indexOf('parked')])).toBe(0);
      }

      // The two fra shards: every check probed by exactly the agent whose share it is, never by both.
      for (const id of SERVERS) {
        const owner = `fra-${shardOf(id, 'http', 2)}-of-2`;
        const other = owner === 'fra-1-of-2' ? 'fra-2-of-2' : 'fra-1-of-2';
        expect(target.count(owner, id), `${id} by ${owner}`).toBeGreaterThanOrEqual(10);
        expect(target.count(other, id), `${id} by ${other}`).toBe(0);
      }
      expect(new Set(SERVERS.map((id) => shardOf(id, 'http', 2))).size).toBe(2); // both shards have work
      // And in InfluxDB one fra observation per probe: no two of a server within half an interval.
      const fraTimes = await influxql.query(
        `SELECT "up" FROM uptime_observation WHERE location = 'fra' AND time >= ${fromMs}ms GROUP BY server`,
      );
      expect(fraTimes.map((s) => s.tags?.server).sort()).toEqual([...SERVERS].sort());
      for (const series of fraTimes) {
        const times = series.values.map((row) => Number(row[0]));
        expect(times.slice(1).every((t, k) => t - times[k]! >= 500)).toBe(true);
      }

      // The closing instance reads every location from InfluxDB and applies the quorum of 2 of 3.
      const outagesResponse = await fetch(
        `${closer.url}/api/v1/outages?from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}`,
        { headers: { authorization: `Bearer ${TOKEN}` } },
      );
      expect(outagesResponse.status).toBe(200);
      const { outages } = (await outagesResponse.json()) as {
        outages: { server: string; from: string; to: string; durationMs: number }[];
      };
      const downServers = [...new Set(outages.map((o) => o.server))].sort();
      // Down where at least two locations saw it down: s-two (ams, fra) and s-all; s-one (ams alone) never.
      expect(downServers).toEqual(['s-all', 's-two']);
      for (const outage of outages) {
        expect(outage.durationMs).toBeGreaterThan(0);
        expect(outage.durationMs).toBeLessThanOrEqual(8_000);
      }
      // Exactly what the SLA core computes from the same observations, read here independently of the daemon.
      const config = loadConfig(closerConfig);
      const operatorRecords = SqliteOperatorRecords.open(config.state.path);
      try {
        const influx = new InfluxQLClient(testConnection({ url: suite.influxd.url, database }));
        const store = new InfluxRunReader((q) => influx.query(q), 'uptime_observation');
        const availability = await computeServersAvailability(
          config,
          { store, operatorRecords },
          { fromMs, toMs },
          SERVERS,
        );
        expect(
          [...availability].flatMap(([server, a]) =>
            a.outages.map((o) => ({
              server,
              from: new Date(o.fromMs).toISOString(),
              to: new Date(o.toMs).toISOString(),
              durationMs: o.toMs - o.fromMs,
            })),
          ),
        ).toEqual(outages);
        // The one-location failure is not downtime, yet it is in the store: ams saw s-one down.
        const amsDown = await influx.query(
          `SELECT count("up") FROM uptime_observation WHERE location = 'ams' AND server = 's-one' AND "up" = 0`,
        );
        expect(Number(amsDown[0]?.values[0]?.[1])).toBeGreaterThanOrEqual(3);
        expect(availability.get('s-one')?.downtimeMs).toBe(0);
      } finally {
        operatorRecords.close();
      }
      // A close from the command line waits for the same agents and names the same one.
      await closer.stop();
      const cli = await runCli(['report', '--month', lastMonth, '-c', closerConfig]);
      expect(cli.code).toBe(CLOSE_EXIT.tryLater);
      expect(cli.stdout + cli.stderr).toContain('agent lis has written no heartbeat to InfluxDB');
    } finally {
      await Promise.all(daemons.map((d) => d.stop()));
      await target.close();
    }
  }, 90_000);
});
