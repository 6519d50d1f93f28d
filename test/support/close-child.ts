// A month close in a child process that kills itself (SIGKILL, as a crash) right after a chosen step ('never':
// it runs to the end and prints its outcome), so a test can check what a crash at that point leaves behind, or
// race processes. Args: config path, month, step, now (ISO).
import { loadConfig } from '../../src/config/load.js';
import { createMonthCloser, type CloseStep } from '../../src/close/month-closer.js';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/logging.js';
import { SqliteCloseRecords } from '../../src/state/close-records.js';
import { SqliteOperatorRecords } from '../../src/state/operator-records.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';

const [configPath, month, crashAfter, nowIso] = process.argv.slice(2) as [string, string, CloseStep | 'never', string];
const config = loadConfig(configPath);
const store = EmbeddedObservationStore.open(config.storage.path);
const records = SqliteCloseRecords.open(config.state.path);
const nowMs = Date.parse(nowIso);
const closer = createMonthCloser({
  config,
  store,
  operatorRecords: SqliteOperatorRecords.open(config.state.path),
  records,
  evidence: [],
  logger: createLogger(),
  clock: { now: () => nowMs, setTimeout: systemClock.setTimeout },
  onStep(step) {
    if (step === crashAfter) process.kill(process.pid, 'SIGKILL');
  },
});
const outcome = await closer.close(month, { by: 'crashing-child' });
records.close();
await store.close();
process.stdout.write(`${JSON.stringify(outcome)}\n`); // reached only when the step never came
