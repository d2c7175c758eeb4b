import type { Pool, QueryResult, QueryResultRow } from 'pg';
import { BeaconError } from '../../errors/catalog.ts';

/**
 * SQLSTATE classes and socket errors that mean "the server is not there right now" rather than "this
 * statement is wrong": connection exceptions (08), operator intervention such as a shutdown or
 * restart (57P0x) or a statement cancelled, by the operator or by `statement_timeout` (57014), and
 * too many connections (53300).
 */
const UNAVAILABLE_STATES = /^(08|57P0[1-4]|57014|53300)/;
const UNAVAILABLE_SOCKET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
// `Query read timeout`: the client's query_timeout, when a statement went unanswered (a partition).
const UNAVAILABLE_TEXT =
  /Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Query read timeout/;

/** True when `err` says the database could not be reached, not that a statement failed. */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_STATES.test(code) || UNAVAILABLE_SOCKET.has(code)))
    return true;
  if (err instanceof AggregateError) return err.errors.some(isUnavailable);
  return UNAVAILABLE_TEXT.test(err.message);
}

/**
 * Turns an outage into `STORE_UNAVAILABLE` (503, retry in a second) with the driver's error as its
 * cause; any other error is returned unchanged, because it is a bug or bad data, not an outage.
 */
export function storeError(err: unknown): unknown {
  if (err instanceof BeaconError || !isUnavailable(err)) return err;
  return new BeaconError('STORE_UNAVAILABLE', `PostgreSQL is unavailable: ${(err as Error).message}`, {
    cause: err,
    retryAfter: 1,
  });
}

/**
 * A statement with options: `name` prepares it once per connection (the server then plans it no more
 * once it keeps a generic plan); `rowMode: 'array'` returns each row as an array of its columns.
 */
export interface QueryOptions {
  readonly name?: string;
  readonly text: string;
  readonly rowMode?: 'array';
}

/**
 * The one call readers make: a parameterized query, as text or with options. The smallest slice of
 * `pg` they depend on.
 */
export interface Queryable {
  query<R extends QueryResultRow>(text: string | QueryOptions, params?: unknown[]): Promise<QueryResult<R>>;
}

/** `pool.query` with outages reported as STORE_UNAVAILABLE. */
export function guarded(pool: Pool): Queryable {
  return {
    query: <R extends QueryResultRow>(text: string | QueryOptions, params?: unknown[]) =>
      (typeof text === 'string'
        ? pool.query<R>(text, params)
        : pool.query<R>({ ...text, values: params })
      ).catch((err: unknown) => {
        throw storeError(err);
      }),
  };
}
