// A month closer on real files for tests: an embedded store, the state database and a reports folder in a
// temporary directory, on a simulated clock.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/types.js';
import { createMonthCloser, type MonthCloser, type MonthCloserDeps } from '../../src/close/month-closer.js';
import { createLogger } from '../../src/logging.js';
import { createRecordKeeper, type RecordKeeper } from '../../src/close/record-changes.js';
import { SqliteCloseRecords } from '../../src/state/close-records.js';
import { SqliteOperatorRecords } from '../../src/state/operator-records.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import type { ObservationStore } from '../../src/store/store.js';
import { FakeClock } from './fake-clock.js';
import { observationsOf, type SeriesSpec } from './observations.js';

/** Customers every fixture has unless the test gives its own: a Platinum and a Silver customer. */
export const DEFAULT_CUSTOMERS = `
customers:
  - id: acme
    name: "ACME Sp. z o.o."
    tier: platinum
    servers: [{ id: oci-101, name: Shop }]
  - id: calm
    name: Calm Ltd
    tier: silver
    language: en
    servers: [{ id: oci-5, name: WWW }]
`;

export interface CloseFixture {
  dir: string;
  configPath: string;
  reportsDir: string;
  clock: FakeClock;
  config: AppConfig;
  store: EmbeddedObservationStore;
  records: SqliteCloseRecords;
  /** Incidents and announced maintenance (the same state database). */
  operatorRecords: SqliteOperatorRecords;
  closer: MonthCloser;
  /** Records incidents and maintenance and takes the months they touch through the closer (as the CLI does). */
  keeper(): RecordKeeper;
  /** Writes generated observations into the store. */
  observe(...specs: SeriesSpec[]): Promise<void>;
  /** Rewrites the configuration (same paths) and rebuilds the closer over it, as a restart with an edited file. */
  reconfigure(yaml: string, closerDeps?: Partial<MonthCloserDeps>): void;
  dispose(): Promise<void>;
}

/** The fixture's configuration file: probes every 60 s (staleAfter 3 min) unless `yaml` says otherwise. */
export function fixtureYaml(dir: string, yaml: string): string {
  return `
storage: { kind: embedded, path: ${join(dir, 'data', 'store.db')} }
reports: { dir: ${join(dir, 'reports')} }
${/^probing:/m.test(yaml) ? '' : 'probing: { location: waw, interval: 60s, confirmations: 3 }'}
${yaml}`;
}

export async function closeFixture(options: {
  nowIso: string;
  yaml?: string;
  closerDeps?: Partial<MonthCloserDeps>;
}): Promise<CloseFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'uc-close-'));
  const configPath = join(dir, 'config.yaml');
  const clock = new FakeClock(Date.parse(options.nowIso));
  writeFileSync(configPath, fixtureYaml(dir, options.yaml ?? DEFAULT_CUSTOMERS));
  let config = loadConfig(configPath);
  const store = EmbeddedObservationStore.open(config.storage.path);
  const records = SqliteCloseRecords.open(config.state.path);
  const operatorRecords = SqliteOperatorRecords.open(config.state.path);
  const build = (deps: Partial<MonthCloserDeps> = {}) =>
    createMonthCloser({
      config,
      store: deps.store ?? (store as ObservationStore),
      operatorRecords,
      pendingRevisions: operatorRecords,
      records,
      evidence: [],
      logger: createLogger(),
      clock,
      ...deps,
    });
  const fixture: CloseFixture = {
    dir,
    configPath,
    reportsDir: join(dir, 'reports'),
    clock,
    config,
    store,
    records,
    operatorRecords,
    closer: build(options.closerDeps),
    keeper: () => createRecordKeeper({ config, operatorRecords, closer: fixture.closer, clock }),
    async observe(...specs) {
      for (const spec of specs) await store.write(observationsOf(spec));
    },
    reconfigure(yaml, closerDeps) {
      writeFileSync(configPath, fixtureYaml(dir, yaml));
      config = loadConfig(configPath);
      fixture.config = config;
      fixture.closer = build(closerDeps);
    },
    async dispose() {
      records.close();
      operatorRecords.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}
