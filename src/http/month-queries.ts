// Month queries that compute (credits, outages) paced per client: an answer already cached for the data as it is
// now is free; a computation takes the client's turn, at most http.monthComputationsPerSecond, else 429.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

/** How a month query was answered, as the metric counts it. */
export const MONTH_QUERY_ANSWERS = ['cached', 'computed', 'rate-limited'] as const;
export type MonthQueryAnswer = (typeof MONTH_QUERY_ANSWERS)[number];

/** Clients remembered at most; beyond it, those whose turn has come again are forgotten. */
const MAX_CLIENTS = 10_000;

/** Each client's next turn to compute: one computation every 1/perSecond seconds, no burst. */
export function createComputeTurns(perSecond: number, nowMs: () => number = Date.now) {
  const spacingMs = 1_000 / perSecond;
  const nextTurnMs = new Map<string, number>();
  return {
    /** Takes `client`'s turn: undefined when it may compute now, else how many ms until it may. */
    take(client: string): number | undefined {
      const now = nowMs();
      const next = nextTurnMs.get(client);
      if (next !== undefined && now < next) return next - now;
      if (nextTurnMs.size >= MAX_CLIENTS)
        for (const [known, turn] of nextTurnMs) if (turn <= now) nextTurnMs.delete(known);
      nextTurnMs.set(client, now + spacingMs);
      return undefined;
    },
  };
}

export type ComputeTurns = ReturnType<typeof createComputeTurns>;

export interface MonthQueryPacing {
  turns: ComputeTurns;
  /** The calling token's name, when the route took one. */
  tokenName(request: FastifyRequest): string | undefined;
  count(answer: MonthQueryAnswer): void;
}

/**
 * Answers with `ask(true)` when it finds a cached answer, else with `ask(false)` when the client has a turn, else
 * 429 TOO_MANY_COMPUTATIONS with Retry-After. The client is the token's name, else the address (request.ip, which
 * follows http.trustProxy).
 */
export async function answerMonthQuery<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  pacing: MonthQueryPacing,
  ask: (cachedOnly: boolean) => Promise<T | undefined>,
): Promise<T | FastifyReply> {
  const cached = await ask(true);
  if (cached !== undefined) {
    pacing.count('cached');
    return cached;
  }
  const name = pacing.tokenName(request);
  const waitMs = pacing.turns.take(name === undefined ? `address ${request.ip}` : `token ${name}`);
  if (waitMs !== undefined) {
    pacing.count('rate-limited');
    reply.header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1_000))));
    return sendError(
      reply,
      'TOO_MANY_COMPUTATIONS',
      `this client asks for computed month answers faster than http.monthComputationsPerSecond allows; retry in ${Math.ceil(waitMs)} ms (answers already computed for the current data are not limited)`,
    );
  }
  const answer = await ask(false);
  if (answer === undefined) throw new Error('a month query computed no answer');
  pacing.count('computed');
  return answer;
}
