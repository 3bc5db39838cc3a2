import type { Config } from '../config.ts';
import type { Logger } from '../log/logger.ts';
import { startEmbeddedDatabase } from './embedded.ts';

export interface DatabaseServer {
  readonly url: string;
  readonly embedded: boolean;
  stop(): Promise<void>;
}

/** The configured PostgreSQL, or an embedded one in the data directory when none is configured. */
export async function openDatabaseServer(config: Config, logger: Logger): Promise<DatabaseServer> {
  if (config.database.url !== undefined) {
    return { url: config.database.url, embedded: false, stop: async () => {} };
  }
  const embedded = await startEmbeddedDatabase({ dataDir: config.dataDir, logger });
  return { url: embedded.url, embedded: true, stop: () => embedded.stop() };
}
