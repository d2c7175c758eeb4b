import type { Pool, PoolClient } from 'pg';
import { isUnavailable } from './errors.ts';

/**
 * Runs `fn` on one connection in a transaction that first takes the advisory lock `lock`, so the same
 * work in other processes waits its turn. Commits when `fn` resolves; otherwise rolls back, discards
 * the connection and rethrows `fn`'s error.
 */
export async function lockedTransaction<T>(
  pool: Pool,
  lock: number,
  fn: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [lock]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failed = true;
    // The rollback's own failure would hide the reason; the connection is discarded below anyway.
    // On a connection that is gone or hung, it would only fail, or wait out the timeout again.
    if (!isUnavailable(err)) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release(failed);
  }
}
