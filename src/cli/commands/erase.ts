// Erases a data subject (LGPD): the person, their contacts and dossier, and the raw payloads of
// the leads they were found for. Prints what was erased, never the value itself.
import { erasePerson, type ErasureKey } from '../../enrichment/people-repository.ts';
import { normaliseCpf } from '../../people/cpf.ts';
import { normaliseEmail } from '../../people/email.ts';
import { normalisePhone } from '../../people/phone.ts';
import { defineCommand, UsageError, type CommandArgs } from '../command.ts';
import { withDatabase } from '../database.ts';

function keyFrom(args: CommandArgs): ErasureKey {
  const given = (['cpf', 'phone', 'email'] as const).filter((kind) => args.values[kind] !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one of --cpf, --phone, --email');
  const kind = given[0]!;
  const value = args.values[kind] as string;
  if (kind === 'cpf') {
    const cpf = normaliseCpf(value);
    if (!cpf) throw new UsageError('that is not a valid CPF');
    return { cpf };
  }
  if (kind === 'phone') {
    const phone = normalisePhone(value);
    if (!phone) throw new UsageError('that is not a valid Brazilian phone number');
    return { phone: phone.national };
  }
  const email = normaliseEmail(value);
  if (!email) throw new UsageError('that is not a valid e-mail address');
  return { email };
}

export const erase = defineCommand<ErasureKey>({
  name: 'erase',
  summary: 'erase a data subject (LGPD): person, contacts, dossier, raw payloads of their leads',
  synopsis: '--cpf <cpf> | --phone <phone> | --email <email>',
  details: '  Prints counts only, never the value.',
  options: { cpf: { type: 'string' }, phone: { type: 'string' }, email: { type: 'string' } },
  parse: keyFrom,
  async run(key, context) {
    const erased = await withDatabase(context, (db) => erasePerson(db, key));
    context.stdout.write(
      `erased ${erased.parties} person(s); scrubbed ${erased.events} event(s) of ${erased.leads} lead(s)\n`,
    );
  },
});
