// The terms and coverage a month was judged by, as plain data: stored with every revision (and as terms.json
// beside its files), so a revision can be re-rendered and explained without today's configuration, and a
// restatement can say what changed in the terms since.
import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/types.js';
import { customersForMonth } from '../config/terms.js';
import type { CreditBase, IncidentKind, TierTerms } from '../sla/types.js';
import { recordsOf, type ServerRecords } from './server-records.js';

export interface TermsSnapshot {
  month: string;
  timeZone: string;
  currency: 'PLN';
  provider: { name: string; address: string[] };
  creditBase: CreditBase;
  maxCreditPercentHundredths: number | null;
  minMonitoredMicroPercent: number;
  confirmations: number;
  staleAfterMs: number;
  quorum: number | null;
  /** sla.maintenanceNotice, when the contract requires any (absent: 0). */
  maintenanceNoticeMs?: number;
  customers: {
    id: string;
    name: string;
    language: 'pl' | 'en';
    address: string[];
    tier: TierTerms;
    servers: {
      id: string;
      name: string;
      sinceMs: number | null;
      untilMs: number | null;
      /**
       * The maintenance windows that touch the month, with their reasons; `late` ones were announced with less
       * notice than required and were not excluded. `announcementId` names an announcement (not the file).
       */
      maintenance: {
        fromMs: number;
        toMs: number;
        reason: string;
        announcedAtMs?: number;
        announcementId?: number;
        late?: true;
      }[];
      /** The incidents (not withdrawn) that touch the month; absent when there are none. */
      incidents?: {
        id: number;
        kind: IncidentKind;
        fromMs: number;
        toMs: number;
        reason: string;
        ticket?: string;
        recordedAtMs: number;
        recordedBy: string;
      }[];
    }[];
  }[];
}

/**
 * The snapshot of the terms in force for `month` (window [fromMs, toMs)) under this configuration, with the people's
 * records (serverRecords for the month) the figures were computed from.
 */
export function termsSnapshot(
  config: AppConfig,
  records: ReadonlyMap<string, ServerRecords>,
  month: string,
): TermsSnapshot {
  return {
    month,
    timeZone: config.timeZone,
    currency: config.currency,
    provider: { name: config.provider.name, address: [...config.provider.address] },
    creditBase: config.sla.creditBase,
    maxCreditPercentHundredths: config.sla.maxCreditPercentHundredths ?? null,
    minMonitoredMicroPercent: config.sla.minMonitoredMicroPercent,
    confirmations: config.availability.confirmations,
    staleAfterMs: config.availability.staleAfterMs,
    quorum: config.availability.quorum ?? null,
    ...(config.sla.maintenanceNoticeMs > 0 ? { maintenanceNoticeMs: config.sla.maintenanceNoticeMs } : {}),
    customers: customersForMonth(config, month).map((customer) => ({
      id: customer.id,
      name: customer.name,
      language: customer.language,
      address: [...customer.address],
      tier: {
        name: customer.tier.name,
        baseFeeGrosze: customer.tier.baseFeeGrosze,
        serverFeeGrosze: customer.tier.serverFeeGrosze,
        brackets: customer.tier.brackets.map((b) => ({ ...b })),
      },
      servers: customer.servers.map((server) => {
        const { maintenance, incidents } = recordsOf(records, server.id);
        return {
          id: server.id,
          name: server.name,
          sinceMs: server.sinceMs ?? null,
          untilMs: server.untilMs ?? null,
          maintenance: maintenance.map((m) => ({
            fromMs: m.fromMs,
            toMs: m.toMs,
            reason: m.reason,
            ...(m.announcedAtMs !== undefined ? { announcedAtMs: m.announcedAtMs } : {}),
            ...(m.announcementId !== undefined ? { announcementId: m.announcementId } : {}),
            ...(m.late ? { late: true as const } : {}),
          })),
          ...(incidents.length > 0
            ? {
                incidents: incidents.map((i) => ({
                  id: i.id,
                  kind: i.kind,
                  fromMs: i.fromMs,
                  toMs: i.toMs,
                  reason: i.reason,
                  ...(i.ticket !== undefined ? { ticket: i.ticket } : {}),
                  recordedAtMs: i.recordedAtMs,
                  recordedBy: i.recordedBy,
                })),
              }
            : {}),
        };
      }),
    })),
  };
}

/** SHA-256 of a value's JSON (key order as built, which is fixed by the code that builds it). */
export function jsonSha256(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/**
 * What differs between two snapshots, one line per changed value, e.g.
 * `customers[acme].tier.serverFeeGrosze: 60000 -> 65000`. Arrays of objects with an `id` (incidents too) are matched by id.
 */
export function termsDifferences(before: TermsSnapshot, after: TermsSnapshot): string[] {
  const out: string[] = [];
  const show = (value: unknown) => (value === undefined ? '(none)' : JSON.stringify(value));
  const walk = (path: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    const keyed = (value: unknown) =>
      Array.isArray(value) &&
      value.every(
        (item) =>
          typeof item === 'object' &&
          item !== null &&
          ['string', 'number'].includes(typeof (item as { id?: unknown }).id),
      );
    if (keyed(a) && keyed(b)) {
      const left = new Map((a as { id: string | number }[]).map((item) => [item.id, item]));
      const right = new Map((b as { id: string | number }[]).map((item) => [item.id, item]));
      for (const id of new Set([...left.keys(), ...right.keys()])) walk(`${path}[${id}]`, left.get(id), right.get(id));
      return;
    }
    const plain = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
    if (plain(a) && plain(b)) {
      const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
      for (const key of keys)
        walk(path ? `${path}.${key}` : key, (a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]);
      return;
    }
    out.push(`${path}: ${show(a)} -> ${show(b)}`);
  };
  walk('', before, after);
  return out;
}
