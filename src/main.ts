// Entry point: `npm start [-- --role=api|worker|all]`. Config → service; signals stop it in order.
import { environmentWithDotenv, loadConfig, type Config } from './config.ts';
import { ConfigError } from './errors.ts';
import { createLogger, flushLogs } from './log/logger.ts';
import { startService, type Role, type RunningService } from './service.ts';
import { generatedSecret, secretFile } from './webhooks/auth.ts';
import { WEBHOOK_PATH } from './webhooks/routes.ts';
import { enrichmentWorkflow } from './enrichment/workflow.ts';

/** How long a graceful stop may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 30_000;
const ROLES: readonly Role[] = ['api', 'worker', 'all'];

let config: Config;
let role: Role;
try {
  config = loadConfig(environmentWithDotenv());
  role = parseRole(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`c2s-enricher cannot start: ${error.message}\n`);
  process.exit(78); // EX_CONFIG
}

const logger = createLogger(config.log.level);
let service: RunningService | undefined;
let stopping = false;
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  const generated = config.webhook.secrets.length > 0 ? undefined : generatedSecret(config.dataDir);
  const secrets = generated ? [generated.secret] : config.webhook.secrets;
  service = await startService(config, logger, { role, secrets, workflow: enrichmentWorkflow });
  if (stopping)
    await service.stop(); // a signal arrived while starting
  else if (generated && role !== 'worker') announceHookUrl(service.address, generated);
} catch (error) {
  logger.fatal({ err: error }, 'startup failed');
  process.exit(1);
}

function parseRole(args: readonly string[]): Role {
  const given = args.find((arg) => arg.startsWith('--role='))?.slice('--role='.length) ?? 'all';
  if (!ROLES.includes(given as Role))
    throw new ConfigError([`--role must be one of ${ROLES.join(', ')} (got "${given}")`]);
  return given as Role;
}

/**
 * Outside production with a generated secret, the operator needs the full hook URL to give C2S.
 * It goes to stdout as a plain banner, deliberately not through the structured log.
 */
function announceHookUrl(address: string, { secret, created }: { secret: string; created: boolean }): void {
  const base =
    config.http.publicUrl ?? address.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://127.0.0.1');
  process.stdout.write(
    [
      '',
      created
        ? '  No WEBHOOK_SECRET set: generated one and kept it in the data directory.'
        : `  No WEBHOOK_SECRET set: using the one kept in ${secretFile(config.dataDir)}.`,
      '  Give C2S this hook URL (it carries the secret):',
      `    ${base}${WEBHOOK_PATH}?token=${secret}`,
      '',
    ].join('\n') + '\n',
  );
}

async function shutdown(reason: string): Promise<void> {
  if (stopping) {
    logger.warn({ reason }, 'second signal: exiting now');
    flushLogs();
    process.exit(130);
  }
  stopping = true;
  logger.info({ reason }, 'shutting down');
  setTimeout(() => {
    logger.error('graceful shutdown took too long: exiting');
    flushLogs();
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  await service?.stop();
  logger.info('stopped');
  flushLogs();
  process.exit(0);
}
