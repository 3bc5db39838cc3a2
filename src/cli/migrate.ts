// `npm run migrate`: applies pending migrations to the configured (or embedded) database and exits.
import pg from 'pg';
import { environmentWithDotenv, loadConfig } from '../config.ts';
import { openDatabaseForCommand } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { ConfigError } from '../errors.ts';
import { createLogger } from '../log/logger.ts';

try {
  const config = loadConfig(environmentWithDotenv());
  const logger = createLogger(config.log.level);
  const server = await openDatabaseForCommand(config, logger);
  const client = new pg.Client({ connectionString: server.url });
  try {
    await client.connect();
    const applied = await migrate(client, logger);
    process.stdout.write(
      applied.length > 0 ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n',
    );
  } finally {
    await client.end();
    await server.stop();
  }
} catch (error) {
  process.stderr.write(
    `migrate failed: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`,
  );
  process.exitCode = 1;
}
