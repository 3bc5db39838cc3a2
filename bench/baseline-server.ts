// Baselines for the ingest benchmark, in the service's own stack (Fastify 5, pg):
//   naive: one plain INSERT … ON CONFLICT DO NOTHING of the payload per request (or one
//          multi-row INSERT per batch), answering 200: what the earlier service did, without a job;
//   bare:  the same route without the database: the HTTP ceiling of this machine.
// `node bench/baseline-server.ts naive|bare` with PORT and DB_URL; prints "ready" when listening.
import Fastify from 'fastify';
import pg from 'pg';

const mode = process.argv[2] === 'bare' ? 'bare' : 'naive';
const pool = mode === 'naive' ? new pg.Pool({ connectionString: process.env.DB_URL, max: 10 }) : undefined;
if (pool) {
  await pool.query(`CREATE TABLE IF NOT EXISTS naive_events (
    lead_id text NOT NULL, updated_at timestamptz NOT NULL, payload_raw jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (lead_id, updated_at))`);
}

const app = Fastify({ logger: false });
app.get('/health', async () => ({ status: 'ok' }));
app.post('/api/v1/webhooks/c2s', async (request) => {
  const body = request.body as Record<string, unknown> | Array<Record<string, unknown>>;
  const events = Array.isArray(body) ? body : [body];
  if (pool) {
    const values: unknown[] = [];
    const rows = events.map((event, n) => {
      const attributes = event.attributes as { updated_at: string };
      values.push(event.id, attributes.updated_at, JSON.stringify(event));
      return `($${n * 3 + 1}, $${n * 3 + 2}, $${n * 3 + 3})`;
    });
    await pool.query(
      `INSERT INTO naive_events (lead_id, updated_at, payload_raw) VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING`,
      values,
    );
  }
  return { status: 'received', received: events.length };
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => pool?.end())
    .then(() => process.exit(0));
});
