// Erases a data subject (LGPD art. 18) everywhere the service holds them, optionally keeping them
// on the suppression list. Prints counts and lead ids, never the person's data.
import { erase as eraseSubject } from '../../lifecycle/erasure.ts';
import { suppressionKeyOf } from '../../lifecycle/suppression.ts';
import { CommandFailure, defineCommand } from '../command.ts';
import { withDatabase } from '../database.ts';
import { SUBJECT_OPTIONS, subjectFrom, type SubjectInput } from '../subject.ts';

export const erase = defineCommand<SubjectInput & { suppress: boolean }>({
  name: 'erase',
  summary: 'erase a data subject everywhere (LGPD); --suppress also blocks later processing',
  synopsis: '--cpf <cpf> | --phone <phone> | --email <email> [--suppress]',
  details: `  Deletes the person (with contacts, addresses, companies, dossier, lead links), removes
  their phones and e-mails from other people's records, blanks the payload and step outputs of
  every event of their leads (a lead is theirs when they were found for it or its input names
  them, matched exactly after normalisation), ends those still waiting or running, and deletes
  rejected input naming them. Then lists the C2S leads carrying our notes, which may still name
  the person: the service cannot delete a C2S note.
  --suppress  keep a keyed hash (SUPPRESSION_SECRET) of their CPF, phones and e-mails: later
              events naming them complete as \`suppressed\`, with nothing looked up and no note.
  Prints counts only, never the person's data.`,
  options: { ...SUBJECT_OPTIONS, suppress: { type: 'boolean' } },
  parse: (args) => ({ ...subjectFrom(args), suppress: args.values.suppress === true }),
  async run({ kind, identifier, suppress }, context) {
    const suppressKey = suppress ? suppressionKeyOf(context.config) : undefined;
    if (suppress && suppressKey === undefined)
      throw new CommandFailure('--suppress needs SUPPRESSION_SECRET (at least 16 characters) in production');
    const { counts, leads, leadsWithNotes } = await withDatabase(context, (db) =>
      eraseSubject(db, kind, identifier, { suppressKey }),
    );
    context.logger.info({ kind, ...counts, leads }, 'data subject erased');
    const { stdout } = context;
    if (leadsWithNotes.length > 0) {
      stdout.write(`C2S leads with our notes, which may still name the person (delete them in C2S):\n`);
      for (const lead of leadsWithNotes) stdout.write(`  ${lead}\n`);
    }
    const parts = [
      `people ${counts.people}`,
      `leads ${leads}`,
      `events blanked ${counts.events}`,
      `events stopped ${counts.events_stopped}`,
      `rejected inputs ${counts.rejected_inputs}`,
      `dry-run notes ${counts.dry_run_notes}`,
      `shared contacts ${counts.other_contacts + counts.other_dossiers}`,
      ...(suppress ? [`suppressed ${counts.suppressed}`] : []),
      `leads with notes ${leadsWithNotes.length}`,
    ];
    stdout.write(`erase: ${parts.join(', ')}\n`);
  },
});
