// Entry point: `npm start [-- --role=api|worker|all]`. Config → service; signals stop it in order.
import { environmentWithDotenv, loadConfig, type Config } from './config.ts';
import { ConfigError } from './errors.ts';
import { createLogger, flushLogs } from './log/logger.ts';
import { startService, type Role, type RunningService } from './service.ts';
import { suppressionKeyOf } from './lifecycle/suppression.ts';
import { ADMIN_TOKEN_FILE, generatedSecret, secretFile } from './webhooks/auth.ts';
import { ADMIN_PREFIX } from './admin/routes.ts';
import { DASHBOARD_PATH } from './dashboard/routes.ts';
import { WEBHOOK_PATH } from './webhooks/routes.ts';
import { ENRICHMENT_STEP_ORDER, enrichmentWorkflow } from './enrichment/workflow.ts';

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
  // Outside production a missing admin token is generated once and kept (never printed).
  const adminToken = config.adminToken ?? generatedSecret(config.dataDir, ADMIN_TOKEN_FILE).secret;
  service = await startService(config, logger, {
    role,
    secrets,
    workflow: enrichmentWorkflow,
    adminToken,
    suppressionKey: suppressionKeyOf(config),
    stepOrder: ENRICHMENT_STEP_ORDER,
  });
  if (stopping)
    await service.stop(); // a signal arrived while starting
  else if (role !== 'worker') {
    if (generated) announceHookUrl(service.address, generated);
    if (config.adminToken === undefined) announceAdmin(service.address);
  }
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
function publicBase(address: string): string {
  return (
    config.http.publicUrl ?? address.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://127.0.0.1')
  );
}

/** Where the operators' console is, and where its generated token is kept (the token is not printed). */
function announceAdmin(address: string): void {
  const base = publicBase(address);
  process.stdout.write(
    [
      `  Dashboard: ${base}${DASHBOARD_PATH} (admin API ${base}${ADMIN_PREFIX}, reference ${base}/docs).`,
      `  No ADMIN_TOKEN set: the token to sign in with is kept in ${secretFile(config.dataDir, ADMIN_TOKEN_FILE)}.`,
      '',
    ].join('\n') + '\n',
  );
}

function announceHookUrl(address: string, { secret, created }: { secret: string; created: boolean }): void {
  const base = publicBase(address);
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
