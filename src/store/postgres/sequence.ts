import type { PoolClient, QueryResultRow } from 'pg';
import type { Queryable, QueryOptions } from './errors.ts';

/** A transaction's connection that runs one thing at a time, in the order asked. */
export interface Sequence extends Queryable {
  /**
   * Runs `fn` with the connection to itself: nothing else queued here starts until it settles. `fn`
   * uses the client directly (a COPY, several statements that belong together), never the sequence.
   */
  run<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
}

/**
 * A transaction's connection as a queue. Readers called together (`Promise.all`, which on the pool
 * runs them on several connections) would otherwise issue overlapping queries on the one connection
 * of a transaction, which `pg` deprecates (it will stop queueing them in pg 9); here they wait their
 * turn, each after the one before has settled, failed or not.
 */
export function sequence(client: PoolClient): Sequence {
  let tail: Promise<unknown> = Promise.resolve();
  const run = <T>(fn: (client: PoolClient) => Promise<T>): Promise<T> => {
    const next = tail.then(() => fn(client));
    tail = next.catch(() => undefined);
    return next;
  };
  return {
    run,
    query: <R extends QueryResultRow>(text: string | QueryOptions, params?: unknown[]) =>
      run((c) =>
        typeof text === 'string' ? c.query<R>(text, params) : c.query<R>({ ...text, values: params }),
      ),
  };
}
