// Generated fleets: N servers with one HTTP check each, written as a real YAML config for loadConfig.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump } from 'js-yaml';

/** Servers per customer in generated fleets. */
export const SERVERS_PER_CUSTOMER = 10;

/** The id of the i-th generated server (0-based), zero-padded so ids sort like their numbers. */
export const serverId = (i: number) => `srv-${String(i).padStart(5, '0')}`;

export interface FleetOptions {
  dir: string;
  servers: number;
  /** The URL the i-th server's HTTP check probes. */
  targetUrl(i: number): string;
  storage: Record<string, unknown>;
  probing?: Record<string, unknown>;
  fileName?: string;
  /** The fleet's time zone, which sets its months (default Europe/Warsaw). */
  timeZone?: string;
}

/** Writes the fleet's config file and returns its path. */
export function writeFleetConfig(options: FleetOptions): string {
  const customers = [];
  for (let first = 0; first < options.servers; first += SERVERS_PER_CUSTOMER) {
    const servers = [];
    for (let i = first; i < Math.min(options.servers, first + SERVERS_PER_CUSTOMER); i++) {
      servers.push({
        id: serverId(i),
        name: `Server ${i}`,
        checks: [{ kind: 'http', name: 'http', url: options.targetUrl(i) }],
      });
    }
    const n = first / SERVERS_PER_CUSTOMER;
    customers.push({
      id: `cust-${String(n).padStart(4, '0')}`,
      name: `Customer ${n}`,
      tier: ['silver', 'gold', 'platinum'][n % 3],
      servers,
    });
  }
  const config = {
    timezone: options.timeZone ?? 'Europe/Warsaw',
    storage: options.storage,
    probing: { location: 'bench', interval: '10s', timeout: '5s', ...options.probing },
    customers,
  };
  const path = join(options.dir, options.fileName ?? 'fleet.yaml');
  writeFileSync(path, dump(config, { noRefs: true }));
  return path;
}
