// What the API answers, as JSON schemas: fastify serializes by them and the OpenAPI document shows them. Objects
// made elsewhere (the credits JSON, close outcomes, records) keep `additionalProperties: true`, so a field added
// there is still sent rather than dropped without a word; the fields listed are the ones a client can rely on.
import { errorResponses, type HttpErrorCode } from './errors.js';

/** The refusals every /api/ route may answer with, besides its own. */
const API_REFUSALS: HttpErrorCode[] = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'TOO_MANY_AUTH_FAILURES',
  'INTERNAL',
  'API_TOKEN_NOT_CONFIGURED',
];

/** The schema parts of an /api/ route: the security scheme, the scope it needs, the errors it may answer with. */
export function apiSchema(scope: 'read' | 'close', ...codes: HttpErrorCode[]) {
  const bodies: HttpErrorCode[] = scope === 'close' ? ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'] : [];
  return {
    security: [{ bearer: [] }],
    description: `Needs a token with the ${scope} scope.`,
    response: errorResponses(...API_REFUSALS, ...bodies, ...codes),
  };
}

const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const integer = { type: 'integer' } as const;
const number = { type: 'number' } as const;
const time = { type: 'string', format: 'date-time' } as const;
const strings = { type: 'array', items: string } as const;

/** An object with these properties, all present, and possibly others. */
const shape = <P extends Record<string, unknown>>(properties: P, optional: readonly (keyof P)[] = []) =>
  ({
    type: 'object',
    properties,
    required: Object.keys(properties).filter((key) => !optional.includes(key)),
    additionalProperties: true,
  }) as const;

const interval = shape({ from: time, to: time, durationMs: integer });

export const HEALTH = shape({ status: { type: 'string', enum: ['ok'] } });
/** /readyz: the reasons only for a caller with a token. */
export const READY = shape(
  { status: { type: 'string', enum: ['ready', 'degraded', 'not ready'] }, reasons: strings, reason: string },
  ['reasons', 'reason'],
);

const serverView = shape({
  id: string,
  name: string,
  customer: string,
  tier: string,
  state: { type: 'string', enum: ['up', 'down', 'unknown'] },
  checks: {
    type: 'array',
    items: shape(
      {
        name: string,
        kind: string,
        location: string,
        up: { type: 'boolean' },
        latencyMs: number,
        error: string,
        checkedAt: time,
      },
      ['error'],
    ),
  },
  monthToDate: {
    ...shape({
      month: string,
      eligibleMs: integer,
      downtimeMs: integer,
      unmonitoredMs: integer,
      uptimePercent: nullableString,
      creditPercent: string,
      openOutageFrom: { type: ['string', 'null'], format: 'date-time' },
    }),
    type: ['object', 'null'],
  },
});
export const SERVER = serverView;
export const SERVERS = shape({ servers: { type: 'array', items: serverView } });
export const OUTAGES = shape({
  outages: { type: 'array', items: shape({ server: string, from: time, to: time, durationMs: integer }) },
});

const serverCredit = shape(
  {
    id: string,
    name: string,
    coveredMs: integer,
    maintenanceMs: integer,
    eligibleMs: integer,
    downtimeMs: integer,
    unmonitoredMs: integer,
    uptimePercent: nullableString,
    monitoredPercent: nullableString,
    bracket: nullableString,
    creditPercent: string,
    creditBase: string,
    creditAmount: string,
    outages: { type: 'array', items: interval },
    unmonitored: { type: 'array', items: interval },
    maintenance: { type: 'array', items: interval },
    reportedDowntimeMs: integer,
    excludedDowntimeMs: integer,
    incidents: { type: 'array', items: { type: 'object', additionalProperties: true } },
    lateMaintenance: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
  ['reportedDowntimeMs', 'excludedDowntimeMs', 'incidents', 'lateMaintenance'],
);
/** The credits JSON (`credits --json`): amounts as decimal strings in PLN, uptime like "99.7999". */
export const CREDITS = shape({
  month: string,
  timeZone: string,
  from: time,
  to: time,
  monthMs: integer,
  creditBase: { type: 'string', enum: ['server', 'customer'] },
  customers: {
    type: 'array',
    items: shape({
      id: string,
      name: string,
      tier: string,
      monthlyFee: string,
      servers: { type: 'array', items: serverCredit },
      creditAmount: string,
    }),
  },
  creditAmount: string,
});

const monthStatus = shape(
  {
    month: string,
    state: string,
    revision: integer,
    endMs: integer,
    reason: string,
    draftHash: string,
    underMonitored: {
      type: 'array',
      items: shape({ customer: string, server: string, monitoredPercent: string, monitoredRatio: number }),
    },
    issued: shape({ totalGrosze: integer, closedAtMs: integer, closedBy: string, dir: string }),
    unfinished: { type: 'boolean' },
  },
  ['reason', 'draftHash', 'issued', 'unfinished'],
);
export const MONTHS = shape({ months: { type: 'array', items: monthStatus } });
export const MONTH_RECORD = shape({
  month: string,
  status: { ...monthStatus, type: ['object', 'null'] },
  revisions: {
    type: 'array',
    items: shape({
      revision: integer,
      kind: string,
      total: string,
      dir: string,
      closedAt: time,
      /** The API token's name, `schedule` or `cli:user@host`. */
      closedBy: string,
      reason: string,
      manifestSha256: nullableString,
      termsSha256: nullableString,
    }),
  },
  journal: {
    type: 'array',
    items: shape({
      revision: integer,
      creditId: string,
      customer: string,
      server: string,
      previous: string,
      new: string,
      delta: string,
      reason: string,
      closedAt: time,
      closedBy: string,
    }),
  },
});

/** A close, restatement or approval that issued a revision, or found nothing to change. */
export const CLOSE_DONE = shape(
  {
    status: { type: 'string', enum: ['issued', 'unchanged'] },
    month: string,
    revision: integer,
    kind: string,
    dir: string,
    total: string,
    totalGrosze: integer,
    journalRows: integer,
    differences: strings,
  },
  ['kind', 'dir', 'total', 'totalGrosze', 'journalRows', 'differences'],
);
/** A close held for a person's review: approve exactly this draft (by its hash) to issue it. */
export const CLOSE_NEEDS_REVIEW = shape({
  status: { type: 'string', enum: ['needs-review'] },
  month: string,
  reason: string,
  draftHash: string,
  draftDir: string,
  servers: { type: 'array', items: { type: 'object', additionalProperties: true } },
});
export const DRAFT = shape(
  {
    status: { type: 'string', enum: ['draft'] },
    month: string,
    dir: string,
    hash: string,
    written: strings,
    asOfMs: integer,
  },
  ['asOfMs'],
);

const revocation = { ...shape({ at: time, by: string, reason: string }), type: ['object', 'null'] };
const incident = shape({
  id: integer,
  server: string,
  kind: { type: 'string', enum: ['reported', 'monitoring-fault'] },
  from: time,
  to: time,
  durationMs: integer,
  reason: string,
  ticket: nullableString,
  recordedAt: time,
  recordedBy: string,
  withdrawn: revocation,
});
const maintenance = shape({
  id: integer,
  server: string,
  from: time,
  to: time,
  durationMs: integer,
  reason: string,
  announcedAt: time,
  announcedBy: string,
  recordedAt: time,
  late: { type: 'boolean' },
  cancelled: revocation,
});
/** What a record change did to each month it touches: the close outcome of a restatement or new close, or why none. */
const followUps = {
  type: 'array',
  items: shape(
    { month: string, action: { type: 'string', enum: ['restate', 'reclose', 'none'] }, status: string, why: string },
    ['status', 'why'],
  ),
} as const;
export const INCIDENTS = shape({ incidents: { type: 'array', items: incident } });
export const INCIDENT_CHANGE = shape({ incident, months: followUps });
export const MAINTENANCE_LIST = shape({ maintenance: { type: 'array', items: maintenance } });
export const MAINTENANCE_CHANGE = shape({ maintenance, months: followUps });
/** The month-to-date view recomputed from the whole month (POST /api/v1/month-to-date/recompute). */
export const MONTH_TO_DATE_RECOMPUTED = shape({ month: string, asOf: time, servers: integer });
