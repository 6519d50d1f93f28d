// Every probe kind behind one signature, looked up by the check's kind (blackbox_exporter's prober map).
import type { CheckConfig, CheckKind } from '../config/schema.js';
import { probeDns } from './dns.js';
import { probeHttp } from './http.js';
import type { ProbeContext, ProbeResult } from './probe.js';
import { probeTcp } from './tcp.js';
import { probeTls } from './tls.js';

export { closeHttpDispatchers } from './http.js';

type ProbeOf<K extends CheckKind> = (check: Extract<CheckConfig, { kind: K }>, context: ProbeContext) => Promise<ProbeResult>;

export const probesByKind: { [K in CheckKind]: ProbeOf<K> } = { http: probeHttp, tcp: probeTcp, tls: probeTls, dns: probeDns };

/** Runs one check with its deadline; never throws (a failure is a result). */
export async function runCheck(check: CheckConfig, timeoutMs: number): Promise<ProbeResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const probe = probesByKind[check.kind] as (check: CheckConfig, context: ProbeContext) => Promise<ProbeResult>;
    return await probe(check, { timeoutMs, signal: controller.signal });
  } catch (error) {
    return { up: false, latencyMs: timeoutMs, error: 'network', detail: `probe failed: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
