// The HTTP face, built without listening (main.ts is the only place that listens). Routes are thin: a schema
// and a call into the daemon's parts.
import { Readable } from 'node:stream';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { CreditsJson } from '../close/json.js';
import type { CloseOutcome, DraftOutcome } from '../close/month-closer.js';
import type { MonthStatus } from '../close/status.js';
import type { JournalRow, RevisionRecord } from '../state/close-records.js';
import { formatGrosze } from '../sla/money.js';
import type { Logger } from '../logging.js';
import { requireBearer } from './auth.js';
import { registerRecordRoutes, type RecordRouteDeps } from './record-routes.js';
import { registerWebRoutes, type WebDeps } from '../web/routes.js';

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
  closeMonth(month: string): Promise<CloseOutcome>;
  restateMonth(month: string, reason: string): Promise<CloseOutcome>;
  approveMonth(month: string, draftHash: string, reason: string): Promise<CloseOutcome>;
  draftMonth(month: string, customer?: string): Promise<DraftOutcome>;
  months(): MonthStatus[];
  monthStatus(month: string): MonthStatus | undefined;
  monthRecord(month: string): { revisions: RevisionRecord[]; journal: JournalRow[] };
  knowsServer(id: string): boolean;
  knowsCustomer(id: string): boolean;
  /** Incidents and announced maintenance. */
  records: RecordRouteDeps;
}

export interface ServerDeps {
  /** What /metrics serves. */
  metrics: { contentType: string; exposition(): Promise<Buffer[]> };
  logger: Logger;
  /**
   * Throws with a reason when the daemon cannot do its work (cannot probe, cannot store locally); otherwise the
   * reasons it works degraded (the remote store unreachable while the local outbox holds observations), if any.
   */
  checkReady(): Promise<{ degraded: string[] }>;
  api: ApiDeps;
  /** The ops pages (/ui/) and the customer portal (/portal/). */
  web?: WebDeps;
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
      const { degraded } = await deps.checkReady();
      return degraded.length === 0 ? { status: 'ready' } : { status: 'degraded', reasons: degraded };
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
  const monthParams = { type: 'object', properties: { month: MONTH }, required: ['month'] } as const;
  /** A close outcome as HTTP: issued or unchanged 200, waiting for review 202, the rest an error with a code. */
  const sendOutcome = (reply: FastifyReply, outcome: CloseOutcome) => {
    const fail = (status: number, code: string, message: string, details?: unknown) => reply.code(status).send({ error: { code, message, ...(details === undefined ? {} : { details }) } });
    switch (outcome.status) {
      case 'issued':
        return reply.send({ ...outcome, total: formatGrosze(outcome.totalGrosze) });
      case 'unchanged':
        return reply.send(outcome);
      case 'needs-review':
        return reply.code(202).send(outcome);
      case 'not-closable':
        return fail(409, 'MONTH_NOT_ENDED', `${outcome.month} cannot be closed before ${new Date(outcome.closableAtMs).toISOString()}; POST /api/v1/months/${outcome.month}/draft shows its figures so far`);
      case 'not-closed':
        return fail(409, 'MONTH_NOT_CLOSED', `${outcome.month} has not been closed, so there is nothing to restate`);
      case 'differs':
        return fail(409, 'MONTH_CLOSED_DIFFERS', `${outcome.month} is closed (revision ${outcome.revision}) and its figures would change; restate it with a reason`, outcome.differences);
      case 'busy':
        reply.header('retry-after', '60');
        return fail(409, 'CLOSE_IN_PROGRESS', `${outcome.month} is being closed by ${outcome.holder.owner}`);
      case 'rejected':
        return outcome.invalid ? fail(400, 'BAD_REQUEST', outcome.reason) : fail(409, 'REJECTED', outcome.reason);
      case 'held':
        reply.header('retry-after', '300');
        return fail(503, 'EVIDENCE_INCOMPLETE', `nothing was published: ${outcome.reason}`);
      case 'failed':
        return fail(503, 'CLOSE_FAILED', `closing ${outcome.month} failed: ${outcome.reason}`);
    }
  };
  const reasonBody = { type: 'object', properties: { reason: { type: 'string', minLength: 1, maxLength: 2_000 } }, required: ['reason'], additionalProperties: false } as const;

  app.get('/api/v1/months', { ...api, schema: { ...secured, summary: 'The close state of each recent month' } }, async () => ({ months: deps.api.months() }));
  app.get<{ Params: { month: string } }>(
    '/api/v1/months/:month',
    { ...api, schema: { ...secured, summary: "One month's close: state, revisions and journal rows", params: monthParams } },
    async (request) => {
      const { revisions, journal } = deps.api.monthRecord(request.params.month);
      const status = deps.api.monthStatus(request.params.month) ?? null;
      return {
        month: request.params.month,
        status,
        revisions: revisions.map((r) => ({ revision: r.revision, kind: r.kind, total: formatGrosze(r.totalGrosze), dir: r.dir, closedAt: new Date(r.closedAtMs).toISOString(), closedBy: r.closedBy, reason: r.reason, manifestSha256: r.manifestSha256 ?? null, termsSha256: r.termsSha256 })),
        journal: journal.map((row) => ({ revision: row.revision, creditId: row.creditId, customer: row.customerId, server: row.serverId, previous: formatGrosze(row.previousGrosze), new: formatGrosze(row.newGrosze), delta: formatGrosze(row.deltaGrosze), reason: row.reason, closedAt: new Date(row.closedAtMs).toISOString(), closedBy: row.closedBy })),
      };
    },
  );
  app.post<{ Params: { month: string } }>(
    '/api/v1/months/:month/close',
    { ...api, schema: { ...secured, summary: 'Close an ended month (revision 1), once; for a closed month, whether its figures still hold', params: monthParams } },
    async (request, reply) => sendOutcome(reply, await deps.api.closeMonth(request.params.month)),
  );
  app.post<{ Params: { month: string }; Body: { reason: string } }>(
    '/api/v1/months/:month/restate',
    { ...api, schema: { ...secured, summary: 'Issue the next revision of a closed month from the evidence as it is now', params: monthParams, body: reasonBody } },
    async (request, reply) => sendOutcome(reply, await deps.api.restateMonth(request.params.month, request.body.reason)),
  );
  app.post<{ Params: { month: string }; Body: { draftHash: string; reason: string } }>(
    '/api/v1/months/:month/approve',
    {
      ...api,
      schema: {
        ...secured,
        summary: 'Issue exactly the reviewed draft of a month held for review',
        params: monthParams,
        body: { type: 'object', properties: { draftHash: { type: 'string', pattern: '^[0-9a-f]{12,64}$' }, reason: reasonBody.properties.reason }, required: ['draftHash', 'reason'], additionalProperties: false },
      },
    },
    async (request, reply) => sendOutcome(reply, await deps.api.approveMonth(request.params.month, request.body.draftHash, request.body.reason)),
  );
  app.post<{ Params: { month: string }; Body: { customer?: string } | undefined }>(
    '/api/v1/months/:month/draft',
    {
      ...api,
      schema: {
        ...secured,
        summary: 'Render marked drafts of any month (month to date for a running one); nothing is issued',
        params: monthParams,
        body: { type: ['object', 'null'], properties: { customer: { type: 'string' } }, additionalProperties: false },
      },
    },
    async (request, reply) => {
      const customer = request.body?.customer;
      if (customer !== undefined && !deps.api.knowsCustomer(customer)) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no customer "${customer}"` } });
      return deps.api.draftMonth(request.params.month, customer);
    },
  );
  registerRecordRoutes(app, bearer, deps.api.records);
  if (deps.web) await registerWebRoutes(app, deps.web);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
