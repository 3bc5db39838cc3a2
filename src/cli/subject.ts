// The data subject a command is about: exactly one of --cpf, --phone, --email, normalised as the
// workflow normalises it (so `+55 (11) 98765-4321` and `11987654321` are one person).
import { identifierOf, type IdentifierKind, type Identifiers } from '../people/identifiers.ts';
import { UsageError, type CommandArgs } from './command.ts';

export interface SubjectInput {
  readonly kind: IdentifierKind;
  readonly identifier: Identifiers;
}

export const SUBJECT_OPTIONS = {
  cpf: { type: 'string' },
  phone: { type: 'string' },
  email: { type: 'string' },
} as const;

const INVALID: Record<IdentifierKind, string> = {
  cpf: 'that is not a valid CPF',
  phone: 'that is not a valid Brazilian phone number',
  email: 'that is not a valid e-mail address',
};

export function subjectFrom(args: CommandArgs): SubjectInput {
  const given = (['cpf', 'phone', 'email'] as const).filter((kind) => args.values[kind] !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one of --cpf, --phone, --email');
  const kind = given[0]!;
  const identifier = identifierOf(kind, String(args.values[kind]));
  if (!identifier) throw new UsageError(INVALID[kind]);
  return { kind, identifier };
}
