// Month queries that compute (credits, outages, a server's timeline) paced per client: an answer already cached for
// the data as it is now is free; a computation takes the client's turn, at most http.monthComputationsPerSecond,
// else 429.
import type { FastifyReply } from 'fastify';
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
  count(answer: MonthQueryAnswer): void;
}

/** A paced month query's outcome: its answer, or how long until the client may ask for a computation. */
export type Paced<T> = { answer: T } | { retryAfterMs: number };

/**
 * The clients month computations are paced by. An API token and the ops login with that token are one client, so
 * both build the key here.
 */
export const pacedClient = {
  token: (name: string) => `token ${name}`,
  address: (ip: string) => `address ${ip}`,
  customer: (id: string) => `customer ${id}`,
};

/** The value of a Retry-After header for a wait of `ms`: whole seconds, at least 1. */
export const retryAfterSeconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1_000)));

/**
 * Asks `ask(true)` for a cached answer, which is free; else, when `client` has a turn, `ask(false)` computes it;
 * else says how long until the client's next turn. The API's clients are tokens or addresses, the web pages' the
 * ops login's token or the portal's customer: one budget per client across both.
 */
export async function paceMonthQuery<T>(
  pacing: MonthQueryPacing,
  client: string,
  ask: (cachedOnly: boolean) => Promise<T | undefined>,
): Promise<Paced<T>> {
  const cached = await ask(true);
  if (cached !== undefined) {
    pacing.count('cached');
    return { answer: cached };
  }
  const waitMs = pacing.turns.take(client);
  if (waitMs !== undefined) {
    pacing.count('rate-limited');
    return { retryAfterMs: waitMs };
  }
  const answer = await ask(false);
  if (answer === undefined) throw new Error('a month query computed no answer');
  pacing.count('computed');
  return { answer };
}

/** paceMonthQuery for the API: a refusal is 429 TOO_MANY_COMPUTATIONS with Retry-After. */
export async function answerMonthQuery<T>(
  reply: FastifyReply,
  pacing: MonthQueryPacing,
  client: string,
  ask: (cachedOnly: boolean) => Promise<T | undefined>,
): Promise<T | FastifyReply> {
  const paced = await paceMonthQuery(pacing, client, ask);
  if ('answer' in paced) return paced.answer;
  reply.header('retry-after', retryAfterSeconds(paced.retryAfterMs));
  return sendError(
    reply,
    'TOO_MANY_COMPUTATIONS',
    `this client asks for computed month answers faster than http.monthComputationsPerSecond allows; retry in ${Math.ceil(paced.retryAfterMs)} ms (answers already computed for the current data are not limited)`,
  );
}
