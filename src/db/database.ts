import type { Config } from '../config.ts';
import type { Logger } from '../log/logger.ts';
import { readRuntime } from '../runtime.ts';
import { runningEmbeddedUrl, startEmbeddedDatabase } from './embedded.ts';

export interface DatabaseServer {
  readonly url: string;
  /** The embedded server's port when this process runs it. */
  readonly embeddedPort: number | null;
  stop(): Promise<void>;
}

/** The configured PostgreSQL, or an embedded one in the data directory when none is configured. */
export async function openDatabaseServer(config: Config, logger: Logger): Promise<DatabaseServer> {
  if (config.database.url !== undefined) {
    return { url: config.database.url, embeddedPort: null, stop: async () => {} };
  }
  const embedded = await startEmbeddedDatabase({ dataDir: config.dataDir, logger });
  return { url: embedded.url, embeddedPort: embedded.port, stop: () => embedded.stop() };
}

/**
 * For operator commands: the configured database, else the embedded one of the service running
 * on this data directory, else an embedded server started for the command.
 */
export async function openDatabaseForCommand(config: Config, logger: Logger): Promise<DatabaseServer> {
  const running = config.database.url === undefined ? readRuntime(config.dataDir) : null;
  if (running?.embeddedDatabasePort) {
    return {
      url: runningEmbeddedUrl(config.dataDir, running.embeddedDatabasePort),
      embeddedPort: null,
      stop: async () => {},
    };
  }
  return openDatabaseServer(config, logger);
}
