// Composition root: config → database (url | embedded) → migrate → HTTP; signals drain in order.
import pg from 'pg';
import { environmentWithDotenv, loadConfig, type Config } from './config.ts';
import { openDatabaseServer, type DatabaseServer } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { createPool } from './db/pool.ts';
import { ConfigError } from './errors.ts';
import { buildApp } from './http/app.ts';
import { createLogger, type Logger } from './log/logger.ts';
import { createMetrics } from './metrics.ts';
import { generatedSecret } from './webhooks/auth.ts';
import { WEBHOOK_PATH } from './webhooks/routes.ts';

/** How long a graceful stop may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 20_000;

let config: Config;
try {
  config = loadConfig(environmentWithDotenv());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`c2s-enricher cannot start: ${error.message}\n`);
  process.exit(78); // EX_CONFIG
}

const logger = createLogger(config.log.level);
const stops: Array<{ name: string; stop: () => Promise<unknown> }> = [];
let stopping = false;

process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  await start(config, logger);
} catch (error) {
  logger.fatal(
    { err: { message: (error as Error).message, code: (error as { code?: string }).code } },
    'startup failed',
  );
  await shutdown('startup failure', 1);
}

async function start(config: Config, logger: Logger): Promise<void> {
  const secrets =
    config.webhook.secrets.length > 0 ? config.webhook.secrets : [generatedSecret(config.dataDir)];

  const server: DatabaseServer = await openDatabaseServer(config, logger);
  stops.unshift({ name: 'database server', stop: () => server.stop() });

  const migrator = new pg.Client({
    connectionString: server.url,
    connectionTimeoutMillis: config.database.connectTimeoutMs,
  });
  try {
    await migrator.connect();
    await migrate(migrator, logger);
  } finally {
    await migrator.end();
  }

  const db = createPool(
    { url: server.url, max: config.database.poolMax, connectTimeoutMs: config.database.connectTimeoutMs },
    logger,
  );
  stops.unshift({ name: 'database pool', stop: () => db.end() });

  const app = await buildApp({
    db,
    logger,
    metrics: createMetrics(),
    webhook: { ...config.webhook, secrets },
  });
  stops.unshift({ name: 'http server', stop: () => app.close() });
  const address = await app.listen({ host: config.http.host, port: config.http.port });

  logger.info(
    { address, embeddedDatabase: server.embedded, production: config.production },
    'c2s-enricher ready',
  );
  if (config.webhook.secrets.length === 0) announceHookUrl(address, secrets[0]!);
}

/**
 * Outside production with a generated secret, the operator needs the full hook URL to give C2S.
 * It goes to stdout as a plain banner, deliberately not through the structured log.
 */
function announceHookUrl(address: string, secret: string): void {
  const base =
    config.http.publicUrl ?? address.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://127.0.0.1');
  process.stdout.write(
    [
      '',
      '  No WEBHOOK_SECRET set: generated one and kept it in the data directory.',
      '  Give C2S this hook URL (it carries the secret):',
      `    ${base}${WEBHOOK_PATH}?token=${secret}`,
      '',
    ].join('\n') + '\n',
  );
}

/** Stops in reverse order of start: HTTP (finishing requests in flight), pool, database server. */
async function shutdown(reason: string, exitCode = 0): Promise<void> {
  if (stopping) {
    logger.warn({ reason }, 'second signal: exiting now');
    process.exit(130);
  }
  stopping = true;
  logger.info({ reason }, 'shutting down');
  setTimeout(() => {
    logger.error('graceful shutdown took too long: exiting');
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  for (const { name, stop } of stops) {
    try {
      await stop();
    } catch (error) {
      logger.warn({ component: name, err: { message: (error as Error).message } }, 'error while stopping');
    }
  }
  logger.info('stopped');
  process.exit(exitCode);
}
