import type pg from 'pg';

/** Runs `work` in one transaction on one connection; rolls back on any error. */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A connection lost mid-transaction also emits 'error' on the client, which the pool only
  // listens to while the client is idle: catch it here (the failing query reports it anyway).
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError; // the connection is gone: do not return it to the pool
    });
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
