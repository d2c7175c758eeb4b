import type { Pool, PoolClient } from 'pg';
import { isUnavailable } from './errors.ts';

/** A connection checked out of the pool for several statements; `release(true)` discards it. */
export interface CheckedOut {
  readonly client: PoolClient;
  readonly release: (discard: boolean) => void;
}

/**
 * Checks a connection out of `pool`. While it is out the pool no longer listens for its 'error'
 * event, which a connection lost between two statements emits (PostgreSQL restarting, the network
 * dropping it): unheard, that event would crash the process. Heard here it is dropped, because the
 * statement running fails with the same error, or the next one with "not queryable", and the caller
 * treats either as an outage; the pool never takes a dead connection back.
 */
export async function checkOut(pool: Pool): Promise<CheckedOut> {
  const client = await pool.connect();
  const heard = (): void => undefined;
  client.on('error', heard);
  return {
    client,
    release: (discard) => {
      client.removeListener('error', heard);
      client.release(discard);
    },
  };
}

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
  const { client, release } = await checkOut(pool);
  let failed = false;
  try {
    return await lockedTransactionOn(client, lock, fn);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    release(failed);
  }
}

/**
 * The same on a connection the caller holds (one with session state of its own, such as a TEMP
 * table): commits when `fn` resolves; otherwise rolls back and rethrows, and the caller decides what
 * becomes of the connection.
 */
export async function lockedTransactionOn<T>(
  client: PoolClient,
  lock: number,
  fn: (client: PoolClient) => Promise<T>,
): Promise<T> {
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [lock]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // The rollback's own failure would hide the reason; the connection is discarded anyway. On a
    // connection that is gone or hung, it would only fail, or wait out the timeout again.
    if (!isUnavailable(err)) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
