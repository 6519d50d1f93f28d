// The HTTP face, built without listening (main.ts is the only place that listens). Routes are thin: a schema
// and a call into the daemon's parts.
import { Readable } from 'node:stream';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { CreditsJson } from '../close/json.js';
import type { Logger } from '../logging.js';
import { requireBearer } from './auth.js';

/** What the API shows of one server. */
export interface ServerView {
  id: string;
  name: string;
  customer: string;
  tier: string;
  state: 'up' | 'down' | 'unknown';
  checks: { name: string; kind: string; location: string; up: boolean; latencyMs: number; error?: string; checkedAt: string }[];
  monthToDate: { month: string; eligibleMs: number; downtimeMs: number; unmonitoredMs: number; uptimePercent: string | null; creditPercent: string; openOutageFrom: string | null } | null;
}

export interface ApiDeps {
  servers(): ServerView[];
  outages(fromMs: number, toMs: number, server?: string): Promise<{ server: string; from: string; to: string; durationMs: number }[]>;
  credits(month: string): Promise<CreditsJson>;
  closeMonth(month: string, force: boolean): Promise<{ status: string; endsAt?: string }>;
  knowsServer(id: string): boolean;
}

export interface ServerDeps {
  /** What /metrics serves. */
  metrics: { contentType: string; exposition(): Promise<Buffer[]> };
  logger: Logger;
  /** Throws with a reason when the daemon cannot do its work (store unreachable, probe loop stopped). */
  checkReady(): Promise<void>;
  api: ApiDeps;
  token?: string;
  protectMetrics: boolean;
}

const MONTH = { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' } as const;
const ERROR = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } as const;

/** Builds the fastify app: /metrics, /healthz, /readyz, /api/v1/*, /openapi.json. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) }) as unknown as FastifyInstance;
  await app.register(swagger, { openapi: { info: { title: 'uptime-credits', version: '1' }, components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } } });
  app.setErrorHandler((error: { statusCode?: number; validation?: unknown; code?: string; message: string }, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) deps.logger.error({ err: error }, 'request failed');
    return reply.code(status).send({ error: { code: error.validation ? 'BAD_REQUEST' : (error.code ?? 'INTERNAL'), message: status >= 500 ? 'internal error' : error.message } });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } }));

  const bearer = requireBearer(deps.token);
  const open = deps.protectMetrics ? { preHandler: bearer } : {};
  app.get('/healthz', { ...open, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { ...open, schema: { hide: true } }, async (_request, reply) => {
    try {
      await deps.checkReady();
      return { status: 'ready' };
    } catch (error) {
      return reply.code(503).send({ status: 'not ready', reason: (error as Error).message });
    }
  });
  app.get('/metrics', { ...open, schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', deps.metrics.contentType);
    return reply.send(Readable.from(await deps.metrics.exposition()));
  });

  const api = { preHandler: bearer };
  const secured = { security: [{ bearer: [] }], response: { 401: ERROR } };
  app.get('/api/v1/servers', { ...api, schema: { ...secured, summary: 'Every covered server: current state and month to date' } }, async () => ({ servers: deps.api.servers() }));
  app.get<{ Params: { id: string } }>(
    '/api/v1/servers/:id',
    { ...api, schema: { ...secured, summary: 'One server', params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } },
    async (request, reply) => {
      const server = deps.api.servers().find((s) => s.id === request.params.id);
      return server ?? reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no server "${request.params.id}"` } });
    },
  );
  app.get<{ Querystring: { from: string; to: string; server?: string } }>(
    '/api/v1/outages',
    {
      ...api,
      schema: {
        ...secured,
        summary: 'Confirmed outages in [from, to), from the stored observations',
        querystring: { type: 'object', properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, server: { type: 'string' } }, required: ['from', 'to'], additionalProperties: false },
      },
    },
    async (request, reply) => {
      const fromMs = Date.parse(request.query.from);
      const toMs = Date.parse(request.query.to);
      if (!(toMs > fromMs) || toMs - fromMs > 400 * 86_400_000) {
        return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: '"to" must be after "from", at most 400 days later' } });
      }
      if (request.query.server && !deps.api.knowsServer(request.query.server)) {
        return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no server "${request.query.server}"` } });
      }
      return { outages: await deps.api.outages(fromMs, toMs, request.query.server) };
    },
  );
  app.get<{ Querystring: { month: string } }>(
    '/api/v1/credits',
    { ...api, schema: { ...secured, summary: 'The month close as JSON (same as `credits --json`)', querystring: { type: 'object', properties: { month: MONTH }, required: ['month'], additionalProperties: false } } },
    async (request) => deps.api.credits(request.query.month),
  );
  app.post<{ Params: { month: string }; Querystring: { force?: boolean } }>(
    '/api/v1/months/:month/close',
    {
      ...api,
      schema: {
        ...secured,
        summary: 'Close a month now: credits, ledger and reports, once (force re-renders)',
        params: { type: 'object', properties: { month: MONTH }, required: ['month'] },
        querystring: { type: 'object', properties: { force: { type: 'boolean', default: false } }, additionalProperties: false },
      },
    },
    async (request, reply) => {
      const outcome = await deps.api.closeMonth(request.params.month, request.query.force ?? false);
      if (outcome.status === 'not-ended') {
        return reply.code(409).send({ error: { code: 'MONTH_NOT_ENDED', message: `${request.params.month} has not ended yet (it ends at ${outcome.endsAt ?? '?'}); it can be closed after that` } });
      }
      return outcome;
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
