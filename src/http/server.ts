// The HTTP face, built without listening (main.ts is the only place that listens). Routes are thin: a schema
// and a call into the daemon's parts.
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { CloseOutcome, DraftOutcome } from '../close/month-closer.js';
import { ComputationsClosedError } from '../close/month-computations.js';
import type { MonthStatus } from '../close/status.js';
import type { JournalRow, RevisionRecord } from '../state/close-records.js';
import { formatGrosze } from '../sla/money.js';
import type { Logger } from '../logging.js';
import type { Metrics } from '../metrics/metrics.js';
import { storeUnavailableIn } from '../store/store.js';
import { bearerCredentials, createAuthGate, type ApiToken } from './auth.js';
import { codeForStatus, errorResponses, sendError, STORE_RETRY_AFTER_S } from './errors.js';
import { contentCodingFor, gzipOf } from './compressed-answers.js';
import { entityTagOf, ifNoneMatchNames } from './entity-tags.js';
import { answerMonthQuery, createComputeTurns, pacedClient, type MonthQueryPacing } from './month-queries.js';
import { registerRecordRoutes, type RecordRouteDeps } from './record-routes.js';
import * as answers from './response-schemas.js';
import { MONTH, REASON, REASON_BODY, TIME } from './request-schemas.js';
import { apiSchema } from './response-schemas.js';
import { registerWebRoutes, type WebDeps } from '../web/routes.js';

/** What the API shows of one server. */
export interface ServerView {
  id: string;
  name: string;
  customer: string;
  tier: string;
  state: 'up' | 'down' | 'unknown';
  checks: {
    name: string;
    kind: string;
    location: string;
    up: boolean;
    latencyMs: number;
    error?: string;
    checkedAt: string;
  }[];
  monthToDate: {
    month: string;
    eligibleMs: number;
    downtimeMs: number;
    unmonitoredMs: number;
    uptimePercent: string | null;
    creditPercent: string;
    openOutageFrom: string | null;
  } | null;
}

/** The daemon's parts behind /api/. `actor` is the calling token's name: the records' and the journal's "by". */
export interface ApiDeps {
  servers(): ServerView[];
  /** One server's view (without building the whole fleet's). */
  server(id: string): ServerView | undefined;
  /** Month queries that compute: with `cachedOnly`, an answer only when one is cached for the data as it is now. */
  outages(
    fromMs: number,
    toMs: number,
    server?: string,
    options?: { cachedOnly?: boolean },
  ): Promise<{ server: string; from: string; to: string; durationMs: number }[] | undefined>;
  /** The credits JSON document (close/json.ts, CreditsJson), already encoded: sent as it is. */
  credits(month: string, options?: { cachedOnly?: boolean }): Promise<Uint8Array | undefined>;
  closeMonth(month: string, actor: string): Promise<CloseOutcome>;
  restateMonth(month: string, reason: string, actor: string): Promise<CloseOutcome>;
  approveMonth(month: string, draftHash: string, reason: string, actor: string): Promise<CloseOutcome>;
  draftMonth(month: string, customer?: string): Promise<DraftOutcome>;
  /** Forgets the month-to-date runs read so far and recomputes the view from the whole month; absent: no route. */
  recomputeMonthToDate?(): Promise<{ month: string; asOfMs: number; servers: number }>;
  months(): MonthStatus[];
  monthStatus(month: string): MonthStatus | undefined;
  monthRecord(month: string): { revisions: RevisionRecord[]; journal: JournalRow[] };
  knowsServer(id: string): boolean;
  knowsCustomer(id: string): boolean;
  /** Incidents and announced maintenance. */
  records: RecordRouteDeps;
}

export interface ServerDeps {
  /** What /metrics serves, and the count of refused tokens. */
  metrics: Pick<Metrics, 'contentType' | 'exposition' | 'countAuthFailure' | 'countMonthQuery'>;
  logger: Logger;
  /**
   * Throws with a reason when the daemon cannot do its work (cannot probe, cannot store locally); otherwise the
   * reasons it works degraded (the remote store unreachable while the local outbox holds observations), if any.
   */
  checkReady(): Promise<{ degraded: string[] }>;
  api: ApiDeps;
  /** The ops pages (/ui/) and the customer portal (/portal/). */
  web?: WebDeps;
  /** The API's tokens; none: /api/ answers 503 and the ops login is off. */
  tokens: readonly ApiToken[];
  /** Whether /metrics needs a token with the metrics scope (the health routes stay open, /readyz's reasons do not). */
  protectMetrics: boolean;
  /** Fastify's trustProxy (http.trustProxy): behind a proxy, each client's own address; default false. */
  trustProxy?: boolean | string[];
  /** Computing month queries (credits, outages) per second per client (http.monthComputationsPerSecond); default 1. */
  monthComputationsPerSecond?: number;
  /** False on an instance without the api role: /api/, /ui/ and /portal/ answer 404 saying so. Default true. */
  serveApi?: boolean;
}

/**
 * The largest body any route takes (JSON to /api/, the ops login form): the longest valid one, a 2,000-character
 * reason in any script, fits. Checked while the body is read, which is after the token is (onRequest).
 */
export const BODY_LIMIT_BYTES = 16_384;

/** Builds the fastify app: /metrics, /healthz, /readyz, /api/v1/*, /openapi.json, the web pages. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: deps.trustProxy ?? false,
  }) as unknown as FastifyInstance;
  const methodsByUrl = recordMethods(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'uptime-credits', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(rateLimit, { global: false }); // only the gate's count of wrong tokens per address uses it
  app.setErrorHandler((error: { statusCode?: number; validation?: unknown; message: string }, request, reply) => {
    // Not a failure: a request still waiting for the worker when the stop's grace ran out (its client is mostly gone).
    if (error instanceof ComputationsClosedError) {
      request.log.info({ url: request.url }, 'request cut short by the stop');
      return sendError(reply, 'STOPPING', error.message);
    }
    // Not a bug either: the store is down (its outage is logged and measured where it is written to).
    const unavailable = storeUnavailableIn(error);
    if (unavailable) {
      request.log.warn({ url: request.url, reason: unavailable.message }, 'a month query could not read the store');
      reply.header('retry-after', String(STORE_RETRY_AFTER_S));
      return sendError(reply, 'STORE_UNAVAILABLE', `the observation store did not answer: ${unavailable.message}`);
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) deps.logger.error({ err: error }, 'request failed');
    return sendError(
      reply,
      error.validation ? 'BAD_REQUEST' : codeForStatus(status),
      status >= 500 ? 'internal error' : error.message,
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
  );
  const gate = createAuthGate(app, {
    tokens: deps.tokens,
    logger: deps.logger,
    onFailure: (group, failure) => deps.metrics.countAuthFailure(group, failure),
  });

  // The health routes stay open whatever protectMetrics says: Docker's HEALTHCHECK and Kubernetes' probes carry no
  // token, and the status alone tells nothing; the reasons (store addresses, errors) are only for a token.
  app.get('/healthz', { schema: { hide: true, response: { 200: answers.HEALTH } } }, async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    { schema: { hide: true, response: { 200: answers.READY, 503: answers.READY } } },
    async (request, reply) => {
      const given = bearerCredentials(request.headers.authorization);
      const detailed = given !== undefined && (await gate.verify(request, given, undefined, 'monitoring')).ok;
      try {
        const { degraded } = await deps.checkReady();
        if (degraded.length === 0) return { status: 'ready' };
        return detailed ? { status: 'degraded', reasons: degraded } : { status: 'degraded' };
      } catch (error) {
        return reply
          .code(503)
          .send(detailed ? { status: 'not ready', reason: (error as Error).message } : { status: 'not ready' });
      }
    },
  );
  const monitoring = deps.protectMetrics ? { onRequest: gate.require('metrics', 'monitoring') } : {};
  const monitoringErrors = deps.protectMetrics
    ? errorResponses('UNAUTHORIZED', 'FORBIDDEN', 'TOO_MANY_AUTH_FAILURES', 'API_TOKEN_NOT_CONFIGURED')
    : {};
  app.get('/metrics', { ...monitoring, schema: { hide: true, response: monitoringErrors } }, async (request, reply) => {
    // gzip, as Prometheus asks by default: a tenth of the bytes, which the socket takes in one write rather than
    // in the several turns of this thread that 18 MB need (each one late while the thread is busy).
    const { coding, chunks } = await deps.metrics.exposition(contentCodingFor(request.headers['accept-encoding']));
    // Every chunk handed to the socket at once (its length known): the socket writes them as the scraper reads,
    // with a turn of this thread for the first chunk's end only. Piped as a stream, each chunk waited for a
    // 'drain', and on a busy event loop each wait was a turn late. Corked, the ~350 chunks (a family's pages) go
    // to the socket as one vectored write rather than one write each. (No onSend hook applies to /metrics.)
    reply.hijack();
    reply.raw.strictContentLength = true; // a length that disagrees with the bytes fails the answer, never misframes it
    reply.raw.writeHead(200, {
      'content-type': deps.metrics.contentType,
      'content-length': chunks.reduce((bytes, chunk) => bytes + chunk.length, 0),
      vary: 'accept-encoding',
      ...(coding === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    });
    reply.raw.cork();
    for (const chunk of chunks) reply.raw.write(chunk);
    reply.raw.uncork();
    reply.raw.end();
  });

  if (deps.serveApi === false)
    app.addHook('onRequest', async (request, reply) => {
      if (/^\/(api|ui|portal)(\/|$)/.test(request.url))
        return sendError(
          reply,
          'NOT_FOUND',
          'this instance does not have the api role (see roles in its configuration)',
        );
    });

  const monthQueries: MonthQueryPacing = {
    turns: createComputeTurns(deps.monthComputationsPerSecond ?? 1),
    count: (answer) => deps.metrics.countMonthQuery(answer),
  };
  /** Who a month query's turn belongs to: the token's name, else the address (request.ip follows trustProxy). */
  const apiClient = (request: FastifyRequest) => {
    const name = gate.callerOf(request).name;
    return name === undefined ? pacedClient.address(request.ip) : pacedClient.token(name);
  };
  const reads = { onRequest: gate.require('read', 'api') };
  const changes = { onRequest: gate.require('close', 'api') };
  const read = apiSchema('read');
  app.get(
    '/api/v1/servers',
    {
      ...reads,
      schema: {
        ...read,
        summary: 'Every covered server: current state and month to date',
        response: { 200: answers.SERVERS, ...read.response },
      },
    },
    async () => ({
      servers: deps.api.servers(),
    }),
  );
  const oneServer = apiSchema('read', 'NOT_FOUND');
  app.get<{ Params: { id: string } }>(
    '/api/v1/servers/:id',
    {
      ...reads,
      schema: {
        ...oneServer,
        summary: 'One server',
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        response: { 200: answers.SERVER, ...oneServer.response },
      },
    },
    async (request, reply) => {
      const server = deps.api.server(request.params.id);
      return server ?? sendError(reply, 'NOT_FOUND', `no server "${request.params.id}"`);
    },
  );
  const computedOutages = apiSchema('read', 'NOT_FOUND', 'TOO_MANY_COMPUTATIONS', 'STOPPING', 'STORE_UNAVAILABLE');
  const computedCredits = apiSchema('read', 'TOO_MANY_COMPUTATIONS', 'STOPPING', 'STORE_UNAVAILABLE');
  app.get<{ Querystring: { from: string; to: string; server?: string } }>(
    '/api/v1/outages',
    {
      ...reads,
      schema: {
        ...computedOutages,
        summary: 'Confirmed outages in [from, to), from the stored observations',
        querystring: {
          type: 'object',
          properties: {
            from: TIME,
            to: TIME,
            server: { type: 'string' },
          },
          required: ['from', 'to'],
          additionalProperties: false,
        },
        response: { 200: answers.OUTAGES, ...computedOutages.response },
      },
    },
    async (request, reply) => {
      const fromMs = Date.parse(request.query.from);
      const toMs = Date.parse(request.query.to);
      if (!(toMs > fromMs) || toMs - fromMs > 400 * 86_400_000)
        return sendError(reply, 'BAD_REQUEST', '"to" must be after "from", at most 400 days later');
      if (request.query.server && !deps.api.knowsServer(request.query.server))
        return sendError(reply, 'NOT_FOUND', `no server "${request.query.server}"`);
      const server = request.query.server;
      return answerMonthQuery(reply, monthQueries, apiClient(request), async (cachedOnly) => {
        const outages = await deps.api.outages(fromMs, toMs, server, { cachedOnly });
        return outages && { outages };
      });
    },
  );
  app.get<{ Querystring: { month: string } }>(
    '/api/v1/credits',
    {
      ...reads,
      schema: {
        ...computedCredits,
        summary: 'The month close as JSON (same as `credits --json`)',
        querystring: { type: 'object', properties: { month: MONTH }, required: ['month'], additionalProperties: false },
        headers: {
          type: 'object',
          properties: {
            'if-none-match': {
              type: 'string',
              description: 'the ETag of an answer the client holds: 304 without a body while the answer is that one',
            },
            'accept-encoding': {
              type: 'string',
              description: 'gzip (or *) to receive the document gzip-compressed, about a tenth of its bytes',
            },
          },
        },
        response: {
          200: {
            ...answers.CREDITS,
            headers: {
              etag: {
                type: 'string',
                description: "the document's SHA-256; with `-gzip` after it for the gzip-compressed representation",
              },
              'content-encoding': {
                type: 'string',
                description: 'gzip when Accept-Encoding accepts it (compressed once per document), else absent',
              },
            },
          },
          304: { type: 'null', description: 'Not modified: the answer is still the one If-None-Match names' },
          ...computedCredits.response,
        },
      },
    },
    async (request, reply) => {
      const answer = await answerMonthQuery(reply, monthQueries, apiClient(request), (cachedOnly) =>
        deps.api.credits(request.query.month, { cachedOnly }),
      );
      if (!(answer instanceof Uint8Array)) return answer;
      // Encoded where it was computed (the schema above documents it): bytes, not an object to serialize here.
      const coding = contentCodingFor(request.headers['accept-encoding']);
      const tag = entityTagOf(answer, coding);
      // Any client may keep it, but must ask again before using it: a month's credits move with the data. The answer
      // depends on Accept-Encoding too, which a cache between must keep apart.
      reply.header('etag', tag).header('cache-control', 'private, no-cache').header('vary', 'accept-encoding');
      if (ifNoneMatchNames(request.headers['if-none-match'], tag)) return reply.code(304).send();
      reply.type('application/json; charset=utf-8');
      if (coding === 'identity') return reply.send(answer);
      return reply.header('content-encoding', 'gzip').send(await gzipOf(answer));
    },
  );
  const monthParams = { type: 'object', properties: { month: MONTH }, required: ['month'] } as const;
  /** A close outcome as HTTP: issued or unchanged 200, waiting for review 202, the rest an error with a code. */
  const sendOutcome = (reply: FastifyReply, outcome: CloseOutcome) => {
    switch (outcome.status) {
      case 'issued':
        return reply.send({ ...outcome, total: formatGrosze(outcome.totalGrosze) });
      case 'unchanged':
        return reply.send(outcome);
      case 'needs-review':
        return reply.code(202).send(outcome);
      case 'not-closable':
        return sendError(
          reply,
          'MONTH_NOT_ENDED',
          `${outcome.month} cannot be closed before ${new Date(outcome.closableAtMs).toISOString()}; POST /api/v1/months/${outcome.month}/draft shows its figures so far`,
        );
      case 'not-closed':
        return sendError(
          reply,
          'MONTH_NOT_CLOSED',
          `${outcome.month} has not been closed, so there is nothing to restate`,
        );
      case 'differs':
        return sendError(
          reply,
          'MONTH_CLOSED_DIFFERS',
          `${outcome.month} is closed (revision ${outcome.revision}) and its figures would change; restate it with a reason`,
          outcome.differences,
        );
      case 'busy':
        reply.header('retry-after', '60');
        return sendError(reply, 'CLOSE_IN_PROGRESS', `${outcome.month} is being closed by ${outcome.holder.owner}`);
      case 'rejected':
        return sendError(reply, outcome.invalid ? 'BAD_REQUEST' : 'REJECTED', outcome.reason);
      case 'held':
        reply.header('retry-after', '300');
        return sendError(reply, 'EVIDENCE_INCOMPLETE', `nothing was published: ${outcome.reason}`);
      case 'failed':
        return sendError(reply, 'CLOSE_FAILED', `closing ${outcome.month} failed: ${outcome.reason}`);
    }
  };
  const closing = apiSchema(
    'close',
    'MONTH_NOT_ENDED',
    'MONTH_NOT_CLOSED',
    'MONTH_CLOSED_DIFFERS',
    'CLOSE_IN_PROGRESS',
    'REJECTED',
    'EVIDENCE_INCOMPLETE',
    'CLOSE_FAILED',
  );
  const closeResponses = { 200: answers.CLOSE_DONE, 202: answers.CLOSE_NEEDS_REVIEW, ...closing.response };

  app.get(
    '/api/v1/months',
    {
      ...reads,
      schema: {
        ...read,
        summary: 'The close state of each recent month',
        response: { 200: answers.MONTHS, ...read.response },
      },
    },
    async () => ({
      months: deps.api.months(),
    }),
  );
  app.get<{ Params: { month: string } }>(
    '/api/v1/months/:month',
    {
      ...reads,
      schema: {
        ...read,
        summary: "One month's close: state, revisions and journal rows",
        params: monthParams,
        response: { 200: answers.MONTH_RECORD, ...read.response },
      },
    },
    async (request) => {
      const { revisions, journal } = deps.api.monthRecord(request.params.month);
      const status = deps.api.monthStatus(request.params.month) ?? null;
      return {
        month: request.params.month,
        status,
        revisions: revisions.map((r) => ({
          revision: r.revision,
          kind: r.kind,
          total: formatGrosze(r.totalGrosze),
          dir: r.dir,
          closedAt: new Date(r.closedAtMs).toISOString(),
          closedBy: r.closedBy,
          reason: r.reason,
          manifestSha256: r.manifestSha256 ?? null,
          termsSha256: r.termsSha256,
        })),
        journal: journal.map((row) => ({
          revision: row.revision,
          creditId: row.creditId,
          customer: row.customerId,
          server: row.serverId,
          previous: formatGrosze(row.previousGrosze),
          new: formatGrosze(row.newGrosze),
          delta: formatGrosze(row.deltaGrosze),
          reason: row.reason,
          closedAt: new Date(row.closedAtMs).toISOString(),
          closedBy: row.closedBy,
        })),
      };
    },
  );
  app.post<{ Params: { month: string } }>(
    '/api/v1/months/:month/close',
    {
      ...changes,
      schema: {
        ...closing,
        summary: 'Close an ended month (revision 1), once; for a closed month, whether its figures still hold',
        params: monthParams,
        response: closeResponses,
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await deps.api.closeMonth(request.params.month, gate.callerOf(request).name)),
  );
  app.post<{ Params: { month: string }; Body: { reason: string } }>(
    '/api/v1/months/:month/restate',
    {
      ...changes,
      schema: {
        ...closing,
        summary: 'Issue the next revision of a closed month from the evidence as it is now',
        params: monthParams,
        body: REASON_BODY,
        response: closeResponses,
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await deps.api.restateMonth(request.params.month, request.body.reason, gate.callerOf(request).name),
      ),
  );
  app.post<{ Params: { month: string }; Body: { draftHash: string; reason: string } }>(
    '/api/v1/months/:month/approve',
    {
      ...changes,
      schema: {
        ...closing,
        summary: 'Issue exactly the reviewed draft of a month held for review',
        params: monthParams,
        body: {
          type: 'object',
          properties: {
            draftHash: { type: 'string', pattern: '^[0-9a-f]{12,64}$' },
            reason: REASON,
          },
          required: ['draftHash', 'reason'],
          additionalProperties: false,
        },
        response: closeResponses,
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await deps.api.approveMonth(
          request.params.month,
          request.body.draftHash,
          request.body.reason,
          gate.callerOf(request).name,
        ),
      ),
  );
  // A draft issues nothing, but it writes files under the reports folder: a change, so the close scope.
  const drafting = apiSchema('close', 'NOT_FOUND');
  app.post<{ Params: { month: string }; Body: { customer?: string } | undefined }>(
    '/api/v1/months/:month/draft',
    {
      ...changes,
      schema: {
        ...drafting,
        summary: 'Render marked drafts of any month (month to date for a running one); nothing is issued',
        params: monthParams,
        body: { type: ['object', 'null'], properties: { customer: { type: 'string' } }, additionalProperties: false },
        response: { 200: answers.DRAFT, ...drafting.response },
      },
    },
    async (request, reply) => {
      const customer = request.body?.customer;
      if (customer !== undefined && !deps.api.knowsCustomer(customer))
        return sendError(reply, 'NOT_FOUND', `no customer "${customer}"`);
      return deps.api.draftMonth(request.params.month, customer);
    },
  );
  const recomputeMonthToDate = deps.api.recomputeMonthToDate;
  if (recomputeMonthToDate) {
    const recomputing = apiSchema('close');
    app.post(
      '/api/v1/month-to-date/recompute',
      {
        ...changes,
        schema: {
          ...recomputing,
          summary: 'Recompute the month-to-date view from the whole month (after an import of older observations)',
          response: { 200: answers.MONTH_TO_DATE_RECOMPUTED, ...recomputing.response },
        },
      },
      async () => {
        const { month, asOfMs, servers } = await recomputeMonthToDate();
        return { month, asOf: new Date(asOfMs).toISOString(), servers };
      },
    );
  }
  registerRecordRoutes(app, gate, deps.api.records);
  if (deps.web) await registerWebRoutes(app, deps.web, gate, monthQueries);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  answerOtherMethods(app, methodsByUrl);
  return app;
}

/** The methods of every route by its URL pattern, as routes are added (HEAD included where fastify adds it). */
function recordMethods(app: FastifyInstance): Map<string, Set<string>> {
  const methodsByUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = methodsByUrl.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    methodsByUrl.set(route.url, methods);
  });
  return methodsByUrl;
}

/** 405 with `Allow` for a method a known route does not take; answered before any token or body is read. */
function answerOtherMethods(app: FastifyInstance, methodsByUrl: ReadonlyMap<string, ReadonlySet<string>>): void {
  for (const [url, methods] of [...methodsByUrl]) {
    const others = app.supportedMethods.filter((method) => !methods.has(method));
    if (others.length === 0) continue;
    const allow = [...methods].sort().join(', ');
    app.route({
      method: others,
      url,
      schema: { hide: true },
      onRequest: async (request, reply) => {
        reply.header('allow', allow);
        return sendError(reply, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed here; allowed: ${allow}`);
      },
      handler: async () => undefined,
    });
  }
}
