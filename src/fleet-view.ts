// What the API and the ops pages show of each server now: its checks' last outcomes (fed by the probe loop) and
// its month to date (read from the latest SLA snapshot). The one owner of the last outcomes.
import { customersForMonth } from './config/terms.js';
import type { AppConfig, ResolvedServer } from './config/types.js';
import type { Clock } from './clock.js';
import type { ServerView } from './http/server.js';
import type { CheckOutcome } from './probes/probe.js';
import type { SlaSnapshot } from './scheduler/sla-refresh.js';
import { formatPercentHundredths, uptimePercentText } from './sla/money.js';
import { monthContaining } from './sla/month.js';

export interface ServerViews {
  /** Remembers a check's latest outcome (the probe loop calls this for every probe). */
  recordOutcome(outcome: CheckOutcome): void;
  /** Every server of this month's customers, in configuration order. */
  servers(): ServerView[];
  /** One server, or undefined when this month's customers have no such server. */
  server(id: string): ServerView | undefined;
  /** The month the views are of: the snapshot's, or before the first snapshot the month of now. */
  month(): string;
}

/** What the views show of a check's latest outcome. */
type LastOutcome = Pick<CheckOutcome, 'check' | 'kind' | 'location' | 'up' | 'latencyMs' | 'error' | 'timeMs'>;

export function createServerViews(deps: {
  config: AppConfig;
  clock: Clock;
  snapshot: () => SlaSnapshot | undefined;
}): ServerViews {
  const { config, clock } = deps;
  /**
   * Per server, per `check@location`, the latest outcome's fields: one record per check, updated in place. Keeping
   * each outcome object itself would hold every probe's outcome for an interval, long enough to be promoted to the
   * old generation (~1,000 a second at a fleet's size) only to die there.
   */
  const lastOutcomes = new Map<string, Map<string, LastOutcome>>();
  const monthOf = (snapshot: SlaSnapshot | undefined) =>
    snapshot?.month ?? monthContaining(clock.now(), config.timeZone);

  const viewOf = (
    server: Pick<ResolvedServer, 'id' | 'name'>,
    customer: { id: string; tier: { name: string } },
    snapshot: SlaSnapshot | undefined,
  ): ServerView => {
    const checks = [...(lastOutcomes.get(server.id)?.values() ?? [])].map((o) => {
      const check: ServerView['checks'][number] = {
        name: o.check,
        kind: o.kind,
        location: o.location,
        up: o.up,
        latencyMs: o.latencyMs,
        checkedAt: new Date(o.timeMs).toISOString(),
      };
      if (o.error) check.error = o.error;
      return check;
    });
    const a = snapshot?.availability.get(server.id);
    const lastOutage = a?.outages[a.outages.length - 1];
    return {
      id: server.id,
      name: server.name,
      customer: customer.id,
      tier: customer.tier.name,
      state: checks.length === 0 ? 'unknown' : checks.some((c) => !c.up) ? 'down' : 'up',
      checks,
      monthToDate:
        a && snapshot
          ? {
              month: snapshot.month,
              eligibleMs: a.eligibleMs,
              downtimeMs: a.downtimeMs,
              unmonitoredMs: a.unmonitoredMs,
              uptimePercent: uptimePercentText(a.eligibleMs, a.downtimeMs),
              creditPercent: formatPercentHundredths(
                snapshot.projectedByServer.get(server.id)?.creditPercentHundredths ?? 0,
              ),
              openOutageFrom: a.downAtEnd && lastOutage ? new Date(lastOutage.fromMs).toISOString() : null,
            }
          : null,
    };
  };

  return {
    recordOutcome(outcome) {
      let checks = lastOutcomes.get(outcome.server);
      if (!checks) {
        checks = new Map();
        lastOutcomes.set(outcome.server, checks);
      }
      const key = `${outcome.check}@${outcome.location}`;
      let last = checks.get(key);
      if (last === undefined) {
        // Every field present from the start (error too), so later updates keep the record's shape.
        last = {
          check: outcome.check,
          kind: outcome.kind,
          location: outcome.location,
          up: false,
          latencyMs: 0,
          error: undefined,
          timeMs: 0,
        };
        checks.set(key, last);
      }
      last.up = outcome.up;
      last.latencyMs = outcome.latencyMs;
      last.error = outcome.error;
      last.timeMs = outcome.timeMs;
    },
    servers() {
      const snapshot = deps.snapshot(); // one snapshot for the whole answer
      // Tiers as in force in the snapshot's month.
      return customersForMonth(config, monthOf(snapshot)).flatMap((customer) =>
        customer.servers.map((server) => viewOf(server, customer, snapshot)),
      );
    },
    server(id) {
      const snapshot = deps.snapshot();
      for (const customer of customersForMonth(config, monthOf(snapshot))) {
        const server = customer.servers.find((s) => s.id === id);
        if (server) return viewOf(server, customer, snapshot);
      }
      return undefined;
    },
    month: () => monthOf(deps.snapshot()),
  };
}
