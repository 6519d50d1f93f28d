// Picks the configured ObservationStore implementation.
import type { AppConfig } from '../config/types.js';
import type { Logger } from '../logging.js';
import { EmbeddedObservationStore } from './embedded/embedded-store.js';
import { influxConnection } from './influx/connection.js';
import { OutboxedInfluxStore } from './influx/influx-store.js';
import type { ObservationStore } from './store.js';

/** Opens the store that config.storage names. */
export async function createObservationStore(config: AppConfig, logger: Logger): Promise<ObservationStore> {
  switch (config.storage.kind) {
    case 'embedded': {
      const store = EmbeddedObservationStore.open(config.storage.path);
      logger.debug({ store: store.description }, 'store opened');
      return store;
    }
    case 'influxdb': {
      const influx = config.storage.influxdb;
      if (!influx) throw new Error('storage.kind is influxdb but the storage.influxdb section is missing');
      const store = OutboxedInfluxStore.open(config.storage.path, influxConnection(influx), logger, {
        batchSize: influx.batchSize,
        gapFloorMs: config.availability.staleAfterMs,
      });
      const backlog = await store.backlog();
      store
        .version()
        .then((version) => logger.info({ store: store.description, version, backlog }, 'InfluxDB answered'))
        .catch((error) =>
          logger.warn({ err: error, backlog }, 'InfluxDB does not answer yet; observations wait in the outbox'),
        );
      return store;
    }
  }
}
