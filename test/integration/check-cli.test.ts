// `uptime-credits check` through the real CLI against loopback targets: the table and the exit codes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { closedPort, startHttpTarget, type Target } from '../support/targets.js';

describe('uptime-credits check', () => {
  let http: Target;
  let refusedPort: number;
  let dir: string;
  beforeAll(async () => {
    [http, refusedPort] = await Promise.all([startHttpTarget(), closedPort()]);
    dir = mkdtempSync(join(tmpdir(), 'uc-check-'));
  });
  afterAll(async () => {
    await http.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const writeConfig = (name: string, checks: string) => {
    const path = join(dir, name);
    writeFileSync(
      path,
      `storage: { kind: embedded, path: ${join(dir, 'store.db')} }
probing: { timeout: 2s }
customers:
  - id: acme
    name: ACME
    tier: gold
    servers:
      - id: oci-101
        name: Shop
        checks:
${checks}
`,
    );
    return path;
  };

  it('prints one row per check and exits 0 when every check is up (--config after the command)', async () => {
    const config = writeConfig(
      'up.yaml',
      `          - { kind: http, url: "${http.url}/ok", bodyContains: ok }\n          - { kind: tcp, host: 127.0.0.1, port: ${http.port} }`,
    );
    const result = await runCli(['check', '--config', config]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['customer', 'server', 'check', 'kind', 'state', 'ms', 'detail']);
    expect(lines[1]!.split(/\s+/)).toEqual([
      'acme',
      'oci-101',
      'http',
      'http',
      'up',
      expect.stringMatching(/^\d+$/),
      'status',
      '200',
    ]);
    expect(lines[2]!.split(/\s+/)).toEqual(['acme', 'oci-101', 'tcp', 'tcp', 'up', expect.stringMatching(/^\d+$/)]);
    expect(lines[3]).toBe('2 up, 0 down');
    expect(lines).toHaveLength(4);
  });

  it('exits 1 and says why when a check is down (-c before the command)', async () => {
    const config = writeConfig(
      'down.yaml',
      `          - { kind: http, url: "${http.url}/error" }\n          - { kind: tcp, host: 127.0.0.1, port: ${refusedPort} }`,
    );
    const result = await runCli(['-c', config, 'check']);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^acme\s+oci-101\s+http\s+http\s+DOWN\s+\d+\s+status: status 500$/);
    expect(lines[2]).toMatch(/^acme\s+oci-101\s+tcp\s+tcp\s+DOWN\s+\d+\s+refused: ECONNREFUSED/);
    expect(lines[3]).toBe('0 up, 2 down');
  });

  it('exits 2 with the configuration problem on stderr when the checks cannot run', async () => {
    const config = writeConfig('bad.yaml', `          - { kind: http, url: "${http.url}/ok", bodyRegex: "(" }`);
    const result = await runCli(['check', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('bodyRegex');
  });
});
