import type { Migration, SqliteDatabase } from '../../sqlite/database.ts';
import type { TableUse } from '../storage.ts';

/** The connections of an open SQLite store, as a wing's repositories use them. */
export interface SqliteConnections {
  /** Read-only connection for queries: it never sees a write transaction half done. */
  readonly reader: SqliteDatabase;
  /** The one write connection. Use it outside transactions only through `serial`. */
  readonly writer: SqliteDatabase;
  /** Runs a write outside any transaction, after the transactions queued before it. */
  serial<T>(fn: () => T): Promise<T>;
}

/**
 * A domain's storage on SQLite: its part of the schema, its repositories (members of the opened
 * store) and its writers (members of every store transaction). `R` and `W` are objects whose keys
 * name the repositories and writers, e.g. `{ monitor: MonitorReader }`.
 */
export interface SqliteWing<R extends object, W extends object> {
  /** Its schema steps, with the store's shared version numbers (see `versionsOf`). */
  readonly migrations: readonly Migration[];
  repositories(connections: SqliteConnections): R;
  /** Made once per store, on the write connection; called only inside a store transaction. */
  writers(writer: SqliteDatabase): W;
  /** Its tables in a storage report; a table it leaves out is reported under its own name. */
  readonly storage?: readonly TableUse[];
}
