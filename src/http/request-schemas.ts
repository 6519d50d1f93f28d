// What the API's routes accept, where more than one route takes the same shape.

export const MONTH = { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' } as const;
export const TIME = { type: 'string', format: 'date-time' } as const;
/** Why a month is restated or a record withdrawn: shown to customers and in the journal. */
export const REASON = { type: 'string', minLength: 1, maxLength: 2_000 } as const;
/** A body of only a reason (restate, withdraw, cancel). */
export const REASON_BODY = {
  type: 'object',
  properties: { reason: REASON },
  required: ['reason'],
  additionalProperties: false,
} as const;
