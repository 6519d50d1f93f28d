// Who may call what: named bearer tokens with scopes, compared in constant time and never logged. A refusal is
// counted, logged at most once a minute, and an address that presents wrong tokens too often is slowed down.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type {} from '@fastify/rate-limit'; // its createRateLimit decoration, registered by buildServer
import { MIN_API_TOKEN_LENGTH, type ApiScope } from '../config/schema.js';
import type { ConfiguredApiToken } from '../config/types.js';
import type { Logger } from '../logging.js';
import { sendError } from './errors.js';

/** A token the daemon accepts: who it is (the actor in records and the journal), what it may do, its secret. */
export interface ApiToken {
  name: string;
  scopes: readonly ApiScope[];
  secret: string;
}

/** The parts of the daemon that take tokens, as the failure counter's `route_group` label. */
export const ROUTE_GROUPS = ['api', 'monitoring', 'ops'] as const;
export type RouteGroup = (typeof ROUTE_GROUPS)[number];
/** Why a request was refused: no token, a wrong one, a token without the scope, or an address over the limit. */
export const AUTH_FAILURES = ['missing', 'invalid', 'scope', 'throttled'] as const;
export type AuthFailure = (typeof AUTH_FAILURES)[number];

/** Wrong tokens one address may present per window; further wrong ones get 429 until the window ends. */
export const AUTH_FAILURES_PER_ADDRESS = 10;
export const AUTH_FAILURE_WINDOW_MS = 60_000;
/** At most one log line per this interval about refusals (a scan would otherwise flood the log). */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/** The credentials of `Authorization: Bearer <token>`; the scheme in any case (RFC 9110: schemes are case-insensitive). */
export function bearerCredentials(header: string | undefined): string | undefined {
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** A token with the digest of its secret, taken once. */
interface KnownToken {
  token: ApiToken;
  digest: Buffer;
}

/**
 * The token whose secret is `given`, if any. Digests of equal length are compared with every token, so the time
 * taken tells neither the secrets' lengths nor which token came close.
 */
function matchToken(known: readonly KnownToken[], given: string): ApiToken | undefined {
  const presented = digest(given);
  let found: ApiToken | undefined;
  for (const { token, digest: secret } of known) if (timingSafeEqual(presented, secret) && !found) found = token;
  return found;
}

export type AuthVerdict =
  | { ok: true; token: ApiToken }
  | { ok: false; failure: AuthFailure; retryAfterSeconds?: number };

/** Bearer tokens for the routes, and the same check for credentials that come another way (the ops login form). */
export interface AuthGate {
  /** Whether any token is configured (without one the API answers 503 and the ops login is off). */
  configured: boolean;
  /**
   * An onRequest hook (before the body is read: an unauthenticated request never gets to send a large one) that
   * lets through a token with `scope` and answers 503, 429, 401 or 403 itself otherwise.
   */
  require(scope: ApiScope, group: RouteGroup): onRequestHookHandler;
  /** Checks `given` for `scope` (any scope when undefined); a refusal is counted, logged and, when wrong, slowed. */
  verify(
    request: FastifyRequest,
    given: string | undefined,
    scope: ApiScope | undefined,
    group: RouteGroup,
  ): Promise<AuthVerdict>;
  /** The token that passed `require` on this request (a route without `require` asking is a bug). */
  callerOf(request: FastifyRequest): ApiToken;
}

export interface AuthGateOptions {
  tokens: readonly ApiToken[];
  logger: Logger;
  /** Counts a refusal (the metric). */
  onFailure(group: RouteGroup, failure: AuthFailure): void;
}

/** The gate over `app`, which must have @fastify/rate-limit registered (its store keeps the per-address counts). */
export function createAuthGate(app: FastifyInstance, options: AuthGateOptions): AuthGate {
  const { tokens, logger, onFailure } = options;
  const known = tokens.map((token) => ({ token, digest: digest(token.secret) }));
  // Only wrong tokens are counted per address (the default key: the client address, IPv6 by /64).
  const wrongTokens = app.createRateLimit({ max: AUTH_FAILURES_PER_ADDRESS, timeWindow: AUTH_FAILURE_WINDOW_MS });
  const callers = new WeakMap<FastifyRequest, ApiToken>();
  let lastLogMs = -Infinity;
  let unlogged = 0;

  const refuse = (request: FastifyRequest, group: RouteGroup, failure: AuthFailure, tokenName?: string) => {
    onFailure(group, failure);
    if (Date.now() - lastLogMs < FAILURE_LOG_INTERVAL_MS) {
      unlogged++;
      return;
    }
    const path = request.url.split('?')[0];
    logger.warn(
      {
        ip: request.ip,
        method: request.method,
        path,
        routeGroup: group,
        failure,
        tokenName,
        refusedUnlogged: unlogged,
      },
      'refused a request without a valid token (logged at most once a minute; see uptime_credits_http_auth_failures_total)',
    );
    lastLogMs = Date.now();
    unlogged = 0;
  };

  // A valid token always passes: one client guessing from an address (or every client behind one proxy without
  // http.trustProxy) must not lock Prometheus or finance out. Secrets of 16+ random characters are not guessed;
  // the limit slows the guessing client and keeps its noise out of the logs.
  const verify: AuthGate['verify'] = async (request, given, scope, group) => {
    if (given === undefined || given === '') {
      refuse(request, group, 'missing');
      return { ok: false, failure: 'missing' };
    }
    const token = matchToken(known, given);
    if (!token) {
      const address = await wrongTokens(request, { increment: false });
      if (!address.isAllowed && address.remaining === 0) {
        refuse(request, group, 'throttled');
        return { ok: false, failure: 'throttled', retryAfterSeconds: Math.max(1, address.ttlInSeconds) };
      }
      await wrongTokens(request);
      refuse(request, group, 'invalid');
      return { ok: false, failure: 'invalid' };
    }
    if (scope !== undefined && !token.scopes.includes(scope)) {
      refuse(request, group, 'scope', token.name);
      return { ok: false, failure: 'scope' };
    }
    return { ok: true, token };
  };

  const answer = (reply: FastifyReply, verdict: Exclude<AuthVerdict, { ok: true }>, scope: ApiScope) => {
    switch (verdict.failure) {
      case 'throttled':
        reply.header('retry-after', String(verdict.retryAfterSeconds));
        return sendError(
          reply,
          'TOO_MANY_AUTH_FAILURES',
          'too many failed attempts from this address; try again later',
        );
      case 'scope':
        return sendError(reply, 'FORBIDDEN', `this token does not have the ${scope} scope`);
      case 'missing':
      case 'invalid':
        reply.header('www-authenticate', 'Bearer');
        return sendError(reply, 'UNAUTHORIZED', 'a valid bearer token is required');
    }
  };

  return {
    configured: tokens.length > 0,
    require(scope, group) {
      return async (request, reply) => {
        if (tokens.length === 0) {
          return sendError(
            reply,
            'API_TOKEN_NOT_CONFIGURED',
            'set http.tokens, http.token or the environment variable named by http.tokenEnv to use the API',
          );
        }
        const verdict = await verify(request, bearerCredentials(request.headers.authorization), scope, group);
        if (!verdict.ok) return answer(reply, verdict, scope);
        callers.set(request, verdict.token);
      };
    },
    verify,
    callerOf(request) {
      const token = callers.get(request);
      if (!token) throw new Error(`${request.method} ${request.url} asked for its caller without requiring a token`);
      return token;
    },
  };
}

/** The tokens the daemon can use; throws naming the variable when a named token's secret is not in the environment. */
export function usableTokens(configured: readonly ConfiguredApiToken[]): ApiToken[] {
  return configured.map(({ name, scopes, source, secret }) => {
    if (secret === undefined)
      throw new Error(
        `the API token "${name}" has no secret: set the environment variable ${source} (http.tokens[].secretEnv) to ${MIN_API_TOKEN_LENGTH}+ random characters`,
      );
    return { name, scopes, secret };
  });
}
