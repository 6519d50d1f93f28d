// Bearer-token check for the API: constant-time comparison, the token never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** A preHandler that answers 401 without the right `Authorization: Bearer <token>`, 503 when none is configured. */
export function requireBearer(token: string | undefined) {
  const expected = token ? digest(token) : undefined;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!expected) {
      return reply.code(503).send({ error: { code: 'API_TOKEN_NOT_CONFIGURED', message: 'set http.token or the environment variable named by http.tokenEnv to use the API' } });
    }
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!given || !timingSafeEqual(digest(given), expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: 'UNAUTHORIZED', message: 'a valid bearer token is required' } });
    }
  };
}
