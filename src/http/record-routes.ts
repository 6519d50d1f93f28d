// /api/v1/incidents and /api/v1/maintenance: people's records that change a month's evidence. Every change answers
// with what became of the months it touches (restated, held for approval, or closing with it later). Recording one
// restates issued months, so a change needs the close scope, as a restatement does; the lists need read.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  RecordInputError,
  type IncidentInput,
  type MaintenanceInput,
  type RecordKeeper,
} from '../close/record-changes.js';
import { followUpJson, incidentJson, maintenanceJson } from '../close/record-json.js';
import { parseInstant } from '../config/schema.js';
import { RecordError, type OperatorRecordsReader, type RecordQuery } from '../state/operator-records.js';
import type { AuthGate } from './auth.js';
import { sendError } from './errors.js';
import * as answers from './response-schemas.js';
import { apiSchema } from './response-schemas.js';
import { REASON, REASON_BODY, TIME } from './request-schemas.js';

export interface RecordRouteDeps {
  keeper: RecordKeeper;
  reader: OperatorRecordsReader;
  maintenanceNoticeMs: number;
}

const ID_PARAMS = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const;
const LIST_QUERY = {
  type: 'object',
  properties: { from: TIME, to: TIME, server: { type: 'string' } },
  additionalProperties: false,
} as const;

/** Maps the records' refusals to HTTP: bad input 400, unknown id 404, already withdrawn/cancelled 409. */
async function answer(reply: FastifyReply, work: () => Promise<unknown> | unknown, status = 200) {
  try {
    return reply.code(status).send(await work());
  } catch (error) {
    if (error instanceof RecordInputError) return sendError(reply, 'BAD_REQUEST', error.message);
    if (error instanceof RecordError)
      return sendError(reply, error.code === 'not-found' ? 'NOT_FOUND' : 'CONFLICT', error.message);
    throw error;
  }
}

const queryOf = (q: { from?: string; to?: string; server?: string }): RecordQuery => ({
  ...(q.from ? { fromMs: Date.parse(q.from) } : {}),
  ...(q.to ? { toMs: Date.parse(q.to) } : {}),
  ...(q.server ? { servers: [q.server] } : {}),
});

/** An ISO time with an offset, or a 400 naming the field. */
function timeOf(field: string, text: string): number {
  const parsed = parseInstant(text);
  if ('problem' in parsed) throw new RecordInputError(`${field}: ${parsed.problem}`);
  return parsed.ms;
}

/** Registers the record routes behind `gate`'s tokens, checked before the body is read or validated. */
export function registerRecordRoutes(app: FastifyInstance, gate: AuthGate, deps: RecordRouteDeps): void {
  const reads = { onRequest: gate.require('read', 'api') };
  const changes = { onRequest: gate.require('close', 'api') };
  const read = apiSchema('read');
  const change = apiSchema('close', 'NOT_FOUND', 'CONFLICT');
  const actorOf = (request: FastifyRequest) => gate.callerOf(request).name; // the records' "by"
  const { keeper, reader } = deps;

  app.get<{ Querystring: { from?: string; to?: string; server?: string } }>(
    '/api/v1/incidents',
    {
      ...reads,
      schema: {
        ...read,
        summary: 'Incidents touching [from, to), withdrawn ones included',
        querystring: LIST_QUERY,
        response: { 200: answers.INCIDENTS, ...read.response },
      },
    },
    async (request) => ({ incidents: reader.incidents(queryOf(request.query)).map(incidentJson) }),
  );
  app.post<{
    Body: { server: string; kind: IncidentInput['kind']; from: string; to: string; reason: string; ticket?: string };
  }>(
    '/api/v1/incidents',
    {
      ...changes,
      schema: {
        ...change,
        summary: 'Record a reported outage or a monitoring fault; months it touches are restated or closed with it',
        response: { 201: answers.INCIDENT_CHANGE, ...change.response },
        body: {
          type: 'object',
          properties: {
            server: { type: 'string' },
            kind: { type: 'string', enum: ['reported', 'monitoring-fault'] },
            from: TIME,
            to: TIME,
            reason: REASON,
            ticket: { type: 'string', maxLength: 200 },
          },
          required: ['server', 'kind', 'from', 'to', 'reason'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) =>
      answer(
        reply,
        async () => {
          const b = request.body;
          const change = await keeper.addIncident(
            {
              serverId: b.server,
              kind: b.kind,
              fromMs: timeOf('from', b.from),
              toMs: timeOf('to', b.to),
              reason: b.reason,
              ...(b.ticket ? { ticket: b.ticket } : {}),
            },
            actorOf(request),
          );
          return { incident: incidentJson(change.record), months: change.months.map(followUpJson) };
        },
        201,
      ),
  );
  app.post<{ Params: { id: number }; Body: { reason: string } }>(
    '/api/v1/incidents/:id/withdraw',
    {
      ...changes,
      schema: {
        ...change,
        summary: 'Withdraw an incident (it stays in the record); months it touched are restated',
        params: ID_PARAMS,
        body: REASON_BODY,
        response: { 200: answers.INCIDENT_CHANGE, ...change.response },
      },
    },
    async (request, reply) =>
      answer(reply, async () => {
        const change = await keeper.withdrawIncident(request.params.id, request.body.reason, actorOf(request));
        return { incident: incidentJson(change.record), months: change.months.map(followUpJson) };
      }),
  );

  app.get<{ Querystring: { from?: string; to?: string; server?: string } }>(
    '/api/v1/maintenance',
    {
      ...reads,
      schema: {
        ...read,
        summary: 'Announced maintenance touching [from, to), cancelled windows included',
        querystring: LIST_QUERY,
        response: { 200: answers.MAINTENANCE_LIST, ...read.response },
      },
    },
    async (request) => ({
      maintenance: reader.maintenance(queryOf(request.query)).map((m) => maintenanceJson(m, deps.maintenanceNoticeMs)),
    }),
  );
  app.post<{ Body: { server: string; from: string; to: string; reason: string; announcedAt?: string } }>(
    '/api/v1/maintenance',
    {
      ...changes,
      schema: {
        ...change,
        summary: 'Announce a maintenance window (announcedAt: now, or an earlier announcement made elsewhere)',
        response: { 201: answers.MAINTENANCE_CHANGE, ...change.response },
        body: {
          type: 'object',
          properties: { server: { type: 'string' }, from: TIME, to: TIME, reason: REASON, announcedAt: TIME },
          required: ['server', 'from', 'to', 'reason'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) =>
      answer(
        reply,
        async () => {
          const b = request.body;
          const input: MaintenanceInput = {
            serverId: b.server,
            fromMs: timeOf('from', b.from),
            toMs: timeOf('to', b.to),
            reason: b.reason,
            ...(b.announcedAt ? { announcedAtMs: timeOf('announcedAt', b.announcedAt) } : {}),
          };
          const change = await keeper.announceMaintenance(input, actorOf(request));
          return {
            maintenance: maintenanceJson(change.record, deps.maintenanceNoticeMs),
            months: change.months.map(followUpJson),
          };
        },
        201,
      ),
  );
  app.post<{ Params: { id: number }; Body: { reason: string } }>(
    '/api/v1/maintenance/:id/cancel',
    {
      ...changes,
      schema: {
        ...change,
        summary: 'Cancel an announced window (it stays in the record); months it touched are restated',
        params: ID_PARAMS,
        body: REASON_BODY,
        response: { 200: answers.MAINTENANCE_CHANGE, ...change.response },
      },
    },
    async (request, reply) =>
      answer(reply, async () => {
        const change = await keeper.cancelMaintenance(request.params.id, request.body.reason, actorOf(request));
        return {
          maintenance: maintenanceJson(change.record, deps.maintenanceNoticeMs),
          months: change.months.map(followUpJson),
        };
      }),
  );
}
