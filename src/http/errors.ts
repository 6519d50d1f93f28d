// The HTTP errors in one catalogue: every code the daemon answers with, its status, and the one envelope
// `{"error": {"code", "message", "details"?}}` (fastify's lib/errors.js habit: stable codes, one place).
import type { FastifyReply } from 'fastify';

/** Every error code, with its HTTP status and when it is answered (the OpenAPI document lists them per status). */
export const HTTP_ERRORS = {
  BAD_REQUEST: { status: 400, when: 'the input does not match the schema, or names an impossible window or hash' },
  UNAUTHORIZED: { status: 401, when: 'no valid bearer token' },
  FORBIDDEN: { status: 403, when: "the token's scopes do not include the one the route needs" },
  NOT_FOUND: { status: 404, when: 'no such route, server, customer or record' },
  METHOD_NOT_ALLOWED: { status: 405, when: 'the route exists for other methods (see Allow)' },
  CONFLICT: { status: 409, when: 'the record was already withdrawn or cancelled' },
  MONTH_NOT_ENDED: { status: 409, when: 'the month cannot be closed yet' },
  MONTH_NOT_CLOSED: { status: 409, when: 'a restatement of a month never closed' },
  MONTH_CLOSED_DIFFERS: { status: 409, when: 'the closed month would change (details: the differences)' },
  CLOSE_IN_PROGRESS: { status: 409, when: 'another process closes the month (Retry-After)' },
  REJECTED: { status: 409, when: 'the month no longer waits for that draft' },
  PAYLOAD_TOO_LARGE: { status: 413, when: 'the body is over the limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, when: 'the body is not JSON' },
  TOO_MANY_AUTH_FAILURES: { status: 429, when: 'this address failed authentication too often (Retry-After)' },
  TOO_MANY_COMPUTATIONS: {
    status: 429,
    when: 'this client asked for computed month answers faster than http.monthComputationsPerSecond (Retry-After)',
  },
  INTERNAL: { status: 500, when: 'a bug; logged' },
  API_TOKEN_NOT_CONFIGURED: { status: 503, when: 'the daemon has no API token' },
  EVIDENCE_INCOMPLETE: { status: 503, when: 'observations of the month are still on their way (Retry-After)' },
  CLOSE_FAILED: { status: 503, when: 'the close failed, e.g. the store did not answer' },
  STOPPING: {
    status: 503,
    when: 'the daemon stopped while this request waited for a month computation, or for evidence before a close',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    when: 'the observation store did not answer a month computation, e.g. InfluxDB is down (Retry-After)',
  },
} as const satisfies Record<string, { status: number; when: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** When a client is told to ask again after a month query found the store down (Retry-After, seconds). */
export const STORE_RETRY_AFTER_S = 30;

/** Answers with the code's status and the error envelope. */
export function sendError(reply: FastifyReply, code: HttpErrorCode, message: string, details?: unknown): FastifyReply {
  return reply
    .code(HTTP_ERRORS[code].status)
    .send({ error: { code, message, ...(details === undefined ? {} : { details }) } });
}

/** The catalogue's code for a status fastify set on its own errors (body too large, bad content type, ...). */
export function codeForStatus(status: number): HttpErrorCode {
  if (status >= 500) return 'INTERNAL';
  const general = (
    [
      'BAD_REQUEST',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'METHOD_NOT_ALLOWED',
      'CONFLICT',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
    ] as const
  ).find((code) => HTTP_ERRORS[code].status === status);
  return general ?? 'BAD_REQUEST';
}

/** The error envelope as a JSON schema (a response schema of every status that answers with an error). */
export const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', enum: Object.keys(HTTP_ERRORS) },
        message: { type: 'string' },
        /** Only with MONTH_CLOSED_DIFFERS: the differences, one line each. */
        details: {},
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

/** Response schemas for the error statuses these codes answer with, each described by its codes. */
export function errorResponses(
  ...codes: HttpErrorCode[]
): Record<number, typeof ERROR_SCHEMA & { description: string }> {
  const byStatus = new Map<number, HttpErrorCode[]>();
  for (const code of codes)
    byStatus.set(HTTP_ERRORS[code].status, [...(byStatus.get(HTTP_ERRORS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      { ...ERROR_SCHEMA, description: list.map((c) => `${c}: ${HTTP_ERRORS[c].when}`).join('; ') },
    ]),
  );
}
