// The web pages on the daemon's fastify app: /ui/ for ops (log in once with an API token that has the read scope,
// then an HttpOnly cookie naming a session the daemon keeps in memory, see ops-sessions.ts) and /portal/ for one
// customer (entered by a signed link with an expiry, then a signed cookie naming that customer). Every portal route
// reads the customer from the cookie and shows only that customer's servers, figures and PDFs: never the ledger,
// the journal or a manifest, which name every customer.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, extname, resolve, sep } from 'node:path';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerTimeline } from '../close/server-timeline.js';
import type { AuthGate } from '../http/auth.js';
import { sendError, STORE_RETRY_AFTER_S } from '../http/errors.js';
import {
  paceMonthQuery,
  pacedClient,
  retryAfterSeconds,
  type MonthQueryPacing,
  type Paced,
} from '../http/month-queries.js';
import { reportFileName } from '../reports/ledger.js';
import { isMonth } from '../sla/month.js';
import { storeUnavailableIn } from '../store/store.js';
import { fillTemplate, type Language } from '../reports/format.js';
import type { MonthCredits } from '../sla/types.js';
import { requestLanguage, webLabels } from './i18n.js';
import { escapeHtml } from './html.js';
import {
  customerReportsBody,
  loginBody,
  monthFiguresBody,
  monthsBody,
  overviewBody,
  page,
  serverBody,
  type CustomerReportLink,
  type FleetView,
  type MonthListItem,
  type PageFrame,
} from './pages.js';
import { createOpsSessions } from './ops-sessions.js';
import type { PortalLinkSigner } from './portal-links.js';
import { signedValue, unsignValue } from './signing.js';

/** How long an ops login lasts. */
export const OPS_SESSION_MS = 12 * 3_600_000;
const OPS_COOKIE = 'uc_ops';
const PORTAL_COOKIE = 'uc_portal';

export interface WebDeps {
  timeZone: string;
  /** The portal's link signer and secret; without them /portal/ is off. */
  portal?: { signer: PortalLinkSigner; secret: string };
  /** Mark cookies Secure (http.publicUrl is https). */
  secureCookies: boolean;
  now(): number;
  fleet(): FleetView;
  /** A server's timeline of `month`; with `cachedOnly`, only an answer already computed for the data as it is now. */
  timeline(serverId: string, month: string, options: { cachedOnly: boolean }): Promise<ServerTimeline | undefined>;
  months(): MonthListItem[];
  /** The latest issued revision's figures of a month, if it has one. */
  monthFigures(month: string): { revision: number; credits: MonthCredits } | undefined;
  reportsDir: string;
  customers: readonly { id: string; name: string; language: Language }[];
}

const CONTENT_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
};

function sendFile(reply: FastifyReply, path: string) {
  reply.header('content-type', CONTENT_TYPES[extname(path)] ?? 'application/octet-stream');
  reply.header('content-disposition', `inline; filename="${basename(path).replace(/"/g, '')}"`);
  return reply.send(createReadStream(path));
}

/** A file under the month's folder of the reports, or undefined when the path leaves it or names nothing. */
function reportFile(reportsDir: string, month: string, relative: string): string | undefined {
  if (!isMonth(month)) return undefined;
  const monthDir = resolve(reportsDir, month);
  const path = resolve(monthDir, relative);
  if (!path.startsWith(monthDir + sep) || !existsSync(path) || !statSync(path).isFile()) return undefined;
  return path;
}

const html = (reply: FastifyReply, status: number, body: string) =>
  reply.code(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

/**
 * Registers /ui/ and /portal/; the ops login takes the API's tokens through `auth` (a token with the read scope). A
 * server's timeline is a month computation: paced like the API's (`pacing`), per ops token or portal customer.
 */
export async function registerWebRoutes(
  app: FastifyInstance,
  deps: WebDeps,
  auth: AuthGate,
  pacing: MonthQueryPacing,
): Promise<void> {
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 4_096 });
  // Ops: Strict (logged in on this site; a link from elsewhere asks to log in again). Portal: Lax, because it is
  // entered from a link in an e-mail, which is a cross-site navigation; its routes only read.
  const cookieOptions = (path: string, maxAgeSeconds: number, sameSite: 'strict' | 'lax') => ({
    path,
    httpOnly: true,
    sameSite,
    secure: deps.secureCookies,
    maxAge: maxAgeSeconds,
  });
  const customerById = new Map(deps.customers.map((c) => [c.id, c]));
  /**
   * A server's page with its timeline; 429 with Retry-After when `client` asks for computed pages too fast, 503 with
   * Retry-After when the store does not answer.
   */
  const serverPage = async (
    reply: FastifyReply,
    frame: PageFrame,
    client: string,
    server: FleetView['servers'][number],
    month: string,
    showCustomer: boolean,
  ) => {
    let paced: Paced<ServerTimeline>;
    try {
      paced = await paceMonthQuery(pacing, client, (cachedOnly) => deps.timeline(server.id, month, { cachedOnly }));
    } catch (error) {
      const unavailable = storeUnavailableIn(error);
      if (!unavailable) throw error;
      // As the API's STORE_UNAVAILABLE: the store is down, not the page; a warning, in the page's language.
      reply.request.log.warn(
        { url: reply.request.url, reason: unavailable.message },
        'a server page could not read the store',
      );
      reply.header('retry-after', STORE_RETRY_AFTER_S);
      const text = fillTemplate(webLabels(frame.language).storeUnavailable, { seconds: STORE_RETRY_AFTER_S });
      return html(reply, 503, page(frame, `<p>${escapeHtml(text)}</p>`));
    }
    if (!('answer' in paced)) {
      const seconds = retryAfterSeconds(paced.retryAfterMs);
      reply.header('retry-after', seconds);
      const busy = fillTemplate(webLabels(frame.language).tooManyComputations, { seconds });
      return html(reply, 429, page(frame, `<p>${escapeHtml(busy)}</p>`));
    }
    return html(reply, 200, page(frame, serverBody(server, month, paced.answer, frame, deps.now(), showCustomer)));
  };

  // --- ops ---
  const opsSessions = createOpsSessions(OPS_SESSION_MS, deps.now);
  const opsFrame = (request: FastifyRequest, title?: string): PageFrame => {
    const language = requestLanguage(request.query, request.headers['accept-language'], 'en');
    const l = webLabels(language);
    return {
      language,
      timeZone: deps.timeZone,
      base: '/ui',
      title: title ?? l.opsTitle,
      nav: [
        ['/ui/', l.overview],
        ['/ui/months', l.months],
      ],
      logout: '/ui/logout',
    };
  };
  /** The token name of the request's ops session; without one, a redirect to the login. */
  const requireOps = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = opsSessions.find(request.cookies[OPS_COOKIE]);
    if (!session) return reply.code(303).header('location', '/ui/login').send();
    (request as FastifyRequest & { opsTokenName?: string }).opsTokenName = session.tokenName;
  };
  const opsTokenOf = (request: FastifyRequest) => (request as FastifyRequest & { opsTokenName: string }).opsTokenName;

  app.get('/ui/login', { schema: { hide: true } }, async (request, reply) => {
    const frame = { ...opsFrame(request), nav: [], logout: undefined } as PageFrame;
    if (!auth.configured)
      return html(reply, 503, page(frame, `<p>${escapeHtml(webLabels(frame.language).loginDisabled)}</p>`));
    return html(reply, 200, page(frame, loginBody(frame)));
  });
  app.post<{ Body: { token?: string } }>('/ui/login', { schema: { hide: true } }, async (request, reply) => {
    const frame = { ...opsFrame(request), nav: [], logout: undefined } as PageFrame;
    const l = webLabels(frame.language);
    if (!auth.configured) return html(reply, 503, page(frame, `<p>${escapeHtml(l.loginDisabled)}</p>`));
    // The same check as the API's bearer tokens: counted, logged, and slowed per address.
    const verdict = await auth.verify(request, String(request.body?.token ?? ''), 'read', 'ops');
    if (!verdict.ok) {
      if (verdict.failure === 'throttled') {
        reply.header('retry-after', String(verdict.retryAfterSeconds));
        return html(reply, 429, page(frame, loginBody(frame, l.loginThrottled)));
      }
      if (verdict.failure === 'scope') return html(reply, 403, page(frame, loginBody(frame, l.loginNoScope)));
      return html(reply, 401, page(frame, loginBody(frame, l.loginFailed)));
    }
    const session = opsSessions.open(verdict.token.name);
    request.log.info({ ip: request.ip, tokenName: verdict.token.name }, 'logged in to the ops pages');
    reply.setCookie(OPS_COOKIE, session.id, cookieOptions('/ui', OPS_SESSION_MS / 1000, 'strict'));
    return reply.code(303).header('location', '/ui/').send();
  });
  app.post('/ui/logout', { schema: { hide: true } }, async (request, reply) => {
    opsSessions.close(request.cookies[OPS_COOKIE]); // the session ends here, not only in this browser
    reply.clearCookie(OPS_COOKIE, { path: '/ui' });
    return reply.code(303).header('location', '/ui/login').send();
  });
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) =>
    reply.code(308).header('location', '/ui/').send(),
  );
  app.get('/ui/', { preHandler: requireOps, schema: { hide: true } }, async (request, reply) => {
    const frame = opsFrame(request);
    return html(reply, 200, page(frame, overviewBody(deps.fleet(), frame, true)));
  });
  app.get<{ Params: { id: string }; Querystring: { month?: string } }>(
    '/ui/servers/:id',
    { preHandler: requireOps, schema: { hide: true } },
    async (request, reply) => {
      const frame = opsFrame(request);
      const fleet = deps.fleet();
      const server = fleet.servers.find((s) => s.id === request.params.id);
      if (!server) return html(reply, 404, page(frame, `<p>no server "${escapeHtml(request.params.id)}"</p>`));
      const month =
        request.query.month !== undefined && isMonth(request.query.month) ? request.query.month : fleet.month;
      return serverPage(
        reply,
        { ...frame, title: `${server.name} · ${frame.title}` },
        pacedClient.token(opsTokenOf(request)),
        server,
        month,
        true,
      );
    },
  );
  app.get('/ui/months', { preHandler: requireOps, schema: { hide: true } }, async (request, reply) => {
    const frame = opsFrame(request);
    return html(
      reply,
      200,
      page(
        frame,
        monthsBody(deps.months(), frame, (month, file) => `/ui/files/${month}/${file}`),
      ),
    );
  });
  app.get<{ Params: { month: string } }>(
    '/ui/months/:month',
    { preHandler: requireOps, schema: { hide: true } },
    async (request, reply) => {
      const frame = opsFrame(request);
      if (!isMonth(request.params.month)) return html(reply, 404, page(frame, '<p>no such month</p>'));
      return html(
        reply,
        200,
        page(frame, monthFiguresBody(request.params.month, deps.monthFigures(request.params.month), 'all', frame)),
      );
    },
  );
  app.get<{ Params: { month: string; '*': string } }>(
    '/ui/files/:month/*',
    { preHandler: requireOps, schema: { hide: true } },
    async (request, reply) => {
      const path = reportFile(deps.reportsDir, request.params.month, request.params['*']);
      if (!path) return sendError(reply, 'NOT_FOUND', 'no such report file');
      return sendFile(reply, path);
    },
  );

  // --- customer portal ---
  const portalCustomer = (request: FastifyRequest): string | undefined => {
    if (!deps.portal) return undefined;
    const value = request.cookies[PORTAL_COOKIE];
    const payload = value === undefined ? undefined : unsignValue(deps.portal.secret, 'portal-session', value);
    const match = payload === undefined ? null : /^(\d+):(.+)$/.exec(payload);
    const [, expiresSeconds, encodedId] = match ?? [];
    if (expiresSeconds === undefined || encodedId === undefined || Number(expiresSeconds) * 1000 <= deps.now())
      return undefined;
    const id = Buffer.from(encodedId, 'base64url').toString('utf8');
    return customerById.has(id) ? id : undefined;
  };
  const portalFrame = (request: FastifyRequest, customerId: string | undefined): PageFrame => {
    // The customer's language unless ?lang= asks otherwise; the browser's preference does not override the customer's.
    const language = requestLanguage(
      request.query,
      undefined,
      customerId === undefined ? 'pl' : (customerById.get(customerId)?.language ?? 'pl'),
    );
    const l = webLabels(language);
    const name = customerId === undefined ? '' : ` · ${customerById.get(customerId)?.name ?? ''}`;
    return {
      language,
      timeZone: deps.timeZone,
      base: '/portal',
      title: `${l.portalTitle}${name}`,
      nav: customerId === undefined ? [] : [['/portal/', l.overview]],
    };
  };
  const forbidden = (request: FastifyRequest, reply: FastifyReply) => {
    const frame = portalFrame(request, undefined);
    return html(reply, 403, page(frame, `<p>${escapeHtml(webLabels(frame.language).forbidden)}</p>`));
  };
  /** The customer of the request's portal session; answers 403 itself when there is none. */
  const requirePortal = async (request: FastifyRequest, reply: FastifyReply) => {
    const customerId = portalCustomer(request);
    if (customerId === undefined) return forbidden(request, reply);
    (request as FastifyRequest & { portalCustomer?: string }).portalCustomer = customerId;
  };
  const customerOf = (request: FastifyRequest) =>
    (request as FastifyRequest & { portalCustomer: string }).portalCustomer;
  /** The customer's own PDFs: for each issued revision that has one, its month, revision and file (relative to the month). */
  const ownReports = (customerId: string): CustomerReportLink[] =>
    deps
      .months()
      .flatMap((m) =>
        m.revisions.flatMap((r) =>
          r.files
            .filter((f) => f === reportFileName(customerId) || f.endsWith(`/${reportFileName(customerId)}`))
            .map((file) => ({ month: m.month, revision: r.revision, file, closedAtMs: r.closedAtMs })),
        ),
      );

  app.get<{ Querystring: { customer?: string; expires?: string; sig?: string } }>(
    '/portal/open',
    { schema: { hide: true } },
    async (request, reply) => {
      if (!deps.portal) return forbidden(request, reply);
      const verdict = deps.portal.signer.check(request.query, deps.now());
      if (!verdict.ok || !customerById.has(verdict.customerId)) {
        request.log.warn(
          {
            ip: request.ip,
            customer: request.query.customer,
            reason: verdict.ok ? 'unknown customer' : verdict.reason,
          },
          'refused a portal link',
        );
        return forbidden(request, reply);
      }
      const expires = Math.floor(verdict.expiresAtMs / 1000);
      const payload = `${expires}:${Buffer.from(verdict.customerId).toString('base64url')}`;
      reply.setCookie(
        PORTAL_COOKIE,
        signedValue(deps.portal.secret, 'portal-session', payload),
        cookieOptions('/portal', Math.max(1, expires - Math.floor(deps.now() / 1000)), 'lax'),
      );
      return reply.code(303).header('location', '/portal/').send();
    },
  );
  app.get('/portal', { schema: { hide: true } }, async (_request, reply) =>
    reply.code(308).header('location', '/portal/').send(),
  );
  app.get('/portal/', { preHandler: requirePortal, schema: { hide: true } }, async (request, reply) => {
    const customerId = customerOf(request);
    const frame = portalFrame(request, customerId);
    const l = webLabels(frame.language);
    const fleet = deps.fleet();
    const own = { ...fleet, servers: fleet.servers.filter((s) => s.customerId === customerId) };
    return html(
      reply,
      200,
      page(
        frame,
        `${overviewBody(own, frame, false)}<h2>${escapeHtml(l.reports)}</h2>${customerReportsBody(ownReports(customerId), frame)}`,
      ),
    );
  });
  app.get<{ Params: { id: string }; Querystring: { month?: string } }>(
    '/portal/servers/:id',
    { preHandler: requirePortal, schema: { hide: true } },
    async (request, reply) => {
      const customerId = customerOf(request);
      const frame = portalFrame(request, customerId);
      const fleet = deps.fleet();
      const server = fleet.servers.find((s) => s.id === request.params.id && s.customerId === customerId);
      if (!server) return html(reply, 404, page(frame, '<p>404</p>'));
      const month =
        request.query.month !== undefined && isMonth(request.query.month) ? request.query.month : fleet.month;
      return serverPage(reply, frame, pacedClient.customer(customerId), server, month, false);
    },
  );
  app.get<{ Params: { month: string } }>(
    '/portal/months/:month',
    { preHandler: requirePortal, schema: { hide: true } },
    async (request, reply) => {
      const customerId = customerOf(request);
      const frame = portalFrame(request, customerId);
      if (!isMonth(request.params.month)) return html(reply, 404, page(frame, '<p>404</p>'));
      return html(
        reply,
        200,
        page(
          frame,
          monthFiguresBody(request.params.month, deps.monthFigures(request.params.month), [customerId], frame),
        ),
      );
    },
  );
  app.get<{ Params: { month: string; revision: string } }>(
    '/portal/reports/:month/:revision',
    { preHandler: requirePortal, schema: { hide: true } },
    async (request, reply) => {
      const customerId = customerOf(request);
      const report = ownReports(customerId).find(
        (r) => r.month === request.params.month && String(r.revision) === request.params.revision,
      );
      const path = report && reportFile(deps.reportsDir, report.month, report.file);
      if (!path) return sendError(reply, 'NOT_FOUND', 'no such report');
      return sendFile(reply, path);
    },
  );
}
