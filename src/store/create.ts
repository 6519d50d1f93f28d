// Picks the configured ObservationStore implementation.
import type { AppConfig } from '../config/types.js';
import type { Logger } from '../logging.js';
import { EmbeddedObservationStore } from './embedded/embedded-store.js';
import type { ObservationStore } from './store.js';

/** Opens the store that config.storage names. */
export async function createObservationStore(config: AppConfig, logger: Logger): Promise<ObservationStore> {
  switch (config.storage.kind) {
    case 'embedded': {
      const store = EmbeddedObservationStore.open(config.storage.path);
      logger.debug({ store: store.description }, 'store opened');
      return store;
    }
    case 'influxdb':
      throw new Error(`${config.sourcePath}: storage.kind influxdb is not available in this build`);
  }
}
