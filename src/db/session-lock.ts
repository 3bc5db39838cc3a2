import type pg from 'pg';

/**
 * Runs `work` on a connection of its own holding the session advisory lock `key`, or answers
 * `locked: false` at once when someone else holds it: one job of a kind at a time across every
 * process. The lock lives with the connection, so a process that dies lets go of it. Any failure
 * closes the connection instead of returning it to the pool: the server then rolls back whatever
 * was open and drops the lock, which a pooled connection would otherwise keep holding.
 */
export async function withSessionLock<T>(
  db: pg.Pool,
  key: number,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<{ readonly locked: true; readonly value: T } | { readonly locked: false }> {
  const client = await db.connect();
  let broken: Error | boolean = false;
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      key,
    ]);
    if (rows[0]?.locked !== true) return { locked: false };
    const value = await work(client);
    await client.query('SELECT pg_advisory_unlock($1)', [key]);
    return { locked: true, value };
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
