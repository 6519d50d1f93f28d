// HTTP(S) probe over undici: status, optional body match, redirects, TLS verification, a cap on the body read.
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import type { HttpCheckConfig } from '../config/schema.js';
import { rejectOnAbort } from './deadline.js';
import { classifyProbeError, errorDetail } from './errors.js';
import type { Probe, ProbeResult } from './probe.js';

// One connection pool per (tlsVerify, maxRedirects, timeout), shared by every HTTP check: sockets are reused
// across probes. Configurations use few distinct timeouts, so there are few pools.
const dispatchers = new Map<string, Dispatcher>();

function dispatcherFor(check: HttpCheckConfig, timeoutMs: number): Dispatcher {
  const key = `${check.tlsVerify}:${check.maxRedirects}:${timeoutMs}`;
  let dispatcher = dispatchers.get(key);
  if (!dispatcher) {
    const agent = new Agent({
      connect: { rejectUnauthorized: check.tlsVerify, timeout: timeoutMs },
      keepAliveTimeout: 30_000,
      connections: null,
    });
    dispatcher =
      check.maxRedirects > 0 ? agent.compose(interceptors.redirect({ maxRedirections: check.maxRedirects })) : agent;
    dispatchers.set(key, dispatcher);
  }
  return dispatcher;
}

/** Closes the shared pools (at shutdown). */
export async function closeHttpDispatchers(): Promise<void> {
  const all = [...dispatchers.values()];
  dispatchers.clear();
  await Promise.all(all.map((d) => d.close().catch(() => undefined)));
}

/** Reads at most `maxBytes` of the body as text, then drops the rest: an endless body cannot stall us. */
async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    const room = maxBytes - size;
    chunks.push(buffer.length > room ? buffer.subarray(0, room) : buffer);
    size += Math.min(buffer.length, room);
    if (size >= maxBytes) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

// Compiled once per pattern, not once per probe.
const compiledPatterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let regex = compiledPatterns.get(pattern);
  if (!regex) {
    regex = new RegExp(pattern);
    compiledPatterns.set(pattern, regex);
  }
  return regex;
}

/**
 * The HTTP probe. Like blackbox_exporter, the whole answer must arrive by the deadline: a body still trickling
 * when it passes is a timeout. A body longer than maxBodyBytes is cut there (the connection is dropped), and
 * that alone is no failure.
 */
export const probeHttp: Probe<HttpCheckConfig> = async (check, context) => {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let status: number | undefined;
  try {
    const deadline = rejectOnAbort(context.signal);
    const response = await Promise.race([
      request(check.url, {
        method: check.method,
        headers: { 'user-agent': 'uptime-credits', ...check.headers },
        dispatcher: dispatcherFor(check, context.timeoutMs),
        signal: context.signal,
        headersTimeout: context.timeoutMs,
        bodyTimeout: context.timeoutMs,
      }),
      deadline,
    ]);
    status = response.statusCode;
    const statusOk = check.expectStatus ? check.expectStatus.includes(status) : status >= 200 && status < 300;
    const needsBody = check.bodyContains !== undefined || check.bodyRegex !== undefined;
    if (!statusOk || !needsBody) {
      // Drained (not destroyed) so the connection can serve the next probe; the signal ends a trickling body.
      await response.body.dump({ limit: check.maxBodyBytes, signal: context.signal });
      const result: ProbeResult = { up: statusOk, latencyMs: elapsed(), httpStatus: status };
      if (!statusOk) Object.assign(result, { error: 'status', detail: `status ${status}` });
      return result;
    }
    const body = await Promise.race([readCapped(response.body, check.maxBodyBytes), deadline]);
    const bodyOk =
      (check.bodyContains === undefined || body.includes(check.bodyContains)) &&
      (check.bodyRegex === undefined || compiled(check.bodyRegex).test(body));
    return bodyOk
      ? { up: true, latencyMs: elapsed(), httpStatus: status }
      : { up: false, latencyMs: elapsed(), httpStatus: status, error: 'body', detail: 'body did not match' };
  } catch (error) {
    const result: ProbeResult = {
      up: false,
      latencyMs: elapsed(),
      error: classifyProbeError(error, context.signal.aborted),
      detail: errorDetail(error),
    };
    if (status !== undefined) result.httpStatus = status;
    return result;
  }
};
