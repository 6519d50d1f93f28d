// DNS probe: resolve a name, optionally requiring an expected address. Without `resolver` it asks the system
// (getaddrinfo, so /etc/hosts counts, as for any client); with one, it queries that DNS server directly.
import { lookup, Resolver } from 'node:dns/promises';
import type { DnsCheckConfig } from '../config/schema.js';
import { rejectOnAbort } from './deadline.js';
import { classifyProbeError, errorDetail } from './errors.js';
import type { Probe } from './probe.js';

async function resolveAddresses(
  check: DnsCheckConfig,
  context: { timeoutMs: number; signal: AbortSignal },
): Promise<string[]> {
  if (check.resolver) {
    const resolver = new Resolver({ timeout: context.timeoutMs, tries: 1 });
    resolver.setServers([check.resolver]);
    // A silent server would keep the query open until c-ares gives up; the deadline cancels it.
    context.signal.addEventListener('abort', () => resolver.cancel(), { once: true });
    return check.recordType === 'A' ? resolver.resolve4(check.query) : resolver.resolve6(check.query);
  }
  const answers = await lookup(check.query, { family: check.recordType === 'A' ? 4 : 6, all: true });
  return answers.map((a) => a.address);
}

/** The DNS probe: up when the name resolves (to one of expectAddresses, if given) before the deadline. */
export const probeDns: Probe<DnsCheckConfig> = async (check, context) => {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const addresses = await Promise.race([resolveAddresses(check, context), rejectOnAbort(context.signal)]);
    const expected = check.expectAddresses;
    if (expected && !addresses.some((a) => expected.includes(a))) {
      return {
        up: false,
        latencyMs: elapsed(),
        error: 'address',
        detail: `answered ${addresses.join(', ') || 'nothing'}`,
      };
    }
    return { up: true, latencyMs: elapsed() };
  } catch (error) {
    const kind = classifyProbeError(error, context.signal.aborted);
    return {
      up: false,
      latencyMs: elapsed(),
      error: kind === 'network' || kind === 'refused' ? 'dns' : kind,
      detail: errorDetail(error),
    };
  }
};
