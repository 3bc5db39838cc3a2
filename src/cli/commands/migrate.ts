import pg from 'pg';
import { openDatabaseForCommand } from '../../db/database.ts';
import { migrate as applyMigrations } from '../../db/migrate.ts';
import { defineCommand } from '../command.ts';

export const migrate = defineCommand<void>({
  name: 'migrate',
  summary: 'apply pending database migrations',
  synopsis: '',
  parse: () => undefined,
  async run(_, context) {
    const { config, logger, stdout } = context;
    const server = await openDatabaseForCommand(config, logger);
    // A client of its own, not the pool: a migration may run longer than the statement timeout.
    const client = new pg.Client({ connectionString: server.url });
    try {
      await client.connect();
      const applied = await applyMigrations(client, logger);
      stdout.write(applied.length > 0 ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    } finally {
      await client.end();
      await server.stop();
    }
  },
});
