import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../../src/config/http.js';
import { ConfigError, loadConfig, parseConfig } from '../../../src/config/load.js';
import { usableTokens } from '../../../src/http/auth.js';

const testdata = (name: string) => fileURLToPath(new URL(`./testdata/${name}`, import.meta.url));
/** The environment the fixtures are loaded with: API tokens they name by variable (the tests' own, not the shell's). */
const FIXTURE_ENV = {
  UC_TEST_SHORT_TOKEN: 'only-15-chars..',
  UC_TEST_TOKEN_A: 'token-a-0123456789abcdef',
  UC_TEST_TOKEN_B: 'token-b-0123456789abcdef',
};

function problemsOf(file: string): string[] {
  try {
    loadConfig(testdata(file), FIXTURE_ENV);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).file).toBe(testdata(file));
    return (error as ConfigError).problems;
  }
  throw new Error(`${file} loaded without error`);
}

describe('invalid configurations name the file, the key path and the reason', () => {
  it.each([
    ['invalid-unknown-key.yaml', ['probing.intervall: unknown key']],
    ['invalid-duration.yaml', ['probing.interval: "30 seconds" is not a duration such as 500ms, 30s, 5m, 1h, 2d']],
    ['invalid-tier.yaml', ['customers[0].tier: "diamond" is not a tier (known: silver, gold, platinum)']],
    ['invalid-check-url.yaml', ['customers[0].servers[0].checks[0].url: must be an http:// or https:// URL']],
    [
      'invalid-maintenance.yaml',
      [
        'maintenance[0].announcedAt: only announced maintenance is excluded from eligible time: give announcedAt (when the customer was told), or announced: true',
        'maintenance[1].from: "2026-10-10 02:00" is not an ISO-8601 time with an offset (e.g. 2026-10-03T02:00:00+02:00)',
      ],
    ],
    ['invalid-duplicate-server.yaml', ['customers[1].servers[0].id: "s1" is used by another server']],
    ['invalid-money.yaml', ['tiers.gold.serverFee: "300.001" is not an amount with at most 2 decimal places']],
    ['invalid-timezone.yaml', ['timezone: "Europe/Warszawa" is not a valid IANA time zone']],
    ['invalid-coverage.yaml', ['customers[0].servers[0].until: must be after since']],
    ['invalid-date.yaml', ['customers[0].servers[0].since: "2026-02-30" is not a date in the form YYYY-MM-DD']],
    ['invalid-duplicate-customer.yaml', ['customers[1].id: "acme" is used by another customer']],
    [
      'invalid-check-name.yaml',
      ['customers[0].servers[0].checks[2].name: "tcp-2" is used by another check of this server'],
    ],
    ['invalid-check-kind.yaml', ['customers[0].servers[0].checks[0].kind: must be one of http, tcp, tls, dns']],
    ['invalid-stale-after.yaml', ['probing.staleAfter: must be longer than probing.interval (60000 ms)']],
    ['invalid-version-month.yaml', ['tiers.gold.versions[0].from: "2026-13" is not a month in the form YYYY-MM']],
    [
      'invalid-version-order.yaml',
      ["tiers.gold.versions[1].from: must be after the previous version's month (2026-12)"],
    ],
    [
      'invalid-tier-history.yaml',
      ['customers[0].tierHistory[0].tier: "diamond" is not a tier (known: silver, gold, platinum)'],
    ],
    [
      'invalid-tier-history-order.yaml',
      ["customers[0].tierHistory[1].from: must be after the previous entry's month (2026-11)"],
    ],
    ['invalid-min-monitored.yaml', ['sla.minMonitoredPercent: "100.5" is above 100']],
    ['invalid-close-retry.yaml', ['sla.closeRetry: must be longer than 0']],
    [
      'invalid-credit-id.yaml',
      [
        'customers[1].servers[0].id: its credit id UC-<month>-shop-eu-1 is the same as that of server "eu-1" of customer "shop"; rename one',
      ],
    ],
    [
      'invalid-token-env-short.yaml',
      [
        'http.tokenEnv: the token in the environment variable UC_TEST_SHORT_TOKEN must be at least 16 characters (like http.token)',
      ],
    ],
    ['invalid-token-scope.yaml', ['http.tokens[0].scopes[1]: must be one of "read", "metrics", "close"']],
    ['invalid-token-duplicate.yaml', ['http.tokens[1].name: "ops" is used by another token']],
    [
      'invalid-token-both.yaml',
      ['http.token: give either http.tokens or the one-token shorthand (token, tokenEnv), not both'],
    ],
    [
      'invalid-open-metrics.yaml',
      [
        'http.protectMetrics: /metrics names customers and PLN amounts; listening on 0.0.0.0, set protectMetrics: true (and give Prometheus a token with the metrics scope), or publicMetrics: true to serve it to anyone who reaches the port',
      ],
    ],
    [
      'invalid-flush-interval.yaml',
      [
        'storage.influxdb.flushInterval: no longer used (the outbox forwards lines as soon as they are committed); remove it',
      ],
    ],
    [
      'invalid-metrics-locked.yaml',
      ['http.protectMetrics: no token in http.tokens has the metrics scope, so nothing could read /metrics'],
    ],
    [
      'invalid-types.yaml',
      [
        'probing.confirmations: must be a number',
        'customers[0].name: must be a string',
        'maintenance[0].from: "2026-02-30T02:00:00+02:00" is not a valid time',
      ],
    ],
    [
      'invalid-many.yaml',
      [
        'probing.confirmations: must be at least 1',
        'sla.creditBase: must be one of "server", "customer"',
        'customers[0].name: is required',
        'customers[0].servers: must have at least 1 item',
        'customers[0].phone: unknown key',
      ],
    ],
  ])('%s', (file, expected) => {
    expect(problemsOf(file)).toEqual(expected);
  });

  it('cross-checks report every problem at once', () => {
    // Schema-valid, so the cross-checks run: an unknown maintenance server and a custom tier missing keys.
    const text = `
customers:
  - { id: acme, name: ACME, tier: gold, servers: [{ id: s1, name: S1 }] }
tiers:
  diamond: { baseFee: 100 }
maintenance:
  - { server: s2, from: "2026-10-10T02:00:00+02:00", to: "2026-10-10T04:00:00+02:00", announced: true }
`;
    expect(() => parseConfig(text, '/etc/x.yaml')).toThrow(ConfigError);
    try {
      parseConfig(text, '/etc/x.yaml');
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'tiers.diamond.serverFee: is required for a tier that is not silver, gold or platinum',
        'tiers.diamond.brackets: is required for a tier that is not silver, gold or platinum',
        'maintenance[0].server: "s2" is not a configured server',
      ]);
      expect((error as Error).message).toContain('invalid configuration /etc/x.yaml:');
    }
  });

  it('roles, shards and agents: a shard names its agent, and each mistake is named', () => {
    const customers = `
customers:
  - { id: acme, name: ACME, tier: gold, servers: [{ id: s1, name: S1 }] }
`;
    const agent = parseConfig(`roles: [probe]\nprobing: { location: fra, shard: "2/4" }\n${customers}`, '/etc/x.yaml');
    expect(agent.roles).toEqual({ probe: true, close: false, api: false });
    expect(agent.probing).toMatchObject({ location: 'fra', shard: { index: 2, count: 4 }, agent: 'fra-2-of-4' });
    const problems = (text: string) => {
      try {
        parseConfig(`${text}\n${customers}`, '/etc/x.yaml');
      } catch (error) {
        return (error as ConfigError).problems;
      }
      throw new Error('loaded without error');
    };
    expect(problems('probing: { shard: "5/4" }')).toEqual([
      'probing.shard: the index must be between 1 and the count, e.g. "2/4"',
    ]);
    expect(problems('probing: { shard: "half" }')).toEqual(['probing.shard: must be "index/count", e.g. "2/4"']);
    expect(problems('roles: [probe, probe]')).toEqual(['roles: lists a role twice']);
    expect(problems('roles: [probe, api]\nagents: [waw]')).toEqual([
      'agents: only the instance with the close role waits for agents; remove it or add close to roles',
      'agents: agents share one InfluxDB (storage.kind: influxdb); the embedded store has only this process',
    ]);
    expect(problems('sla: { closeRole: false }')).toEqual([
      'sla.closeRole: replaced by the top-level `roles` (e.g. roles: [probe, api] on agents, roles: [probe, close, api] on the one instance that closes); remove it',
    ]);
  });

  it('a YAML syntax error gives line and column', () => {
    const [problem] = problemsOf('invalid-yaml.yaml');
    expect(problem).toBe('line 3, column 2: bad indentation of a mapping entry');
  });

  it('a key given twice is refused where the second one is', () => {
    const problems = (text: string) => {
      try {
        parseConfig(text, '/etc/x.yaml');
      } catch (error) {
        return (error as ConfigError).problems;
      }
      throw new Error('loaded without error');
    };
    expect(problems('timezone: Europe/Warsaw\nprobing:\n  location: waw\n  location: ams\n')).toEqual([
      'line 4, column 3: duplicated mapping key',
    ]);
    expect(problems('---\ntimezone: UTC\n---\ntimezone: UTC\n')).toEqual([
      'expected a single document in the stream, but found more',
    ]);
  });

  it('YAML 1.2 core scalars: dates stay text, yes/no are not booleans', () => {
    // A date-like `since` must reach the schema as the text written (a YAML 1.1 timestamp would be a Date), and an
    // unquoted `no` as a name is text, not false.
    const config = parseConfig(
      `customers:\n  - id: no\n    name: yes\n    tier: gold\n    servers:\n      - id: s1\n        name: S1\n        since: 2026-11-01\n        checks: [{ kind: tcp, host: 127.0.0.1, port: 22 }]\n`,
      '/etc/x.yaml',
    );
    expect(config.customers[0]).toMatchObject({ id: 'no', name: 'yes' });
    expect(config.servers.get('s1')?.sinceMs).toBe(Date.UTC(2026, 9, 31, 23));
  });

  it('a missing file says so', () => {
    expect(problemsOf('no-such-file.yaml')).toEqual(['cannot read the file: ENOENT']);
  });
});

describe('the example configuration', () => {
  const config = loadConfig(fileURLToPath(new URL('../../../config/uptime-credits.example.yaml', import.meta.url)));
  it('loads, with the seed tiers and resolved defaults', () => {
    expect(config.timeZone).toBe('Europe/Warsaw');
    expect(config.availability).toEqual({ confirmations: 3, staleAfterMs: 90_000, quorum: undefined });
    expect(config.tiers.get('platinum')).toMatchObject({ baseFeeGrosze: 30_000, serverFeeGrosze: 60_000 });
    expect(config.tiers.get('silver')!.brackets.map((b) => b.belowMicroPercent)).toEqual([
      99_400_000, 99_200_000, 99_000_000,
    ]);
  });
  it('resolves the close settings and the state database, relative to the working directory', () => {
    expect(config.state).toEqual({ path: resolve('data/state.db') });
    expect(config.sla).toEqual({
      creditBase: 'server',
      maxCreditPercentHundredths: undefined,
      closeDelayMs: 900_000,
      minMonitoredMicroPercent: 90_000_000,
      closeRetryMs: 300_000,
      evidenceWaitMs: 120_000,
      maintenanceNoticeMs: 0,
    });
    expect(config.roles).toEqual({ probe: true, close: true, api: true });
    expect(config.agents).toEqual([]);
    expect(config.probing).toMatchObject({ location: 'default', shard: { index: 1, count: 1 }, agent: 'default' });
    // The seed's reaction to a failure: Silver 2 h, Gold 1 h, Platinum 30 min.
    expect(Object.fromEntries(config.reactionTimesMs)).toEqual({
      silver: 7_200_000,
      gold: 3_600_000,
      platinum: 1_800_000,
    });
  });
  it('resolves coverage dates to local midnight and names checks', () => {
    const server = config.servers.get('oci-202')!;
    expect(new Date(server.sinceMs!).toISOString()).toBe('2026-10-14T22:00:00.000Z');
    expect(config.servers.get('oci-101')!.checks.map((c) => c.name)).toEqual(['web', 'port']);
    expect(config.servers.get('oci-201')!.checks.map((c) => c.name)).toEqual(['tcp']);
    expect(config.servers.get('oci-101')!.maintenance).toEqual([
      {
        server: 'oci-101',
        fromMs: Date.parse('2026-10-10T00:00:00Z'),
        toMs: Date.parse('2026-10-10T02:00:00Z'),
        reason: 'Kernel upgrade',
        announcedAtMs: Date.parse('2026-10-07T07:00:00Z'),
      },
    ]);
  });
});

describe('tier overrides', () => {
  it('replace single fees, keep the rest of the seed, and add tiers', () => {
    const config = parseConfig(
      `
tiers:
  gold: { serverFee: "350.50" }
  bronze:
    baseFee: 100
    serverFee: 50
    brackets: [{ below: 99, creditPercent: 5 }, { below: "99.5", creditPercent: "2.5" }]
customers:
  - { id: a, name: A, tier: bronze, servers: [{ id: s1, name: S1 }] }
`,
      'x.yaml',
    );
    expect(config.tiers.get('gold')).toMatchObject({ baseFeeGrosze: 30_000, serverFeeGrosze: 35_050 });
    expect(config.tiers.get('gold')!.brackets).toHaveLength(4);
    expect(config.tiers.get('bronze')).toEqual({
      name: 'bronze',
      baseFeeGrosze: 10_000,
      serverFeeGrosze: 5_000,
      brackets: [
        { belowMicroPercent: 99_500_000, creditPercentHundredths: 250 },
        { belowMicroPercent: 99_000_000, creditPercentHundredths: 500 },
      ],
    });
  });
});

describe('maintenance in the file', () => {
  const parse = (sla: string, window: string) =>
    parseConfig(
      `${sla}\ncustomers: [{ id: acme, name: ACME, tier: gold, servers: [{ id: s1, name: S1 }] }]\nmaintenance:\n  - { server: s1, from: "2026-10-10T02:00:00+02:00", to: "2026-10-10T04:00:00+02:00"${window} }\n`,
      'm.yaml',
    );
  it('takes announcedAt or an explicit announced: true, and the notice as a duration', () => {
    const config = parse('sla: { maintenanceNotice: 48h }', ', announcedAt: "2026-10-07T09:00:00+02:00"');
    expect(config.sla.maintenanceNoticeMs).toBe(172_800_000);
    expect(config.servers.get('s1')!.maintenance[0]).toMatchObject({
      announcedAtMs: Date.parse('2026-10-07T07:00:00Z'),
    });
    expect(parse('', ', announced: true').servers.get('s1')!.maintenance[0]!.announcedAtMs).toBeUndefined();
  });
  it.each([
    [
      '',
      'maintenance[0].announcedAt: only announced maintenance is excluded from eligible time: give announcedAt (when the customer was told), or announced: true',
    ],
    [', announced: false', 'maintenance[0].announced: must be true (or give announcedAt, when the customer was told)'],
    [
      ', announced: true, announcedAt: "2026-10-07T09:00:00+02:00"',
      'maintenance[0].announced: give announcedAt or announced: true, not both',
    ],
  ])('refuses a window that does not say it was announced (%s)', (window, problem) => {
    expect(() => parse('', window)).toThrow(problem);
  });
});

describe('close settings', () => {
  it('parse the monitored minimum like a threshold and the waits as durations', () => {
    const config = parseConfig(
      `
state: { path: /var/lib/uptime-credits/state.db }
sla: { minMonitoredPercent: "95.25", closeRetry: 1m, evidenceWait: 0s }
`,
      'x.yaml',
    );
    expect(config.state.path).toBe('/var/lib/uptime-credits/state.db');
    expect(config.sla).toMatchObject({ minMonitoredMicroPercent: 95_250_000, closeRetryMs: 60_000, evidenceWaitMs: 0 });
  });
});

describe('API tokens', () => {
  const http = (section: string, env: NodeJS.ProcessEnv = {}) => parseConfig(`http: ${section}\n`, 'h.yaml', env).http;
  it('take named tokens with their scopes and secrets from the environment', () => {
    const config = http(
      '{ tokens: [{ name: prometheus, secretEnv: UC_P, scopes: [metrics] }, { name: finance-bot, secretEnv: UC_F, scopes: [read, close] }] }',
      {
        UC_P: 'prometheus-0123456789',
        UC_F: 'finance-0123456789ab',
      },
    );
    expect(config.tokens).toEqual([
      { name: 'prometheus', scopes: ['metrics'], source: 'UC_P', secret: 'prometheus-0123456789' },
      { name: 'finance-bot', scopes: ['read', 'close'], source: 'UC_F', secret: 'finance-0123456789ab' },
    ]);
  });
  it('read the shorthand as one token named api with every scope, from the file or UPTIME_CREDITS_TOKEN', () => {
    const all = ['read', 'metrics', 'close'];
    expect(http('{ token: "file-token-0123456789" }').tokens).toEqual([
      { name: 'api', scopes: all, source: 'http.token', secret: 'file-token-0123456789' },
    ]);
    expect(http('{}', { UPTIME_CREDITS_TOKEN: 'env-token-0123456789' }).tokens).toEqual([
      { name: 'api', scopes: all, source: 'UPTIME_CREDITS_TOKEN', secret: 'env-token-0123456789' },
    ]);
    expect(http('{}').tokens).toEqual([]);
  });
  it("refuse one secret for two tokens, and a start without a named token's variable", () => {
    const twice =
      '{ tokens: [{ name: a, secretEnv: UC_A, scopes: [read] }, { name: b, secretEnv: UC_B, scopes: [close] }] }';
    expect(() => http(twice, { UC_A: 'same-secret-0123456789', UC_B: 'same-secret-0123456789' })).toThrow(
      'http.tokens[1].secretEnv: holds the same token as http.tokens[0]; give each token its own',
    );
    const missing = http(twice, { UC_A: 'secret-a-0123456789' });
    expect(() => usableTokens(missing.tokens)).toThrow(
      'the API token "b" has no secret: set the environment variable UC_B',
    );
  });
  it('serve /metrics beyond loopback when protected, or public on purpose', () => {
    expect(http('{ listen: 0.0.0.0, protectMetrics: true }').protectMetrics).toBe(true);
    expect(http('{ listen: 0.0.0.0, publicMetrics: true }').publicMetrics).toBe(true);
    expect(http('{ listen: 127.0.0.2 }').listen).toBe('127.0.0.2');
  });
});

describe('loopback addresses (where /metrics may stay open)', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['127.300.0.1', false],
    ['example.org', false],
  ])('%s -> %s', (listen, loopback) => {
    expect(isLoopback(listen)).toBe(loopback);
  });
});
