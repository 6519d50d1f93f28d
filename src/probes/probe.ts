// One probe type for every kind (blackbox_exporter's prober signature): a failure is a result, never a throw.
import type { CheckConfig, CheckKind } from '../config/schema.js';

/**
 * Closed set of reasons a probe fails. `local` is this host's own trouble (out of file descriptors, ports or
 * memory; a bug in a probe): it says nothing about the target, and the probe loop never stores it as downtime.
 */
export type ProbeErrorClass =
  | 'timeout'
  | 'refused'
  | 'dns'
  | 'tls'
  | 'status'
  | 'body'
  | 'network'
  | 'cert_expiry'
  | 'address'
  | 'local';

export interface ProbeResult {
  up: boolean;
  /** Whole probe duration in integer milliseconds. */
  latencyMs: number;
  error?: ProbeErrorClass;
  /** Human detail for logs and `check` (not stored as a label). */
  detail?: string;
  /** HTTP status code when an HTTP answer was received. */
  httpStatus?: number;
  /** Earliest certificate expiry among the peer's chain, epoch ms, when TLS was negotiated. */
  certNotAfterMs?: number;
}

/** A finished check of one server, as the probe loop hands it to the store and to metrics. */
export interface CheckOutcome extends ProbeResult {
  customer: string;
  server: string;
  check: string;
  kind: CheckKind;
  location: string;
  /** When the probe started, epoch ms (the observation's time). */
  timeMs: number;
  /** How late the probe started against its schedule, ms. */
  lagMs: number;
}

export interface ProbeContext {
  timeoutMs: number;
  signal: AbortSignal;
}

export type Probe<C extends CheckConfig = CheckConfig> = (check: C, context: ProbeContext) => Promise<ProbeResult>;
