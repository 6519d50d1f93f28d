// Every probe kind behind one signature, looked up by the check's kind (blackbox_exporter's prober map).
import type { CheckConfig, CheckKind } from '../config/schema.js';
import { probeDns } from './dns.js';
import { probeHttp } from './http.js';
import type { ProbeContext, ProbeResult } from './probe.js';
import { probeTcp } from './tcp.js';
import { probeTls } from './tls.js';

export { closeHttpDispatchers } from './http.js';

type ProbeOf<K extends CheckKind> = (
  check: Extract<CheckConfig, { kind: K }>,
  context: ProbeContext,
) => Promise<ProbeResult>;

export const probesByKind: { [K in CheckKind]: ProbeOf<K> } = {
  http: probeHttp,
  tcp: probeTcp,
  tls: probeTls,
  dns: probeDns,
};

/** Runs one check with its deadline; never throws (a failure is a result). */
export async function runCheck(check: CheckConfig, timeoutMs: number): Promise<ProbeResult> {
  const controller = new AbortController();
  // The abort waits for the I/O already received: after a stall of this process, an answer that arrived in time
  // is read before the (equally late) deadline fires.
  const timer = setTimeout(() => setImmediate(() => controller.abort()), timeoutMs);
  try {
    const probe = probesByKind[check.kind] as (check: CheckConfig, context: ProbeContext) => Promise<ProbeResult>;
    return await probe(check, { timeoutMs, signal: controller.signal });
  } catch (error) {
    // A probe that throws has a bug: ours, not the target's.
    return { up: false, latencyMs: timeoutMs, error: 'local', detail: `probe failed: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
