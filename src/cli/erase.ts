// `npm run erase -- --cpf 529.982.247-25 | --phone "(11) 98765-4321" | --email ana@example.com`
// Erases a data subject (LGPD): the person, their contacts and dossier, and the raw payloads of
// the leads they were found for. Prints what was erased, never the value itself.
import { parseArgs } from 'node:util';
import { environmentWithDotenv, loadConfig } from '../config.ts';
import { openDatabaseForCommand } from '../db/database.ts';
import { createPool } from '../db/pool.ts';
import { erasePerson, type ErasureKey } from '../enrichment/people-repository.ts';
import { createLogger } from '../log/logger.ts';
import { normaliseCpf } from '../people/cpf.ts';
import { normaliseEmail } from '../people/email.ts';
import { normalisePhone } from '../people/phone.ts';

const usage = 'usage: npm run erase -- --cpf <cpf> | --phone <phone> | --email <email>';

function keyFrom(args: string[]): ErasureKey | string {
  const { values } = parseArgs({
    args,
    options: { cpf: { type: 'string' }, phone: { type: 'string' }, email: { type: 'string' } },
  });
  const given = Object.entries(values).filter(([, value]) => value !== undefined);
  if (given.length !== 1) return usage;
  const [kind, value] = given[0] as [string, string];
  if (kind === 'cpf') {
    const cpf = normaliseCpf(value);
    return cpf ? { cpf } : 'that is not a valid CPF';
  }
  if (kind === 'phone') {
    const phone = normalisePhone(value);
    return phone ? { phone: phone.national } : 'that is not a valid Brazilian phone number';
  }
  const email = normaliseEmail(value);
  return email ? { email } : 'that is not a valid e-mail address';
}

const key = keyFrom(process.argv.slice(2));
if (typeof key === 'string') {
  process.stderr.write(`${key}\n`);
  process.exit(2);
}
const config = loadConfig(environmentWithDotenv());
const logger = createLogger('warn');
const server = await openDatabaseForCommand(config, logger);
const pool = createPool(
  {
    url: server.url,
    max: 2,
    connectTimeoutMs: config.database.connectTimeoutMs,
    statementTimeoutMs: config.database.statementTimeoutMs,
  },
  logger,
);
try {
  const erased = await erasePerson(pool, key);
  process.stdout.write(
    `erased ${erased.parties} person(s); scrubbed ${erased.events} event(s) of ${erased.leads} lead(s)\n`,
  );
} finally {
  await pool.end();
  await server.stop();
}
