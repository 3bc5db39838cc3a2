import { Type, type Static, type TLiteral } from 'typebox';
import { REFUSAL_CODES } from '../errors.ts';

/**
 * The webhook's answers, fixed by the spec (operators' tools read them). One schema serves as
 * documentation, as the serialiser (fast-json-stringify: undeclared fields never leak out) and
 * as the TypeScript type.
 */

/** One literal schema per value, as a tuple: its Static is the union of the values. */
const literals = <const Values extends readonly string[]>(values: Values) =>
  values.map((value) => Type.Literal(value)) as { -readonly [K in keyof Values]: TLiteral<Values[K]> };

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const EventResult = Type.Object({
  index: Type.Integer(),
  lead_id: nullable(Type.String()),
  updated_at: nullable(Type.String()),
  outcome: Type.Union([
    Type.Literal('accepted'),
    Type.Literal('duplicate'),
    Type.Literal('stale'),
    Type.Literal('rejected'),
  ]),
  event_id: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});
export type EventResult = Static<typeof EventResult>;
export type EventOutcome = EventResult['outcome'];

const counts = {
  received: Type.Integer(),
  processed: Type.Integer(),
  duplicates: Type.Integer(),
  stale: Type.Integer(),
  rejected: Type.Integer(),
  results: Type.Array(EventResult),
};

/** 200: at least one event was valid; every valid one is committed. */
export const Received = Type.Object({ status: Type.Literal('received'), ...counts });
export type Received = Static<typeof Received>;

/** The refusal codes (src/errors.ts), each a literal: an unknown code fails to type-check. */
export const RefusalCode = Type.Union(literals(REFUSAL_CODES));
export type RefusalCode = Static<typeof RefusalCode>;

/** Any refusal: a stable code and a message; per-event results when events were read. */
export const Refusal = Type.Object({
  error: RefusalCode,
  message: Type.Optional(Type.String()),
  received: Type.Optional(Type.Integer()),
  processed: Type.Optional(Type.Integer()),
  duplicates: Type.Optional(Type.Integer()),
  stale: Type.Optional(Type.Integer()),
  rejected: Type.Optional(Type.Integer()),
  results: Type.Optional(Type.Array(EventResult)),
});
export type Refusal = Static<typeof Refusal>;

export const webhookResponses = {
  200: Received,
  400: Refusal,
  401: Refusal,
  403: Refusal,
  413: Refusal,
  415: Refusal,
  429: Refusal,
  500: Refusal,
  503: Refusal,
};
