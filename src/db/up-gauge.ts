import { Gauge } from 'prom-client';
import type pg from 'pg';
import type { Metrics } from '../metrics.ts';
import { STATE_GAUGES_MAX_AGE_MS } from '../workflow/gauges.ts';
import { sharedRead } from './shared-read.ts';

/**
 * The database is asked at most this often; scrapes in between share the answer. As often as the
 * state gauges read it: an alert on `database_up` waits minutes anyway, and a scrape flood must
 * cost the database next to nothing.
 */
const DATABASE_UP_MAX_AGE_MS = STATE_GAUGES_MAX_AGE_MS;

/**
 * `database_up`: 1 when this process's database answered a trivial query at scrape time, else 0.
 * Read through `db`, which should be the health pool (short connect and statement timeouts), so a
 * scrape answers quickly and never takes a worker's connection. Every process exports it, so an
 * alert tells a database that is down for all of them from one process cut off from it.
 */
export function registerDatabaseGauge(
  metrics: Metrics,
  db: pg.Pool,
  maxAgeMs = DATABASE_UP_MAX_AGE_MS,
): void {
  const ping = sharedRead(async () => {
    await db.query({ name: 'database-up', text: 'SELECT 1' });
  }, maxAgeMs);
  new Gauge({
    name: 'database_up',
    help: 'Whether the database answered this process at the last scrape (1) or not (0).',
    registers: [metrics.registry],
    async collect() {
      this.set(
        await ping().then(
          () => 1,
          () => 0,
        ),
      );
    },
  });
}
