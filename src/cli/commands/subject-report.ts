// An LGPD access request (art. 18): everything held on one person, as JSON on stdout, for the
// operator to answer the request with. The person's data goes to stdout only, never to the log.
import { subjectReport as reportOn } from '../../lifecycle/subject-report.ts';
import { suppressionKeyOf } from '../../lifecycle/suppression.ts';
import { defineCommand } from '../command.ts';
import { withDatabase } from '../database.ts';
import { SUBJECT_OPTIONS, subjectFrom, type SubjectInput } from '../subject.ts';

export const subjectReport = defineCommand<SubjectInput>({
  name: 'subject-report',
  summary: 'everything held on one person, as JSON (an LGPD access request)',
  synopsis: '--cpf <cpf> | --phone <phone> | --email <email>',
  details: `  Writes JSON to stdout: the person's records (attributes, contacts, addresses, companies,
  stored dossiers, the leads they were found for), the events and rejected input of their leads
  (with payloads still held), the notes posted on those leads, whether they are suppressed, and
  where each part comes from. Finds the person as \`erase\` would: the report shows what an
  erasure removes. Redirect it to a file: it holds personal data.`,
  options: SUBJECT_OPTIONS,
  parse: subjectFrom,
  async run({ kind, identifier }, context) {
    const report = await withDatabase(context, (db) =>
      reportOn(db, kind, identifier, suppressionKeyOf(context.config)),
    );
    context.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    context.stderr.write(
      `subject-report: ${report.people.length} people, ${report.events.length} events, ` +
        `${report.rejected_inputs.length} rejected inputs, ${report.notes.length} notes\n`,
    );
  },
});
