// The HTTP face, built without listening (server.ts in main is the only place that listens).
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../logging.js';

export interface ServerDeps {
  registry: Registry;
  logger: Logger;
  /** Throws with a reason when the daemon cannot do its work (store unreachable, probe loop stopped). */
  checkReady(): Promise<void>;
}

/** Builds the fastify app: /metrics, /healthz, /readyz. */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, disableRequestLogging: true }) as unknown as FastifyInstance;
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await deps.checkReady();
      return { status: 'ready' };
    } catch (error) {
      return reply.code(503).send({ status: 'not ready', reason: (error as Error).message });
    }
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });
  return app;
}
